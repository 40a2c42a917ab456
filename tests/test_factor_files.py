"""Loaders of user-supplied ground-truth data files, each on a tiny file of the same format."""

import numpy as np
import pytest

from lib.data import Cars3DFiles, DataError, Shapes3DFile, SmallNORBFiles
from lib.data.dsprites import flat_index
from lib.data.factor_files import NORB_CHUNKS, read_norb_matrix
from lib.errors import ParameterError


def test_shapes3d_file_is_read_in_its_order(tmp_path):
    h5py = pytest.importorskip("h5py")
    sizes = (2, 2, 1, 2, 2, 3)
    n = int(np.prod(sizes))
    images = np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones(
        (1, 64, 64, 3), dtype=np.uint8
    )
    path = tmp_path / "3dshapes.h5"
    with h5py.File(path, "w") as handle:
        handle["images"] = images
        handle["labels"] = np.zeros((n, 6))
    data = Shapes3DFile(path, factor_sizes=sizes)
    factors = np.array([[1, 0, 0, 1, 1, 2], [0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 1, 2]])
    out = data.render(factors)
    assert out.shape == (3, 3, 64, 64) and out.dtype == np.float32
    expected = flat_index(factors, sizes) / 255.0
    np.testing.assert_allclose(out[:, 0, 0, 0], expected, rtol=1e-6)
    with pytest.raises(DataError, match="expected images"):
        Shapes3DFile(path)  # the official sizes do not fit this file
    with pytest.raises(DataError, match="not found"):
        Shapes3DFile(tmp_path / "none.h5")
    with pytest.raises(DataError, match="md5"):
        Shapes3DFile(path, verify=True, factor_sizes=sizes)


def test_cars3d_mesh_files_are_indexed_by_elevation_azimuth_object(tmp_path):
    from scipy.io import savemat

    for obj in range(2):
        im = np.zeros((128, 128, 3, 24, 4), dtype=np.uint8)
        for azimuth in range(24):
            for elevation in range(4):
                im[:, :, 0, azimuth, elevation] = (
                    10 * elevation + azimuth
                )  # red codes factors
                im[:, :, 1, azimuth, elevation] = 100 + obj
        savemat(tmp_path / f"car_{obj:03d}_mesh.mat", {"im": im})
    data = Cars3DFiles(tmp_path)
    assert data.factor_sizes == (4, 24, 2) and len(data) == 192
    factors = np.array([[3, 5, 1], [0, 23, 0]])
    out = data.render(factors)
    assert out.shape == (2, 3, 64, 64)
    np.testing.assert_allclose(out[:, 0, 10, 10] * 255, [35, 23], atol=1e-4)
    np.testing.assert_allclose(out[:, 1, 10, 10] * 255, [101, 100], atol=1e-4)
    with pytest.raises(DataError, match="no Cars3D"):
        Cars3DFiles(tmp_path / "empty")


def _write_norb(path, array, magic):
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    header = np.array([magic, array.ndim, *dims], dtype="<i4")
    path.write_bytes(header.tobytes() + array.tobytes())


def test_small_norb_binary_matrices_and_factors(tmp_path):
    rows = []
    for chunk, instances in zip(NORB_CHUNKS, [(4, 6), (0, 1)]):
        combos = np.array(
            [(c, i, e, 2 * a, light) for c in range(5) for i in instances
             for e in range(9) for a in range(18) for light in range(6)]
        )  # fmt: skip
        dat = np.zeros((len(combos), 2, 8, 8), dtype=np.uint8)
        dat[:, 0] = (combos[:, 2] * 20 + combos[:, 4])[
            :, None, None
        ]  # elevation, lighting
        _write_norb(tmp_path / f"{chunk}-dat.mat", dat, 507333717)
        _write_norb(
            tmp_path / f"{chunk}-cat.mat", combos[:, 0].astype("<i4"), 507333716
        )
        _write_norb(
            tmp_path / f"{chunk}-info.mat", combos[:, 1:].astype("<i4"), 507333716
        )
        rows.append(combos)
    assert read_norb_matrix(tmp_path / f"{NORB_CHUNKS[0]}-dat.mat").shape[1:] == (
        2,
        8,
        8,
    )
    data = SmallNORBFiles(tmp_path, seed=0)
    assert data.factor_sizes == (5, 9, 18, 6) and len(data) == sum(map(len, rows))
    factors = np.array([[4, 8, 17, 5], [0, 1, 0, 2]])
    out = data.render(factors)
    assert out.shape == (2, 1, 64, 64) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0, 30, 30] * 255, [8 * 20 + 5, 20 + 2], atol=1e-3)
    truncated = tmp_path / "t.mat"
    truncated.write_bytes((tmp_path / f"{NORB_CHUNKS[0]}-dat.mat").read_bytes()[:100])
    with pytest.raises(DataError, match="truncated"):
        read_norb_matrix(truncated)
    with pytest.raises(DataError, match="missing"):
        SmallNORBFiles(tmp_path / "nothing")


# --------------------------------------------------------------------------------------------
# bad input at the door (issue 27): a bad file is a DataError naming it, a bad argument a
# ParameterError naming it, never a raw NumPy, SciPy, PIL or h5py error, never a wrong answer
# --------------------------------------------------------------------------------------------
SMALL_SHAPES3D = (2, 1, 1, 1, 2, 3)  # 12 images


def _write_shapes3d(path, images=None):
    h5py = pytest.importorskip("h5py")
    n = int(np.prod(SMALL_SHAPES3D))
    if images is None:
        images = np.full((n, 64, 64, 3), 200, dtype=np.uint8)
    with h5py.File(path, "w") as handle:
        handle["images"] = images
    return path


@pytest.mark.parametrize(
    "images, words",
    [
        (np.full((12, 64, 64, 3), 0.7), ["float64", "uint8"]),  # rendered black before
        (np.full((12, 64, 64, 3), 0.7, np.float32), ["float32", "uint8"]),
        (np.zeros((12, 32, 32, 3), np.uint8), ["(12, 64, 64, 3)", "(12, 32, 32, 3)"]),
        (np.zeros((12, 64, 64, 1), np.uint8), ["(12, 64, 64, 3)", "(12, 64, 64, 1)"]),
        (np.zeros((12, 64, 64), np.uint8), ["(12, 64, 64, 3)"]),
    ],
)
def test_shapes3d_refuses_images_that_are_not_uint8_64x64_rgb(tmp_path, images, words):
    path = _write_shapes3d(tmp_path / "3dshapes.h5", images)
    with pytest.raises(DataError) as info:
        Shapes3DFile(path, factor_sizes=SMALL_SHAPES3D)
    for word in [str(path), *words]:
        assert word in str(info.value)


def test_shapes3d_refuses_a_group_bad_sizes_and_renders_an_empty_batch(tmp_path):
    h5py = pytest.importorskip("h5py")
    group = tmp_path / "group.h5"
    with h5py.File(group, "w") as handle:
        handle.create_group("images")
    with pytest.raises(DataError, match="dataset"):
        Shapes3DFile(group, factor_sizes=SMALL_SHAPES3D)
    path = _write_shapes3d(tmp_path / "3dshapes.h5")
    for sizes in [(2, 1, 1, 1, 2), (2, 1, 1, 1, 2, 0), (2, 1, 1, 1, 2, 3.0), "abc"]:
        with pytest.raises(ParameterError, match="factor_sizes"):
            Shapes3DFile(path, factor_sizes=sizes)
    with pytest.raises(ParameterError, match="verify"):
        Shapes3DFile(path, verify="no", factor_sizes=SMALL_SHAPES3D)
    data = Shapes3DFile(path, factor_sizes=SMALL_SHAPES3D)
    empty = data.render(np.zeros((0, 6), dtype=int))
    assert empty.shape == (0, 3, 64, 64) and empty.dtype == np.float32
    out = data.render(np.array([[1, 0, 0, 0, 1, 2]]))
    np.testing.assert_allclose(out, 200 / 255, rtol=1e-6)


def _write_cars(folder, im):
    from scipy.io import savemat

    folder.mkdir(exist_ok=True)
    savemat(folder / "car_000_mesh.mat", {"im": im})
    return folder / "car_000_mesh.mat"


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", ["readable"]),  # zero bytes: a raw MatReadError before
        (b"not a mat file" * 20, ["readable"]),
        (np.zeros((128, 128, 3, 24, 4)), ["float64", "uint8"]),  # a raw PIL TypeError
        (np.zeros((128, 64, 3, 24, 4), np.uint8), ["(128, 64, 3, 24, 4)"]),
        (np.zeros((32, 32, 3, 24, 4), np.uint8), ["(32, 32, 3, 24, 4)"]),
        (np.zeros((128, 128, 3, 24), np.uint8), ["(128, 128, 3, 24)"]),
    ],
)
def test_cars3d_bad_mesh_files_are_data_errors_naming_the_file(
    tmp_path, content, words
):
    folder = tmp_path / "cars"
    if isinstance(content, bytes):
        folder.mkdir()
        path = folder / "car_000_mesh.mat"
        path.write_bytes(content)
    else:
        path = _write_cars(folder, content)
    with pytest.raises(DataError) as info:
        Cars3DFiles(folder)
    for word in [str(path), *words]:
        assert word in str(info.value)


def test_cars3d_mesh_without_im_and_a_bad_folder_argument(tmp_path):
    from scipy.io import savemat

    folder = tmp_path / "cars"
    folder.mkdir()
    savemat(folder / "car_mesh.mat", {"image": np.zeros((2, 2), np.uint8)})
    with pytest.raises(DataError, match="'im'"):
        Cars3DFiles(folder)
    with pytest.raises(ParameterError, match="folder"):
        Cars3DFiles(3)


@pytest.fixture(scope="module")
def norb_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("norb")
    for chunk, instances in zip(NORB_CHUNKS, [(4, 6), (0, 1)]):
        combos = np.array(
            [(c, i, e, 2 * a, light) for c in range(5) for i in instances
             for e in range(9) for a in range(18) for light in range(6)]
        )  # fmt: skip
        dat = np.zeros((len(combos), 2, 8, 8), dtype=np.uint8)
        dat[:, 0] = (combos[:, 0] * 40 + combos[:, 2])[:, None, None]
        _write_norb(folder / f"{chunk}-dat.mat", dat, 507333717)
        cat = combos[:, 0].astype("<i4")
        _write_norb(folder / f"{chunk}-cat.mat", cat, 507333716)
        info = combos[:, 1:].astype("<i4")
        _write_norb(folder / f"{chunk}-info.mat", info, 507333716)
    return folder


@pytest.fixture(scope="module")
def norb(norb_folder):
    return SmallNORBFiles(norb_folder)


@pytest.mark.parametrize(
    "factors, words",
    [
        ([[0, 9, 0, 0]], ["elevation", "0..8", "9"]),
        ([[7, 0, 0, 0]], ["category", "0..4", "7"]),
        ([[-1, 0, 0, 0]], ["category", "0..4", "-1"]),
        ([[0, 0, 18, 0]], ["azimuth", "0..17", "18"]),
        ([[0, 0, 0, 6]], ["lighting", "0..5", "6"]),
    ],
)
def test_small_norb_factor_out_of_range_names_factor_range_and_value(
    norb, factors, words
):
    with pytest.raises(ParameterError) as info:
        norb.render(np.array(factors))
    for word in words:
        assert word in str(info.value)


def test_small_norb_renders_the_category_and_elevation_asked_for(norb):
    factors = np.array([[c, e, 3, 2] for c in range(5) for e in (0, 8)])
    out = norb.render(factors)
    assert out.shape == (10, 1, 64, 64) and out.dtype == np.float32
    expected = (factors[:, 0] * 40 + factors[:, 1]) / 255
    np.testing.assert_allclose(out[:, 0, 30, 30], expected, atol=1e-6)


def _copy_norb(source, target):
    target.mkdir()
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.mark.parametrize(
    "part, change, words",
    [
        ("info", lambda a: np.where(a == 8, 9, a), ["elevation", "0..8", "9"]),
        ("info", lambda a: a[:, :3], ["(N, 4)"]),
        ("info", lambda a: np.where(a == 34, 35, a), ["azimuth", "35"]),
        ("info", lambda a: np.where(a == 5, -1, a), ["-1"]),
        ("cat", lambda a: np.where(a == 4, 5, a), ["category", "0..4", "5"]),
        ("cat", lambda a: a[:-1], ["agree"]),
        ("dat", lambda a: a[:, :0], ["camera"]),
        ("dat", lambda a: a.astype(np.int32), ["uint8", "int32"]),
    ],
)
def test_small_norb_bad_files_are_data_errors(
    norb_folder, tmp_path, part, change, words
):
    folder = _copy_norb(norb_folder, tmp_path / "norb")
    path = folder / f"{NORB_CHUNKS[0]}-{part}.mat"
    array = change(read_norb_matrix(path))
    magic = 507333717 if array.dtype == np.uint8 else 507333716
    _write_norb(path, np.ascontiguousarray(array), magic)
    with pytest.raises(DataError) as info:
        SmallNORBFiles(folder)
    for word in words:
        assert word in str(info.value)


def test_small_norb_missing_combinations_are_refused_at_load(norb_folder, tmp_path):
    folder = _copy_norb(norb_folder, tmp_path / "norb")
    parts = {p: folder / f"{NORB_CHUNKS[0]}-{p}.mat" for p in ("dat", "cat", "info")}
    arrays = {p: read_norb_matrix(path) for p, path in parts.items()}
    for p, magic in (("dat", 507333717), ("cat", 507333716), ("info", 507333716)):
        _write_norb(parts[p], np.ascontiguousarray(arrays[p][1:]), magic)
    with pytest.raises(DataError, match="missing"):
        SmallNORBFiles(folder)
    for p, magic in (("dat", 507333717), ("cat", 507333716), ("info", 507333716)):
        twice = np.concatenate([arrays[p], arrays[p][:1]])
        _write_norb(parts[p], twice, magic)
    with pytest.raises(DataError, match="twice"):
        SmallNORBFiles(folder)


def test_norb_matrix_headers_are_checked(tmp_path):
    path = tmp_path / "m.mat"
    with pytest.raises(DataError, match="not found"):
        read_norb_matrix(path)
    for header, words in [
        ([507333716, 40, 1, 1, 1], "ndim"),  # a huge ndim read garbage before
        ([507333716, 1, -3, 1, 1], "-3"),
        ([507333716, 0, 1, 1, 1], "ndim"),
    ]:
        path.write_bytes(np.array(header, "<i4").tobytes() + b"\0" * 16)
        with pytest.raises(DataError, match=words):
            read_norb_matrix(path)
    path.write_bytes(np.array([507333716, 1, 3, 1, 1], "<i4").tobytes() + b"\0" * 10)
    with pytest.raises(DataError, match="truncated"):  # a raw NumPy error before
        read_norb_matrix(path)
    path.write_bytes(np.array([507333716, 1, 3, 1, 1], "<i4").tobytes() + b"\0" * 16)
    with pytest.raises(DataError, match="extra"):
        read_norb_matrix(path)


def test_small_norb_arguments_are_checked(norb_folder):
    with pytest.raises(ParameterError, match="seed"):
        SmallNORBFiles(norb_folder, seed=-1)
    with pytest.raises(ParameterError, match="seed"):
        SmallNORBFiles(norb_folder, seed=1.5)
    with pytest.raises(ParameterError, match="chunks"):
        SmallNORBFiles(norb_folder, chunks=NORB_CHUNKS[0])  # a string, not a list
    with pytest.raises(ParameterError, match="chunks"):
        SmallNORBFiles(norb_folder, chunks=())
