"""Ground-truth-factor data sets read from files a user supplies (none is on a package registry).

Each class has the API of :class:`lib.data.DSprites` (``factor_names``, ``factor_sizes``,
``sample_factors(n, rng)``, ``render(factors)`` -> float32 (n, C, 64, 64) in [0, 1]), so the
metrics and the pair sampler take any of them. The layouts follow disentanglement_lib
(Locatello et al. 2019, ``data/ground_truth/{shapes3d,cars3d,norb}.py``); where we differ, the
class says so. A missing or malformed file raises :class:`~lib.data.mnist.DataError`.

- :class:`Shapes3DFile`: ``3dshapes.h5`` (Burgess & Kim 2018);
- :class:`Cars3DFiles`: the ``*_mesh.mat`` files of Reed et al. 2015 ("Deep visual analogy-making");
- :class:`SmallNORBFiles`: the small NORB binary matrices (LeCun et al. 2004).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lib.data.dsprites import FactorGrid, check_factors, file_md5, flat_index
from lib.data.mnist import DataError

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
    """

    factor_names = SHAPES3D_NAMES

    def __init__(
        self,
        path: str | Path,
        verify: bool = False,
        factor_sizes: tuple[int, ...] = SHAPES3D_SIZES,
    ) -> None:
        import h5py

        self.factor_sizes = tuple(factor_sizes)

        path = Path(path)
        if not path.is_file():
            raise DataError(
                f"Shapes3D file not found at {path}; download 3dshapes.h5 from "
                "github.com/deepmind/3d-shapes"
            )
        if verify and (md5 := file_md5(path)) != SHAPES3D_MD5:
            raise DataError(f"{path} has md5 {md5}, not the official {SHAPES3D_MD5}")
        try:
            self._file = h5py.File(path, "r")
            self.images = self._file["images"]
        except (OSError, KeyError) as exc:
            raise DataError(f"{path} is not a readable 3dshapes.h5: {exc}") from exc
        expected = int(np.prod(self.factor_sizes))
        if self.images.ndim != 4 or self.images.shape[0] != expected:
            raise DataError(
                f"{path}: expected images ({expected}, H, W, 3) for factor sizes "
                f"{self.factor_sizes}, got {self.images.shape}"
            )
        self.path = path

    def __len__(self) -> int:
        return len(self.images)

    def render(self, factors: np.ndarray) -> np.ndarray:
        f = check_factors(factors, self.factor_sizes)
        index = flat_index(f, self.factor_sizes)
        order = np.argsort(index)  # h5py reads increasing indices only
        unique, inverse = np.unique(index[order], return_inverse=True)
        block = self.images[unique.tolist()]  # (u, 64, 64, 3)
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


class Cars3DFiles(FactorGrid):
    """Cars3D from a folder of ``*.mat`` files, each holding ``im`` (128, 128, 3, 24, 4) uint8.

    Factors: elevation 4, azimuth 24, object (one per file, 183 in the official set), row-major
    with the object fastest. Images are shrunk to 64x64 as disentanglement_lib does (PIL
    thumbnail with Lanczos filtering) and kept as uint8. Files are taken in sorted order
    (disentanglement_lib takes the directory's order, which is not defined).
    """

    factor_names = CARS3D_NAMES

    def __init__(self, folder: str | Path) -> None:
        from scipy.io import loadmat

        folder = Path(folder)
        files = sorted(folder.glob("*.mat")) if folder.is_dir() else []
        if not files:
            raise DataError(
                f"no Cars3D .mat files in {folder}; get nips2015-analogy-data.tar.gz "
                "(Reed et al. 2015) and point this at its cars folder"
            )
        self.factor_sizes = (4, 24, len(files))
        self.images = np.empty((int(np.prod(self.factor_sizes)), 64, 64, 3), np.uint8)
        for obj, path in enumerate(files):
            try:
                mesh = loadmat(path)["im"]  # (128, 128, 3, 24 azimuths, 4 elevations)
            except (OSError, KeyError, ValueError) as exc:
                raise DataError(f"{path} is not a Cars3D mesh file: {exc}") from exc
            if mesh.ndim != 5 or mesh.shape[2:] != (3, 24, 4):
                raise DataError(
                    f"{path}: im has shape {mesh.shape}, not (H, W, 3, 24, 4)"
                )
            for azimuth in range(24):
                for elevation in range(4):
                    index = flat_index([[elevation, azimuth, obj]], self.factor_sizes)[
                        0
                    ]
                    self.images[index] = _thumbnail_64(
                        mesh[:, :, :, azimuth, elevation]
                    )
        self.folder = folder

    def __len__(self) -> int:
        return len(self.images)

    def render(self, factors: np.ndarray) -> np.ndarray:
        f = check_factors(factors, self.factor_sizes)
        images = self.images[flat_index(f, self.factor_sizes)]
        return (images.astype(np.float32) / 255.0).transpose(0, 3, 1, 2)


NORB_NAMES = ("category", "elevation", "azimuth", "lighting")
NORB_SIZES = (
    5,
    9,
    18,
    6,
)  # the instance (10 per category) is a nuisance, drawn at random
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


def read_norb_matrix(path: Path) -> np.ndarray:
    """One small NORB binary matrix: int32 magic, int32 ndim, max(3, ndim) int32 dims, data."""
    raw = path.read_bytes()
    if len(raw) < 20:
        raise DataError(f"{path} is too short to be a NORB matrix")
    magic, ndim = np.frombuffer(raw, "<i4", 2)
    if int(magic) not in NORB_DTYPES:
        raise DataError(f"{path}: unknown NORB magic number {int(magic)}")
    header = max(3, int(ndim))
    dims = tuple(int(d) for d in np.frombuffer(raw, "<i4", header, 8)[:ndim])
    data = np.frombuffer(raw, NORB_DTYPES[int(magic)], offset=8 + 4 * header)
    if data.size != int(np.prod(dims)):
        raise DataError(
            f"{path}: {data.size} values for dims {dims}; the file is truncated"
        )
    return data.reshape(dims)


class SmallNORBFiles(FactorGrid):
    """Small NORB from the six ``-dat``/``-cat``/``-info`` files of both chunks in ``folder``.

    Factors: category 5, elevation 9, azimuth 18 (the files store 0, 2, .., 34), lighting 6; the
    instance is drawn at random for each image (``seed``), as disentanglement_lib does. The
    first camera's image is resized to 64x64 (PIL, Lanczos). Unlike disentanglement_lib (which
    reads the pixels as int8 and keeps 0..255), pixels are uint8 scaled to [0, 1].
    """

    factor_names = NORB_NAMES
    factor_sizes = NORB_SIZES

    def __init__(self, folder: str | Path, seed: int = 0, chunks=NORB_CHUNKS) -> None:
        from PIL import Image

        folder = Path(folder)
        images, features = [], []
        for chunk in chunks:
            paths = [folder / f"{chunk}-{part}.mat" for part in ("dat", "cat", "info")]
            missing = [p.name for p in paths if not p.is_file()]
            if missing:
                raise DataError(
                    f"small NORB files missing in {folder}: {missing} (from "
                    "cs.nyu.edu/~ylclab/data/norb-v1.0-small/, decompressed)"
                )
            dat, cat, info = (read_norb_matrix(p) for p in paths)
            if dat.ndim != 4 or len({len(dat), len(cat), len(info)}) != 1:
                raise DataError(f"{folder}/{chunk}: dat, cat and info do not agree")
            for picture in dat[:, 0]:  # first camera
                resized = Image.fromarray(picture).resize(
                    (64, 64), Image.Resampling.LANCZOS
                )
                images.append(np.asarray(resized))
            features.append(np.column_stack([cat, info]))
        feats = np.concatenate(features).astype(
            np.int64
        )  # category, instance, elev, azim, light
        feats[:, 3] //= 2
        self.images = np.stack(images)
        full_sizes = (5, int(feats[:, 1].max()) + 1, 9, 18, 6)
        self._lookup = np.full(int(np.prod(full_sizes)), -1, dtype=np.int64)
        self._lookup[flat_index(feats, full_sizes)] = np.arange(len(feats))
        self._full_sizes = full_sizes
        instances = [np.unique(feats[feats[:, 0] == c, 1]) for c in range(5)]
        if len({len(i) for i in instances}) != 1:
            raise DataError(f"{folder}: categories hold different numbers of instances")
        self._instances = np.stack(instances)  # (5, instances per category)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.images)

    def render(self, factors: np.ndarray) -> np.ndarray:
        f = check_factors(factors, self.factor_sizes)
        pick = self.rng.integers(0, self._instances.shape[1], size=len(f))
        instance = self._instances[f[:, 0], pick]
        full = np.column_stack([f[:, :1], instance, f[:, 1:]])
        rows = self._lookup[flat_index(full, self._full_sizes)]
        if (rows < 0).any():
            raise DataError("some factor combinations are not in the small NORB files")
        return (self.images[rows].astype(np.float32) / 255.0)[:, None]
