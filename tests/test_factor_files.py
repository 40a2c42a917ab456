"""Loaders of user-supplied ground-truth data files, each on a tiny file of the same format."""

import numpy as np
import pytest

from lib.data import Cars3DFiles, DataError, Shapes3DFile, SmallNORBFiles
from lib.data.dsprites import flat_index
from lib.data.factor_files import NORB_CHUNKS, read_norb_matrix


def test_shapes3d_file_is_read_in_its_order(tmp_path):
    h5py = pytest.importorskip("h5py")
    sizes = (2, 2, 1, 2, 2, 3)
    n = int(np.prod(sizes))
    images = np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones(
        (1, 4, 4, 3), dtype=np.uint8
    )
    path = tmp_path / "3dshapes.h5"
    with h5py.File(path, "w") as handle:
        handle["images"] = images
        handle["labels"] = np.zeros((n, 6))
    data = Shapes3DFile(path, factor_sizes=sizes)
    factors = np.array([[1, 0, 0, 1, 1, 2], [0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 1, 2]])
    out = data.render(factors)
    assert out.shape == (3, 3, 4, 4) and out.dtype == np.float32
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
