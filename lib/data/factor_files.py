"""Ground-truth-factor data sets read from files a user supplies (none is on a package registry).

Each class has the API of :class:`lib.data.DSprites` (``factor_names``, ``factor_sizes``,
``sample_factors(n, rng)``, ``render(factors)`` -> float32 (n, C, 64, 64) in [0, 1]), so the
metrics and the pair sampler take any of them. The layouts follow disentanglement_lib
(Locatello et al. 2019, ``data/ground_truth/{shapes3d,cars3d,norb}.py``); where we differ, the
class says so. A missing or malformed file raises :class:`~lib.errors.DataError`;
a bad argument (a factor out of range, a wrong count or type) a
:class:`~lib.errors.ParameterError` naming it.

- :class:`Shapes3DFile`: ``3dshapes.h5`` (Burgess & Kim 2018);
- :class:`Cars3DFiles`: the ``*_mesh.mat`` files of Reed et al. 2015 ("Deep visual analogy-making");
- :class:`SmallNORBFiles`: the small NORB binary matrices (LeCun et al. 2004).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lib.data.dsprites import (
    FactorGrid,
    check_flag,
    check_path,
    check_sizes,
    file_md5,
    flat_index,
)
from lib.errors import DataError, ParameterError, check_integer

SHAPES3D_NAMES = (
    "floor_hue",
    "wall_hue",
    "object_hue",
    "scale",
    "shape",
    "orientation",
)
SHAPES3D_SIZES = (10, 10, 10, 8, 4, 15)
SHAPES3D_MD5 = "099a2078d58cec4daad0702c55d06868"


class Shapes3DFile(FactorGrid):
    """A user-supplied ``3dshapes.h5`` (images (480000, 64, 64, 3) uint8, orientation fastest).

    Factor classes come from the array index (the stored float labels do not match the README's
    ranges, so they are not used). Images are returned as float32 (n, 3, 64, 64) in [0, 1].
    A file whose ``images`` are not uint8 (N, 64, 64, 3), N the product of ``factor_sizes``,
    is refused with a :class:`~lib.errors.DataError` (float images in [0, 1] would otherwise
    come back black).
    """

    factor_names = SHAPES3D_NAMES

    def __init__(
        self,
        path: str | Path,
        verify: bool = False,
        factor_sizes: tuple[int, ...] = SHAPES3D_SIZES,
    ) -> None:
        import h5py

        path = check_path(path)
        verify = check_flag("verify", verify)
        sizes = check_sizes(factor_sizes, "factor_sizes")
        if len(sizes) != len(SHAPES3D_NAMES):
            raise ParameterError(
                f"factor_sizes must give {len(SHAPES3D_NAMES)} sizes "
                f"({', '.join(SHAPES3D_NAMES)}), got {factor_sizes!r}"
            )
        self.factor_sizes = sizes
        self.path = path
        if not path.is_file():
            raise DataError(
                f"Shapes3D file not found at {path}; download 3dshapes.h5 from "
                "github.com/deepmind/3d-shapes"
            )
        if verify and (md5 := file_md5(path)) != SHAPES3D_MD5:
            raise DataError(f"{path} has md5 {md5}, not the official {SHAPES3D_MD5}")
        try:
            self._file = h5py.File(path, "r")
        except OSError as exc:
            raise DataError(f"{path} is not a readable 3dshapes.h5: {exc}") from exc
        try:
            self.images = self._check_images(h5py, path)
        except DataError:
            self._file.close()
            raise

    def _check_images(self, h5py, path: Path):
        images = self._file.get("images")
        if not isinstance(images, h5py.Dataset):
            found = "nothing" if images is None else type(images).__name__
            raise DataError(
                f"{path} is not a 3dshapes.h5: 'images' must be a dataset, found {found}"
            )
        expected = (int(np.prod(self.factor_sizes)), 64, 64, 3)
        if images.shape != expected:
            raise DataError(
                f"{path}: expected images {expected} for factor sizes "
                f"{self.factor_sizes}, got {images.shape}"
            )
        if images.dtype != np.uint8:
            raise DataError(
                f"{path}: images must be uint8 in 0..255 as the official 3dshapes.h5, "
                f"got dtype {images.dtype}"
            )
        return images

    def __len__(self) -> int:
        return len(self.images)

    def render(self, factors: np.ndarray) -> np.ndarray:
        """Images float32 (n, 3, 64, 64) in [0, 1]."""
        f = self.check_factors(factors)
        if len(f) == 0:
            return np.empty((0, 3, 64, 64), dtype=np.float32)
        index = flat_index(f, self.factor_sizes)
        order = np.argsort(index)  # h5py reads increasing indices only
        unique, inverse = np.unique(index[order], return_inverse=True)
        try:
            block = self.images[unique.tolist()]  # (u, 64, 64, 3)
        except OSError as exc:
            raise DataError(f"{self.path}: cannot read its images: {exc}") from exc
        images = np.empty((len(f), *block.shape[1:]), dtype=np.uint8)
        images[order] = block[inverse]
        return (images.astype(np.float32) / 255.0).transpose(0, 3, 1, 2)


CARS3D_NAMES = ("elevation", "azimuth", "object")


def _thumbnail_64(image: np.ndarray) -> np.ndarray:
    from PIL import Image

    picture = Image.fromarray(image)
    picture.thumbnail(
        (64, 64), Image.Resampling.LANCZOS
    )  # disentanglement_lib's ANTIALIAS
    return np.asarray(picture)


def _read_mesh(path: Path) -> np.ndarray:
    """The ``im`` array of one Cars3D mesh file, checked: uint8 (S, S, 3, 24, 4), S >= 64."""
    from scipy.io import loadmat

    try:
        contents = loadmat(path)
    except MemoryError:
        raise
    except Exception as exc:  # SciPy raises many kinds (MatReadError, ValueError, ...)
        raise DataError(
            f"{path} is not a readable MATLAB file (a Cars3D mesh file holds im "
            f"(128, 128, 3, 24, 4) uint8): {type(exc).__name__}: {exc}"
        ) from exc
    if "im" not in contents:
        held = sorted(k for k in contents if not k.startswith("__"))
        raise DataError(
            f"{path} is not a Cars3D mesh file: it has no 'im' array (it holds {held})"
        )
    mesh = contents["im"]
    if not isinstance(mesh, np.ndarray) or mesh.dtype != np.uint8:
        raise DataError(
            f"{path}: im must be uint8 images, got dtype {getattr(mesh, 'dtype', None)}"
        )
    side = mesh.shape[0] if mesh.ndim else 0
    if mesh.ndim != 5 or mesh.shape != (side, side, 3, 24, 4) or side < 64:
        raise DataError(
            f"{path}: im must be (S, S, 3, 24 azimuths, 4 elevations) with square images "
            f"of side S >= 64 (the official 128), got {mesh.shape}"
        )
    return mesh


class Cars3DFiles(FactorGrid):
    """Cars3D from a folder of ``*.mat`` files, each holding ``im`` (128, 128, 3, 24, 4) uint8.

    Factors: elevation 4, azimuth 24, object (one per file, 183 in the official set), row-major
    with the object fastest. Images are shrunk to 64x64 as disentanglement_lib does (PIL
    thumbnail with Lanczos filtering) and kept as uint8. Files are taken in sorted order
    (disentanglement_lib takes the directory's order, which is not defined). A file that is not
    such a mesh file is a :class:`~lib.errors.DataError` naming it.
    """

    factor_names = CARS3D_NAMES

    def __init__(self, folder: str | Path) -> None:
        folder = check_path(folder, "folder")
        files = sorted(folder.glob("*.mat")) if folder.is_dir() else []
        if not files:
            raise DataError(
                f"no Cars3D .mat files in {folder}; get nips2015-analogy-data.tar.gz "
                "(Reed et al. 2015) and point this at its cars folder"
            )
        self.factor_sizes = (4, 24, len(files))
        self.images = np.empty((int(np.prod(self.factor_sizes)), 64, 64, 3), np.uint8)
        views = [
            (elevation, azimuth) for azimuth in range(24) for elevation in range(4)
        ]
        for obj, path in enumerate(files):
            mesh = _read_mesh(path)  # (S, S, 3, 24 azimuths, 4 elevations)
            index = flat_index([[e, a, obj] for e, a in views], self.factor_sizes)
            for (elevation, azimuth), row in zip(views, index):
                self.images[row] = _thumbnail_64(mesh[:, :, :, azimuth, elevation])
        self.folder = folder

    def __len__(self) -> int:
        return len(self.images)

    def render(self, factors: np.ndarray) -> np.ndarray:
        """Images float32 (n, 3, 64, 64) in [0, 1]."""
        f = self.check_factors(factors)
        images = self.images[flat_index(f, self.factor_sizes)]
        return (images.astype(np.float32) / 255.0).transpose(0, 3, 1, 2)


NORB_NAMES = ("category", "elevation", "azimuth", "lighting")
NORB_SIZES = (
    5,
    9,
    18,
    6,
)  # the instance (10 per category) is a nuisance, drawn at random
NORB_INSTANCES = 10  # per category, numbered 0..9 in the info files
NORB_CHUNKS = (
    "smallnorb-5x46789x9x18x6x2x96x96-training",
    "smallnorb-5x01235x9x18x6x2x96x96-testing",
)
NORB_DTYPES = {
    507333717: np.uint8,
    507333716: np.int32,
    507333713: np.float32,
    507333715: np.float64,
}
NORB_MAX_NDIM = 8  # the files have 1, 2 or 4; more is a corrupt header


def read_norb_matrix(path: str | Path) -> np.ndarray:
    """One small NORB binary matrix: int32 magic, int32 ndim, max(3, ndim) int32 dims, data."""
    path = check_path(path)
    if not path.is_file():
        raise DataError(f"NORB matrix not found at {path}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read the NORB matrix {path}: {exc}") from exc
    if len(raw) < 20:
        raise DataError(
            f"{path} is too short to be a NORB matrix ({len(raw)} bytes, the header "
            "alone takes 20)"
        )
    magic, ndim = (int(v) for v in np.frombuffer(raw, "<i4", 2))
    if magic not in NORB_DTYPES:
        raise DataError(
            f"{path}: unknown NORB magic number {magic} (expected one of "
            f"{sorted(NORB_DTYPES)})"
        )
    if not 1 <= ndim <= NORB_MAX_NDIM:
        raise DataError(
            f"{path}: the header gives ndim {ndim}, expected 1..{NORB_MAX_NDIM}; the file "
            "is corrupt"
        )
    start = 8 + 4 * max(3, ndim)
    if len(raw) < start:
        raise DataError(f"{path}: the header is truncated ({len(raw)} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, "<i4", ndim, 8))
    if min(dims) < 0:
        raise DataError(f"{path}: the header gives a negative dimension in {dims}")
    dtype = np.dtype(NORB_DTYPES[magic]).newbyteorder("<")
    expected = math.prod(dims) * dtype.itemsize
    found = len(raw) - start
    if found < expected:
        raise DataError(
            f"{path}: {found} bytes of data for dims {dims} ({expected} expected); "
            "the file is truncated"
        )
    if found > expected:
        raise DataError(
            f"{path}: {found - expected} extra bytes after the {expected} of dims {dims}; "
            "the file is corrupt"
        )
    return np.frombuffer(raw, dtype, offset=start).reshape(dims)


def _check_column(path: Path, name: str, values: np.ndarray, allowed: range) -> None:
    """Every value of a factor column in ``allowed``, or a :class:`DataError`."""
    bad = ~np.isin(values, np.arange(allowed.start, allowed.stop, allowed.step))
    if bad.any():
        valid = f"0..{allowed.stop - 1}"
        if allowed.step != 1:
            valid = f"0, {allowed.step}, .., {allowed.stop - 1}"
        raise DataError(
            f"{path}: {name} must be in {valid}, found {values[bad][0]} "
            f"({int(bad.sum())} rows)"
        )


def _read_norb_chunk(folder: Path, chunk: str) -> tuple[np.ndarray, np.ndarray]:
    """Pictures (N, H, W) uint8 of the first camera and features (N, 5) of one chunk."""
    paths = [folder / f"{chunk}-{part}.mat" for part in ("dat", "cat", "info")]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise DataError(
            f"small NORB files missing in {folder}: {missing} (from "
            "cs.nyu.edu/~ylclab/data/norb-v1.0-small/, decompressed)"
        )
    dat, cat, info = (read_norb_matrix(p) for p in paths)
    if dat.dtype != np.uint8 or dat.ndim != 4 or min(dat.shape[1:]) < 1:
        raise DataError(
            f"{paths[0]}: dat must be uint8 (N, cameras, H, W) with at least one camera "
            f"and pixel, got {dat.dtype} {dat.shape}"
        )
    if cat.ndim != 1 or not np.issubdtype(cat.dtype, np.integer):
        raise DataError(
            f"{paths[1]}: cat must be (N,) integer categories, got {cat.dtype} {cat.shape}"
        )
    if (
        info.ndim != 2
        or info.shape[1] != 4
        or not np.issubdtype(info.dtype, np.integer)
    ):
        raise DataError(
            f"{paths[2]}: info must be (N, 4) integers (instance, elevation, azimuth, "
            f"lighting), got {info.dtype} {info.shape}"
        )
    if not len(dat) == len(cat) == len(info):
        raise DataError(
            f"{folder}/{chunk}: dat, cat and info do not agree: {len(dat)}, {len(cat)} "
            f"and {len(info)} rows"
        )
    if len(dat) == 0:
        raise DataError(f"{folder}/{chunk}: the files hold no images")
    _check_column(paths[1], "category", cat, range(NORB_SIZES[0]))
    _check_column(paths[2], "instance", info[:, 0], range(NORB_INSTANCES))
    _check_column(paths[2], "elevation", info[:, 1], range(NORB_SIZES[1]))
    _check_column(paths[2], "azimuth", info[:, 2], range(0, 2 * NORB_SIZES[2], 2))
    _check_column(paths[2], "lighting", info[:, 3], range(NORB_SIZES[3]))
    return dat[:, 0], np.column_stack([cat, info]).astype(np.int64)


class SmallNORBFiles(FactorGrid):
    """Small NORB from the six ``-dat``/``-cat``/``-info`` files of both chunks in ``folder``.

    Factors: category 5, elevation 9, azimuth 18 (the files store 0, 2, .., 34), lighting 6; the
    instance is drawn at random for each image (``seed``), as disentanglement_lib does. The
    first camera's image is resized to 64x64 (PIL, Lanczos). Unlike disentanglement_lib (which
    reads the pixels as int8 and keeps 0..255), pixels are uint8 scaled to [0, 1]. Every
    factor value in the files is range-checked, and every combination of category, instance,
    elevation, azimuth and lighting must appear once, or the files are a
    :class:`~lib.errors.DataError`.
    """

    factor_names = NORB_NAMES
    factor_sizes = NORB_SIZES

    def __init__(self, folder: str | Path, seed: int = 0, chunks=NORB_CHUNKS) -> None:
        from PIL import Image

        folder = check_path(folder, "folder")
        seed = check_integer("seed", seed, 0)
        if (
            isinstance(chunks, str)
            or not isinstance(chunks, Sequence)
            or not chunks
            or not all(isinstance(c, str) and c for c in chunks)
        ):
            raise ParameterError(
                f"chunks must be a non-empty list of file name stems, got {chunks!r}"
            )
        read = [_read_norb_chunk(folder, chunk) for chunk in chunks]
        feats = np.concatenate(
            [f for _, f in read]
        )  # category, instance, elev, azim, light
        feats[:, 3] //= 2
        full_sizes = (NORB_SIZES[0], NORB_INSTANCES, *NORB_SIZES[1:])
        index = flat_index(feats, full_sizes)
        unique, counts = np.unique(index, return_counts=True)
        if (counts > 1).any():
            twice = feats[index == unique[counts > 1][0]][0].tolist()
            raise DataError(
                f"{folder}: {int((counts > 1).sum())} combinations appear twice or more, "
                f"e.g. (category, instance, elevation, azimuth / 2, lighting) = {twice}"
            )
        self._lookup = np.full(int(np.prod(full_sizes)), -1, dtype=np.int64)
        self._lookup[index] = np.arange(len(feats))
        self._full_sizes = full_sizes
        instances = [np.unique(feats[feats[:, 0] == c, 1]) for c in range(5)]
        if len({len(i) for i in instances}) != 1:
            raise DataError(
                f"{folder}: categories hold different numbers of instances "
                f"{[len(i) for i in instances]}"
            )
        self._instances = np.stack(instances)  # (5, instances per category)
        grid = self._lookup.reshape(full_sizes)[np.arange(5)[:, None], self._instances]
        if (grid < 0).any():
            c, i, *rest = (int(v) for v in np.argwhere(grid < 0)[0])
            example = [c, int(self._instances[c, i]), *rest]
            raise DataError(
                f"{folder}: {int((grid < 0).sum())} factor combinations are missing, e.g. "
                f"(category, instance, elevation, azimuth / 2, lighting) = {example}"
            )
        images = []
        for pictures, _ in read:
            for picture in pictures:
                resized = Image.fromarray(picture).resize(
                    (64, 64), Image.Resampling.LANCZOS
                )
                images.append(np.asarray(resized))
        self.images = np.stack(images)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.images)

    def render(self, factors: np.ndarray) -> np.ndarray:
        """Images float32 (n, 1, 64, 64) in [0, 1], each of a random instance."""
        f = self.check_factors(factors)
        pick = self.rng.integers(0, self._instances.shape[1], size=len(f))
        instance = self._instances[f[:, 0], pick]
        full = np.column_stack([f[:, :1], instance, f[:, 1:]])
        rows = self._lookup[flat_index(full, self._full_sizes)]
        if (rows < 0).any():  # cannot happen: the files were checked complete at load
            raise DataError("some factor combinations are not in the small NORB files")
        return (self.images[rows].astype(np.float32) / 255.0)[:, None]
