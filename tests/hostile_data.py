"""Bad inputs for the data layer of ``lib`` (see ``tests/hostile.py``).

The loaders of user-supplied files (:mod:`lib.data.dsprites`, :mod:`lib.data.factor_files`)
and the samplers, each given one bad argument or one corrupt file. Files are small synthetic
ones of the official formats, written into one ``tempfile.mkdtemp()`` folder when a case runs
(the writers below are also used by ``tests/test_data_properties.py``).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hostile import Case

TINY_DSPRITES = (3, 2, 2, 2, 2)  # 48 images
TINY_SHAPES3D = (2, 1, 1, 1, 2, 3)  # 12 images
NORB_CHUNK = "tiny-norb"  # one chunk, one instance per category: 4,860 images of 4x4
NORB_MAGIC = {np.dtype(np.uint8): 507333717, np.dtype("<i4"): 507333716}


@functools.cache
def workdir() -> Path:
    """One temporary folder for every file the cases write, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="hostile_data_"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def fresh(name: str) -> Path:
    """A new empty folder ``name`` (numbered if taken) under :func:`workdir`."""
    for i in range(10_000):
        folder = workdir() / f"{name}-{i}"
        if not folder.exists():
            folder.mkdir()
            return folder
    raise RuntimeError("no free folder name")


# --------------------------------------------------------------------------------------------
# writers of small files of the official formats
# --------------------------------------------------------------------------------------------
def dsprites_arrays(sizes=TINY_DSPRITES) -> dict[str, np.ndarray]:
    """``imgs`` (N, 64, 64) uint8 in {0, 1} and ``latents_classes`` (N, 6) of a full grid."""
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1)
    classes = grid.reshape(-1, len(sizes))
    latents = np.concatenate([np.zeros((len(classes), 1), np.int64), classes], 1)
    images = np.zeros((len(classes), 64, 64), np.uint8)
    for i, row in enumerate(classes):  # a square whose place codes the row
        images[i, 2 * row[3] : 2 * row[3] + 8, 2 * row[4] : 2 * row[4] + 8] = 1
    return {"imgs": images, "latents_classes": latents}


def write_dsprites(
    path: Path | None = None, compressed: bool = False, **arrays
) -> Path:
    """A dSprites npz at ``path``: :func:`dsprites_arrays` with ``arrays`` replaced."""
    path = path or fresh("dsprites") / "d.npz"
    contents = {**dsprites_arrays(), **arrays}
    contents = {k: v for k, v in contents.items() if v is not None}
    (np.savez_compressed if compressed else np.savez)(path, **contents)
    return path


def write_shapes3d(path: Path | None = None, images: np.ndarray | None = None) -> Path:
    """A 3dshapes.h5 of :data:`TINY_SHAPES3D` (pixel = 10 * flat index by default)."""
    import h5py

    path = path or fresh("shapes3d") / "3dshapes.h5"
    if images is None:
        n = int(np.prod(TINY_SHAPES3D))
        images = (
            np.ones((n, 64, 64, 3), np.uint8)
            * (10 * np.arange(n, dtype=np.uint8))[:, None, None, None]
        )
    with h5py.File(path, "w") as handle:
        handle["images"] = images
    return path


def write_cars(
    folder: Path | None = None, im: np.ndarray | bytes | None = None
) -> Path:
    """A Cars3D folder of one mesh file (``im`` an array, or raw bytes for the file)."""
    from scipy.io import savemat

    folder = folder or fresh("cars")
    path = folder / "car_000_mesh.mat"
    if isinstance(im, bytes):
        path.write_bytes(im)
    else:
        if im is None:
            im = np.zeros((64, 64, 3, 24, 4), np.uint8)
            im[:, :, 0] = (np.arange(24)[:, None] * 4 + np.arange(4))[None, None]
        savemat(path, {"im": im})
    return folder


def write_norb_matrix(path: Path, array: np.ndarray) -> None:
    """One small NORB binary matrix (uint8 or int32) as the official files store it."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        array = array.astype("<i4")
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    header = np.array([NORB_MAGIC[array.dtype], array.ndim, *dims], dtype="<i4")
    path.write_bytes(header.tobytes() + array.tobytes())


def norb_arrays() -> dict[str, np.ndarray]:
    """``dat``, ``cat`` and ``info`` of one chunk: every combination once, instance = category.

    The first camera's 4x4 picture is ``category * 40 + elevation`` (so a render says which
    category and elevation it shows), the second camera's 255.
    """
    combos = np.array(
        [(c, c, e, 2 * a, light) for c in range(5) for e in range(9)
         for a in range(18) for light in range(6)]
    )  # fmt: skip
    dat = np.full((len(combos), 2, 4, 4), 255, dtype=np.uint8)
    dat[:, 0] = (combos[:, 0] * 40 + combos[:, 2]).astype(np.uint8)[:, None, None]
    return {"dat": dat, "cat": combos[:, 0], "info": combos[:, 1:]}


def write_norb(folder: Path | None = None, **arrays) -> Path:
    """A small NORB folder of chunk :data:`NORB_CHUNK`: :func:`norb_arrays`, ``arrays`` replaced."""
    folder = folder or fresh("norb")
    for part, array in {**norb_arrays(), **arrays}.items():
        write_norb_matrix(folder / f"{NORB_CHUNK}-{part}.mat", array)
    return folder


@functools.cache
def norb():
    """A loaded tiny small NORB (cached: render cases share it)."""
    from lib.data import SmallNORBFiles

    return SmallNORBFiles(write_norb(), chunks=(NORB_CHUNK,))


@functools.cache
def dsprites():
    from lib.data import DSprites

    return DSprites()


@functools.cache
def dsprites_file():
    from lib.data import DSpritesFile

    return DSpritesFile(write_dsprites(), verify=False)


@functools.cache
def shapes3d():
    from lib.data import Shapes3DFile

    return Shapes3DFile(write_shapes3d(), factor_sizes=TINY_SHAPES3D)


@functools.cache
def cars():
    from lib.data import Cars3DFiles

    return Cars3DFiles(write_cars())


# --------------------------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------------------------
def _dsprites_file_cases() -> list[Case]:
    from lib.data import DSpritesFile

    a = dsprites_arrays()
    imgs, latents = a["imgs"], a["latents_classes"]

    def load(**arrays):
        return lambda: DSpritesFile(write_dsprites(**arrays), verify=False)

    def corrupt_deflate():
        path = fresh("dsprites") / "z.npz"
        noise = np.random.default_rng(0).integers(0, 2, imgs.shape, dtype=np.uint8)
        write_dsprites(path, compressed=True, imgs=noise)
        raw = bytearray(path.read_bytes())
        for i in range(300, 3000, 7):  # inside imgs' deflate stream
            raw[i] ^= 0x5A
        path.write_bytes(bytes(raw))
        return DSpritesFile(path, verify=False)

    def truncated():
        path = write_dsprites()
        path.write_bytes(path.read_bytes()[:300])
        return DSpritesFile(path, verify=False)

    def npy():
        path = fresh("dsprites") / "d.npy"
        np.save(path, imgs)
        return DSpritesFile(path, verify=False)

    def shuffled():
        return DSpritesFile(write_dsprites(latents_classes=latents[::-1]), verify=False)

    return [
        Case("dsprites_file/pixels_255", load(imgs=imgs * 255), "imgs"),
        Case("dsprites_file/images_32x32", load(imgs=imgs[:, :32, :32]), "imgs"),
        Case("dsprites_file/float_images", load(imgs=imgs * 1.0), "uint8"),
        Case("dsprites_file/3d_images_4d", load(imgs=imgs[..., None]), "imgs"),
        Case("dsprites_file/float_classes", load(latents_classes=latents * 1.0), "latents_classes"),
        Case("dsprites_file/1d_classes", load(latents_classes=latents[:, 1]), "latents_classes"),
        Case("dsprites_file/5_columns", load(latents_classes=latents[:, 1:]), "latents_classes"),
        Case("dsprites_file/zero_rows", load(imgs=imgs[:0], latents_classes=latents[:0]), "no images"),
        Case("dsprites_file/negative_classes", load(latents_classes=latents - 1), "latents_classes"),
        Case("dsprites_file/colour_column", load(latents_classes=latents + 1), "colour"),
        Case("dsprites_file/fewer_images", load(imgs=imgs[:-1]), "rows"),
        Case("dsprites_file/no_imgs", load(imgs=None), "imgs"),
        Case("dsprites_file/object_array", load(imgs=np.array([None] * 3)), "readable"),
        Case("dsprites_file/corrupt_deflate", corrupt_deflate, "readable"),
        Case("dsprites_file/truncated_zip", truncated, "readable"),
        Case("dsprites_file/npy_not_npz", npy, "npz"),
        Case("dsprites_file/shuffled_rows", shuffled, "row-major"),
        Case("dsprites_file/missing", lambda: DSpritesFile(workdir() / "none.npz"), "not found"),
        Case("dsprites_file/wrong_md5", lambda: DSpritesFile(write_dsprites()), "md5"),
        Case("dsprites_file/verify_string", lambda: DSpritesFile(write_dsprites(), verify="no"), "verify"),
        Case("dsprites_file/path_none", lambda: DSpritesFile(None), "path"),
        Case("dsprites_file/render_posY_32", lambda: dsprites_file().render([[0, 0, 0, 0, 2]]), "posY"),
    ]  # fmt: skip


def _procedural_cases() -> list[Case]:
    from lib.data import procedural_agreement
    from lib.data.dsprites import FactorGrid, Geometry, file_md5, flat_index

    class Wider(FactorGrid):
        factor_names = ("shape", "scale", "orientation", "posX", "posY")
        factor_sizes = (4, 6, 40, 32, 32)

        def render(self, factors):
            return np.zeros((len(factors), 1, 64, 64), np.float32)

    d = dsprites
    return [
        Case("dsprites/orientation_40", lambda: d().render([[0, 0, 40, 0, 0]]), "orientation"),
        Case("dsprites/shape_negative", lambda: d().values(np.array([[-1, 0, 0, 0, 0]])), "shape"),
        Case("dsprites/float_factors", lambda: d().render(np.zeros((2, 5))), "integer"),
        Case("dsprites/bool_factors", lambda: d().render(np.zeros((2, 5), bool)), "bool"),
        Case("dsprites/ragged_factors", lambda: d().render([[0, 0, 0], [0]]), "factors"),
        Case("dsprites/four_columns", lambda: d().render(np.zeros((2, 4), int)), "factors"),
        Case("dsprites/one_dimensional", lambda: d().render(np.zeros(5, int)), "factors"),
        Case("dsprites/chunk_0", lambda: d().render(np.zeros((2, 5), int), chunk=0), "chunk"),
        Case("dsprites/chunk_float", lambda: d().render(np.zeros((2, 5), int), chunk=2.5), "chunk"),
        Case("dsprites/sample_n_negative", lambda: d().sample_factors(-1, np.random.default_rng()), "n"),
        Case("dsprites/sample_n_bool", lambda: d().sample_factors(True, np.random.default_rng()), "n"),
        Case("dsprites/sample_rng_int", lambda: d().sample_factors(3, 7), "rng"),
        Case("geometry/image_size_0", lambda: Geometry(image_size=0), "image_size"),
        Case("geometry/margin_too_wide", lambda: Geometry(margin=40), "margin"),
        Case("geometry/ellipse_ratio_nan", lambda: Geometry(ellipse_ratio=float("nan")), "ellipse_ratio"),
        Case("geometry/half_size_0", lambda: Geometry(half_size=0), "half_size"),
        Case("geometry/mask_resolution_float", lambda: Geometry(mask_resolution=2.5), "mask_resolution"),
        Case("dsprites/geometry_string", lambda: type(d())(geometry="small"), "geometry"),
        Case("flat_index/out_of_range", lambda: flat_index([[0, 32]], (3, 32)), "factors"),
        Case("flat_index/size_0", lambda: flat_index([[0, 0]], (3, 0)), "sizes"),
        Case("file_md5/missing", lambda: file_md5(workdir() / "none"), "md5"),
        Case("agreement/n_0", lambda: procedural_agreement(dsprites_file(), d(), n=0), "n"),
        Case("agreement/seed_negative", lambda: procedural_agreement(dsprites_file(), d(), seed=-1), "seed"),
        Case("agreement/official_not_data", lambda: procedural_agreement("file.npz", d()), "official"),
        Case("agreement/wider_grid", lambda: procedural_agreement(Wider(), d()), "grid"),
    ]  # fmt: skip


def _pair_cases() -> list[Case]:
    from lib.data import sample_pair_factors, sample_pairs

    def pairs(sizes=(3, 6, 40), n=4, rng=None, k=1):
        rng = np.random.default_rng(0) if rng is None else rng
        return lambda: sample_pair_factors(sizes, n, rng, k)

    return [
        Case("pairs/k_0", pairs(k=0), "k"),
        Case("pairs/k_too_big", pairs(k=4), "k"),
        Case("pairs/k_float", pairs(k=1.5), "k"),
        Case("pairs/k_bool", pairs(k=True), "k"),
        Case("pairs/k_none_one_factor", pairs(sizes=(5,), k=None), "k"),
        Case("pairs/n_negative", pairs(n=-1), "n"),
        Case("pairs/n_float", pairs(n=3.0), "n"),
        Case("pairs/sizes_empty", pairs(sizes=()), "sizes"),
        Case("pairs/sizes_zero", pairs(sizes=(3, 0)), "sizes"),
        Case("pairs/sizes_bool", pairs(sizes=(3, True)), "sizes"),
        Case("pairs/sizes_string", pairs(sizes="35"), "sizes"),
        Case("pairs/sizes_2d_array", pairs(sizes=np.ones((2, 2), int)), "sizes"),
        Case("pairs/rng_seed", pairs(rng=0), "rng"),
        Case("sample_pairs/dataset_object", lambda: sample_pairs(object(), 2, np.random.default_rng()), "dataset"),
        Case("sample_pairs/n_negative", lambda: sample_pairs(dsprites(), -2, np.random.default_rng()), "n"),
    ]  # fmt: skip


def _shapes3d_cases() -> list[Case]:
    import h5py

    from lib.data import Shapes3DFile

    n = int(np.prod(TINY_SHAPES3D))

    def load(images=None, **kwargs):
        kwargs.setdefault("factor_sizes", TINY_SHAPES3D)
        return lambda: Shapes3DFile(write_shapes3d(images=images), **kwargs)

    def group():
        path = fresh("shapes3d") / "g.h5"
        with h5py.File(path, "w") as handle:
            handle.create_group("images")
        return Shapes3DFile(path, factor_sizes=TINY_SHAPES3D)

    def no_images():
        path = fresh("shapes3d") / "l.h5"
        with h5py.File(path, "w") as handle:
            handle["labels"] = np.zeros((n, 6))
        return Shapes3DFile(path, factor_sizes=TINY_SHAPES3D)

    def garbage():
        path = fresh("shapes3d") / "x.h5"
        path.write_bytes(b"not hdf5" * 100)
        return Shapes3DFile(path, factor_sizes=TINY_SHAPES3D)

    return [
        Case("shapes3d/float_images", load(np.full((n, 64, 64, 3), 0.7)), "uint8"),
        Case("shapes3d/images_32x32", load(np.zeros((n, 32, 32, 3), np.uint8)), "expected images"),
        Case("shapes3d/grey_images", load(np.zeros((n, 64, 64), np.uint8)), "expected images"),
        Case("shapes3d/official_sizes", load(factor_sizes=(10, 10, 10, 8, 4, 15)), "expected images"),
        Case("shapes3d/group", group, "dataset"),
        Case("shapes3d/no_images", no_images, "images"),
        Case("shapes3d/not_hdf5", garbage, "readable"),
        Case("shapes3d/missing", lambda: Shapes3DFile(workdir() / "none.h5"), "not found"),
        Case("shapes3d/five_sizes", load(factor_sizes=(2, 1, 1, 1, 6)), "factor_sizes"),
        Case("shapes3d/size_zero", load(factor_sizes=(2, 1, 1, 1, 2, 0)), "factor_sizes"),
        Case("shapes3d/verify_int", load(verify=1), "verify"),
        Case("shapes3d/render_orientation_3", lambda: shapes3d().render([[0, 0, 0, 0, 0, 3]]), "orientation"),
        Case("shapes3d/render_float", lambda: shapes3d().render(np.zeros((1, 6))), "integer"),
    ]  # fmt: skip


def _cars3d_cases() -> list[Case]:
    from lib.data import Cars3DFiles

    def load(im):
        return lambda: Cars3DFiles(write_cars(im=im))

    return [
        Case("cars3d/zero_bytes", load(b""), "readable"),
        Case("cars3d/garbage", load(b"not a mat file" * 20), "readable"),
        Case("cars3d/float_im", load(np.zeros((64, 64, 3, 24, 4))), "uint8"),
        Case("cars3d/not_square", load(np.zeros((128, 64, 3, 24, 4), np.uint8)), "(128, 64, 3, 24, 4)"),
        Case("cars3d/too_small", load(np.zeros((32, 32, 3, 24, 4), np.uint8)), "(32, 32, 3, 24, 4)"),
        Case("cars3d/four_dims", load(np.zeros((64, 64, 3, 24), np.uint8)), "im"),
        Case("cars3d/empty_folder", lambda: Cars3DFiles(fresh("cars")), "no Cars3D"),
        Case("cars3d/folder_int", lambda: Cars3DFiles(5), "folder"),
        Case("cars3d/render_object_1", lambda: cars().render([[0, 0, 1]]), "object"),
    ]  # fmt: skip


def _norb_cases() -> list[Case]:
    from lib.data import SmallNORBFiles
    from lib.data.factor_files import read_norb_matrix

    a = norb_arrays()
    dat, cat, info = a["dat"], a["cat"], a["info"]

    def load(**arrays):
        return lambda: SmallNORBFiles(write_norb(**arrays), chunks=(NORB_CHUNK,))

    def info_with(column, old, new):
        changed = info.copy()
        changed[changed[:, column] == old, column] = new
        return changed

    def matrix(header, data=b""):
        def call():
            path = fresh("norb") / "m.mat"
            path.write_bytes(np.array(header, "<i4").tobytes() + data)
            return read_norb_matrix(path)

        return call

    twice = {k: np.concatenate([v, v[:1]]) for k, v in a.items()}
    short = {k: v[1:] for k, v in a.items()}
    return [
        Case("norb/render_elevation_9", lambda: norb().render([[0, 9, 0, 0]]), "elevation"),
        Case("norb/render_category_7", lambda: norb().render([[7, 0, 0, 0]]), "category"),
        Case("norb/render_category_negative", lambda: norb().render([[-1, 0, 0, 0]]), "category"),
        Case("norb/render_three_columns", lambda: norb().render([[0, 0, 0]]), "factors"),
        Case("norb/info_elevation_9", load(info=info_with(1, 8, 9)), "elevation"),
        Case("norb/info_azimuth_odd", load(info=info_with(2, 2, 3)), "azimuth"),
        Case("norb/info_lighting_6", load(info=info_with(3, 5, 6)), "lighting"),
        Case("norb/info_instance_10", load(info=info_with(0, 4, 10)), "instance"),
        Case("norb/info_three_columns", load(info=info[:, :3]), "info"),
        Case("norb/cat_5", load(cat=np.where(cat == 4, 5, cat)), "category"),
        Case("norb/cat_fewer_rows", load(cat=cat[:-1]), "agree"),
        Case("norb/cat_2d", load(cat=cat[:, None]), "cat"),
        Case("norb/dat_int32", load(dat=dat.astype(np.int32)), "uint8"),
        Case("norb/dat_no_camera", load(dat=dat[:, :0]), "camera"),
        Case("norb/dat_3d", load(dat=dat[:, 0]), "dat"),
        Case("norb/duplicate_row", load(**twice), "twice"),
        Case("norb/missing_row", load(**short), "missing"),
        Case("norb/zero_rows", load(**{k: v[:0] for k, v in a.items()}), "no images"),
        Case("norb/missing_files", lambda: SmallNORBFiles(fresh("norb")), "missing"),
        Case("norb/seed_negative", lambda: SmallNORBFiles(write_norb(), seed=-1), "seed"),
        Case("norb/chunks_string", lambda: SmallNORBFiles(write_norb(), chunks=NORB_CHUNK), "chunks"),
        Case("norb/folder_none", lambda: SmallNORBFiles(None), "folder"),
        Case("norb_matrix/huge_ndim", matrix([507333716, 40, 1, 1, 1], b"\0" * 16), "ndim"),
        Case("norb_matrix/negative_dim", matrix([507333716, 1, -3, 1, 1], b"\0" * 16), "negative"),
        Case("norb_matrix/magic", matrix([1234, 1, 1, 1, 1], b"\0" * 4), "magic"),
        Case("norb_matrix/truncated", matrix([507333716, 1, 3, 1, 1], b"\0" * 10), "truncated"),
        Case("norb_matrix/odd_bytes", matrix([507333716, 1, 3, 1, 1], b"\0" * 13), "extra"),
        Case("norb_matrix/short", matrix([507333716]), "short"),
    ]  # fmt: skip


def cases() -> list[Case]:
    return [
        *_dsprites_file_cases(),
        *_procedural_cases(),
        *_pair_cases(),
        *_shapes3d_cases(),
        *_cars3d_cases(),
        *_norb_cases(),
    ]
