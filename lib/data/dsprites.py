"""dSprites, procedurally, and ground-truth-factor data sets read from user-supplied files.

Every data set here has the same small API (what the disentanglement metrics and the pair
sampler need):

- ``factor_names`` and ``factor_sizes`` (a tuple of ints);
- ``sample_factors(n, rng) -> int64 array (n, n_factors)``, each factor uniform over its values;
- ``render(factors) -> float32 array (n, C, 64, 64)`` for integer factor indices.

:class:`DSprites` draws the official factor grid (Matthey et al. 2017,
github.com/deepmind/dsprites-dataset): shape 3 (square, ellipse, heart), scale 6
(0.5 .. 1), orientation 40 (``linspace(0, 2 pi, 40)``, both ends included, as the official
file), posX 32 and posY 32, as 64x64 binary images rendered on demand, vectorised, never all
737,280 at once. The official images were drawn with LÖVE from shapes whose exact vertices and
pixel mapping were not published; ours follow the factor grid exactly and approximate the
pixels (:data:`GEOMETRY` states every choice). :class:`DSpritesFile` serves the official
``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` with the same API when a user has it, and
:func:`procedural_agreement` measures how close the two are.

Other ground-truth data sets are read from user-supplied files by :mod:`lib.data.factor_files`.
Pairs for weak supervision (Locatello et al. 2020) are :func:`sample_pairs`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from lib.errors import (
    DataError,
    ParameterError,
    check_integer,
    check_real,
    is_integer,
)
from lib.files import file_digest

FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = np.linspace(
    0.0, 2 * np.pi, 40
)  # both ends: the first and last image agree
POSITIONS = np.linspace(0.0, 1.0, 32)
OFFICIAL_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
OFFICIAL_MD5 = "7da33b31b13a06f4b04a70402ce90c2e"


class FactorDataset(Protocol):
    """What the metrics and the pair sampler use of a data set."""

    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray: ...

    def render(self, factors: np.ndarray) -> np.ndarray: ...


def check_sizes(sizes: Any, name: str = "sizes") -> tuple[int, ...]:
    """``sizes`` as a non-empty tuple of integers >= 1 (the number of values of each factor)."""
    if isinstance(sizes, np.ndarray):
        sizes = sizes.tolist() if sizes.ndim == 1 else None
    if (
        not isinstance(sizes, Sequence)
        or isinstance(sizes, str)
        or not sizes
        or not all(is_integer(s) and s >= 1 for s in sizes)
    ):
        raise ParameterError(
            f"{name} must be a non-empty sequence of integers >= 1 (values per factor), "
            f"got {sizes!r}"
        )
    return tuple(int(s) for s in sizes)


def check_path(path: Any, name: str = "path") -> Path:
    """``path`` (a ``str`` or ``os.PathLike``) as a :class:`~pathlib.Path`."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ParameterError(f"{name} must be a file or folder path, got {path!r}")
    return Path(path)


def check_flag(name: str, value: Any) -> bool:
    """``value`` as a ``bool`` (a string ``"no"`` would be truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(
            f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_factors(
    factors: Any,
    sizes: tuple[int, ...],
    names: Sequence[str] | None = None,
    name: str = "factors",
) -> np.ndarray:
    """``factors`` as int64 (n, len(sizes)) indices, each in ``0..size - 1``; n may be 0.

    A :class:`ParameterError` otherwise, naming the factor (``names``), its range and the
    first value out of it.
    """
    try:
        arr = np.asarray(factors)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ParameterError(
            f"{name} must be an (n, {len(sizes)}) array of integer indices: {exc}"
        ) from exc
    if arr.ndim != 2 or arr.shape[1] != len(sizes):
        raise ParameterError(
            f"{name} must be (n, {len(sizes)}) integer indices, got shape {arr.shape}"
        )
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise ParameterError(
            f"{name} must be integer indices, got dtype {arr.dtype}"
            + (" (a bool is not an index)" if arr.dtype == bool else "")
        )
    if arr.size:
        bad = (arr < 0) | (arr >= np.asarray(sizes))
        if bad.any():
            row, j = (int(i) for i in np.argwhere(bad)[0])
            label = f" ({names[j]})" if names is not None else ""
            raise ParameterError(
                f"{name}[:, {j}]{label} must be in 0..{sizes[j] - 1}, got {arr[row, j]} "
                f"(row {row}; {int(bad.any(1).sum())} rows out of range)"
            )
    return arr.astype(np.int64)


def sample_uniform_factors(
    sizes: tuple[int, ...], n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` factor vectors, each factor uniform over ``0..size - 1``: int64 (n, len(sizes))."""
    sizes = check_sizes(sizes)
    n = check_integer("n", n, 0)
    rng = check_rng(rng)
    return np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1).astype(
        np.int64
    )


class FactorGrid:
    """Base of the data sets here: factors uniform over a grid, one image per grid point."""

    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]

    def __len__(self) -> int:
        return int(np.prod(self.factor_sizes))

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` factor vectors, each factor uniform over its values: int64 (n, n_factors)."""
        return sample_uniform_factors(self.factor_sizes, n, rng)

    def check_factors(self, factors: Any) -> np.ndarray:
        """``factors`` as int64 indices into this grid, or a :class:`ParameterError`."""
        return check_factors(factors, self.factor_sizes, self.factor_names)


def flat_index(factors: np.ndarray, sizes: tuple[int, ...]) -> np.ndarray:
    """Row-major index of factor combinations (the last factor fastest), as the official files."""
    sizes = check_sizes(sizes)
    f = check_factors(factors, sizes)
    bases = np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)
    return f @ bases


# --------------------------------------------------------------------------------------------
# procedural dSprites
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Geometry:
    """How factor values become pixels: this book's choices (the official mapping is unpublished).

    A shape of scale s is drawn in a square of half side ``half_size * s`` pixels centred at
    ``margin + pos * (64 - 2 margin)`` pixels (pos in [0, 1]) and rotated by the orientation,
    counter-clockwise on screen. The ellipse's axes are (1, ``ellipse_ratio``) of that half
    side; the heart is the classic parametric curve x = 16 sin^3 t,
    y = 13 cos t - 5 cos 2t - 2 cos 3t - cos 4t, scaled to the same box.
    """

    image_size: int = 64
    half_size: float = 10.0
    margin: float = 16.0
    ellipse_ratio: float = 0.5
    mask_resolution: int = 256  # canonical masks, sampled by nearest neighbour

    def __post_init__(self) -> None:
        size = check_integer("image_size", self.image_size, 1)
        check_real("half_size", self.half_size, 0.0, strict=True)
        check_real("margin", self.margin, 0.0)
        if 2 * self.margin >= size:
            raise ParameterError(
                f"margin must be < image_size / 2 = {size / 2}, got {self.margin}"
            )
        check_real("ellipse_ratio", self.ellipse_ratio, 0.0, strict=True, maximum=1.0)
        check_integer("mask_resolution", self.mask_resolution, 1)


GEOMETRY = Geometry()


def _heart_polygon(points: int = 400) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, points, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    xy = np.stack([x, y], 1)
    xy -= (xy.max(0) + xy.min(0)) / 2  # centre the bounding box
    return xy / np.abs(xy).max()  # fit in [-1, 1]^2


def _inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    # crossing-number test, vectorised over points and edges
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    straddles = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_x = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return (straddles & (x < cross_x)).sum(1) % 2 == 1


def _canonical_masks(geometry: Geometry) -> np.ndarray:
    # (3, R, R) booleans over [-1, 1]^2 (row = y up, column = x)
    r = geometry.mask_resolution
    u = (np.arange(r) + 0.5) / r * 2 - 1
    xx, yy = np.meshgrid(u, u)
    square = (np.abs(xx) <= 1) & (np.abs(yy) <= 1)
    ellipse = xx**2 + (yy / geometry.ellipse_ratio) ** 2 <= 1
    points = np.stack([xx.ravel(), yy.ravel()], 1)
    heart = _inside_polygon(points, _heart_polygon()).reshape(r, r)
    return np.stack([square, ellipse, heart])


class DSprites(FactorGrid):
    """Procedural dSprites: the official factor grid, rendered on demand as binary 64x64 images."""

    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES

    def __init__(self, geometry: Geometry = GEOMETRY) -> None:
        if not isinstance(geometry, Geometry):
            raise ParameterError(
                f"geometry must be a lib.data.dsprites.Geometry, got {type(geometry).__name__}"
            )
        self.geometry = geometry
        self.masks = _canonical_masks(geometry)  # (3, R, R)
        size = geometry.image_size
        centres = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
        self._px, self._py = np.meshgrid(centres, centres)  # (H, W), y grows downwards

    def values(self, factors: np.ndarray) -> dict[str, np.ndarray]:
        """The factors' values (shape index, scale, angle in radians, posX, posY in [0, 1])."""
        f = check_factors(factors, self.factor_sizes, self.factor_names)
        return {
            "shape": f[:, 0],
            "scale": SCALES[f[:, 1]],
            "orientation": ORIENTATIONS[f[:, 2]],
            "posX": POSITIONS[f[:, 3]],
            "posY": POSITIONS[f[:, 4]],
        }

    def render(self, factors: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Binary images float32 (n, 1, 64, 64) in {0, 1}; vectorised, in chunks of ``chunk``."""
        f = check_factors(factors, self.factor_sizes, self.factor_names)
        chunk = check_integer("chunk", chunk, 1)
        out = np.empty((len(f), 1, *self._px.shape), dtype=np.float32)
        for start in range(0, len(f), chunk):
            out[start : start + chunk, 0] = self._render(f[start : start + chunk])
        return out

    def _render(self, f: np.ndarray) -> np.ndarray:
        g = self.geometry
        v = self.values(f)
        span = g.image_size - 2 * g.margin

        def column(values: np.ndarray) -> np.ndarray:  # (n,) -> (n, 1, 1) float32
            return values.astype(np.float32)[:, None, None]

        cx = column(g.margin + v["posX"] * span)  # pixels
        cy = column(g.margin + v["posY"] * span)
        half = column(g.half_size * v["scale"])
        angle = column(v["orientation"])
        dx, dy = self._px - cx, cy - self._py  # screen y up
        cos, sin = np.cos(angle), np.sin(angle)
        u = (
            cos * dx + sin * dy
        ) / half  # rotate back by the orientation, into [-1, 1]^2
        w = (-sin * dx + cos * dy) / half
        r = g.mask_resolution
        col = np.floor((u + 1) * (r / 2)).astype(np.int32)
        row = np.floor((w + 1) * (r / 2)).astype(np.int32)
        inside = (col >= 0) & (col < r) & (row >= 0) & (row < r)
        shape = np.broadcast_to(v["shape"][:, None, None], col.shape)
        hit = self.masks[shape, row.clip(0, r - 1), col.clip(0, r - 1)]
        return (hit & inside).astype(np.float32)


# --------------------------------------------------------------------------------------------
# user-supplied files
# --------------------------------------------------------------------------------------------
def file_md5(path: Path) -> str:
    """The md5 hex digest of the file at ``path`` (a :class:`DataError` if it cannot be read)."""
    return file_digest(check_path(path), "md5")


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``imgs`` and ``latents_classes`` of a dSprites npz, or a :class:`DataError`.

    A corrupt zip or npy header fails in many ways (``BadZipFile``, ``zlib.error``, a
    tokenizer error from the npy header, ``NotImplementedError`` for a flipped compression
    method, ``RuntimeError`` for a flipped encryption bit...): each is the file's fault, so
    each is a :class:`DataError` naming it.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except MemoryError:
        raise
    except Exception as exc:
        raise DataError(
            f"{path} is not a readable dSprites npz: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise DataError(
            f"{path} is a single .npy array, not a dSprites npz holding imgs and "
            "latents_classes"
        )
    with data:
        missing = [k for k in ("imgs", "latents_classes") if k not in data.files]
        if missing:
            raise DataError(
                f"{path} is not a dSprites npz: it has no {missing} (it holds {data.files})"
            )
        try:
            return data["imgs"], data["latents_classes"]
        except MemoryError:
            raise
        except Exception as exc:
            raise DataError(
                f"{path} is not a readable dSprites npz (a corrupt member): "
                f"{type(exc).__name__}: {exc}"
            ) from exc


def _check_dsprites_arrays(
    path: Path, images: np.ndarray, latents: np.ndarray
) -> np.ndarray:
    """Check the arrays of a dSprites npz; the factor classes without the colour column."""
    if images.dtype != np.uint8:
        raise DataError(
            f"{path}: imgs must be uint8 in {{0, 1}}, got dtype {images.dtype}"
        )
    if images.ndim != 3 or images.shape[1:] != (64, 64):
        raise DataError(f"{path}: imgs must be (N, 64, 64), got {images.shape}")
    if len(images) == 0:
        raise DataError(f"{path}: imgs holds no images (shape {images.shape})")
    if latents.ndim != 2 or latents.shape[1] != 6:
        raise DataError(
            f"{path}: latents_classes must be (N, 6) (colour, shape, scale, orientation, "
            f"posX, posY), got {latents.shape}"
        )
    if len(latents) != len(images):
        raise DataError(
            f"{path}: imgs holds {len(images)} images but latents_classes {len(latents)} "
            "rows"
        )
    if latents.dtype == bool or not np.issubdtype(latents.dtype, np.integer):
        raise DataError(
            f"{path}: latents_classes must be integer classes, got dtype {latents.dtype}"
        )
    brightest = int(images.max())  # the whole array: about 0.4 s for the official 3 GB
    if brightest > 1:
        raise DataError(
            f"{path}: imgs must hold pixels in {{0, 1}}, found a pixel of {brightest}"
        )
    if (latents[:, 0] != 0).any():
        raise DataError(
            f"{path}: the colour column of latents_classes must be 0 (dSprites has one "
            f"colour), found {np.unique(latents[:, 0])[:5].tolist()}"
        )
    classes = latents[:, 1:]
    if classes.min() < 0:
        raise DataError(
            f"{path}: latents_classes must be >= 0, found {int(classes.min())}"
        )
    return classes.astype(np.int64)


class DSpritesFile(FactorGrid):
    """The official dSprites npz, with the API of :class:`DSprites` (images stay uint8 in memory).

    ``verify=True`` checks the official md5 (a few seconds); a missing file or a wrong checksum
    raises :class:`~lib.errors.DataError` saying what to do. The factor sizes are read from
    the file's ``latents_classes`` (the colour column dropped) and the file's row order is
    checked against them, so a small file of the same format (as the tests make) works too.
    The file must hold ``imgs`` (N, 64, 64) uint8 in {0, 1} and integer ``latents_classes``
    (N, 6) whose colour column is 0; anything else is a :class:`~lib.errors.DataError`.
    """

    factor_names = FACTOR_NAMES

    def __init__(self, path: str | Path, verify: bool = True) -> None:
        path = check_path(path)
        verify = check_flag("verify", verify)
        if path.is_dir():
            path = path / OFFICIAL_FILE
        if not path.is_file():
            raise DataError(
                f"dSprites file not found at {path}; download {OFFICIAL_FILE} from "
                "github.com/deepmind/dsprites-dataset (or use the procedural lib.data.DSprites)"
            )
        if verify and (md5 := file_md5(path)) != OFFICIAL_MD5:
            raise DataError(
                f"{path} has md5 {md5}, not the official {OFFICIAL_MD5}: the file is corrupt "
                "or not the official dSprites (pass verify=False to read it anyway)"
            )
        images, latents = _load_npz(path)
        classes = _check_dsprites_arrays(path, images, latents)
        self.images = images  # (N, 64, 64) uint8 in {0, 1}
        self.factor_sizes = tuple(int(s) for s in classes.max(0) + 1)
        in_order = flat_index(classes, self.factor_sizes) == np.arange(len(classes))
        if len(classes) != int(np.prod(self.factor_sizes)) or not in_order.all():
            raise DataError(
                f"{path}: latents_classes do not enumerate the factor grid "
                f"{self.factor_sizes} in row-major order"
            )
        self.path = path

    def render(self, factors: np.ndarray) -> np.ndarray:
        """Binary images float32 (n, 1, 64, 64) in {0, 1}."""
        f = self.check_factors(factors)
        images = self.images[flat_index(f, self.factor_sizes)]
        return images.astype(np.float32)[:, None]


def check_dataset(dataset: Any, name: str = "dataset") -> tuple[int, ...]:
    """The factor sizes of ``dataset``, which must have the :class:`FactorDataset` API."""
    missing = [
        a
        for a in ("factor_sizes", "sample_factors", "render")
        if not hasattr(dataset, a)
    ]
    if missing:
        raise ParameterError(
            f"{name} must be a ground-truth-factor data set (factor_sizes, "
            f"sample_factors, render), got {type(dataset).__name__} without {missing}"
        )
    return check_sizes(dataset.factor_sizes, f"{name}.factor_sizes")


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else float("nan")


def procedural_agreement(
    official: DSpritesFile, procedural: DSprites, n: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Intersection over union of official and procedural images on the same random factors.

    Returns the median IoU overall and per shape (square, ellipse, heart), and the mean number of
    foreground pixels of each, so a reader sees where the two renderings differ. A shape that
    none of the ``n`` factor draws shows (a small ``n``, or a file without that shape) has a
    NaN median.
    """
    sizes = check_dataset(official, "official")
    grid = check_dataset(procedural, "procedural")
    if len(sizes) != len(grid) or any(a > b for a, b in zip(sizes, grid)):
        raise ParameterError(
            f"official's factor grid {sizes} must fit in procedural's {grid}"
        )
    n = check_integer("n", n, 1)
    seed = check_integer("seed", seed, 0)
    rng = np.random.default_rng(seed)
    factors = official.sample_factors(
        n, rng
    )  # the official grid (a test file's is smaller)
    a = official.render(factors)[:, 0] > 0.5
    b = procedural.render(factors)[:, 0] > 0.5
    union = (a | b).sum((1, 2))
    iou = (a & b).sum((1, 2)) / np.maximum(union, 1)
    report = {"median_iou": _median(iou)}
    for s, name in enumerate(SHAPES):
        report[f"median_iou_{name}"] = _median(iou[factors[:, 0] == s])
    report["official_pixels"] = float(a.sum((1, 2)).mean())
    report["procedural_pixels"] = float(b.sum((1, 2)).mean())
    return report


# --------------------------------------------------------------------------------------------
# pairs for weak supervision
# --------------------------------------------------------------------------------------------
class Pairs(NamedTuple):
    x1: np.ndarray  # (n, C, H, W)
    x2: np.ndarray
    factors1: np.ndarray  # (n, n_factors) int64
    factors2: np.ndarray


def sample_pair_factors(
    sizes: tuple[int, ...], n: int, rng: np.random.Generator, k: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Factor pairs as Locatello et al. 2020 (``simple_dynamics``) and the PMP authors' code.

    Draw z; the number of factors to change is, with probability 1/2 each, 1 or k (k = None,
    "unknown k": uniform in 1..n_factors - 1 per pair, so it needs two factors or more); that
    many distinct factors are chosen and each is redrawn uniformly over *all* its values (so it
    may keep its value). Returns two int64 (n, n_factors) arrays; n may be 0.
    """
    sizes = check_sizes(sizes)
    n = check_integer("n", n, 0)
    rng = check_rng(rng)
    n_factors = len(sizes)
    if k is not None and (
        not is_integer(k) or not 1 <= k <= n_factors
    ):  # k = 1.7 would silently act as 1
        raise ParameterError(f"k must be in 1..{n_factors} or None, got {k!r}")
    if k is None and n_factors < 2:
        raise ParameterError(
            "k = None (unknown k, uniform in 1..n_factors - 1) needs at least 2 factors, "
            f"got sizes {sizes}; pass k=1"
        )
    z1 = sample_uniform_factors(sizes, n, rng)
    k_observed = (
        rng.integers(1, n_factors, size=n)
        if k is None
        else np.full(n, k, dtype=np.int64)
    )
    n_changed = np.where(rng.random(n) < 0.5, 1, k_observed)  # (n,)
    rank = np.argsort(rng.random((n, n_factors)), axis=1).argsort(axis=1)
    change = rank < n_changed[:, None]  # n_changed distinct factors per row
    z2 = np.where(change, sample_uniform_factors(sizes, n, rng), z1)
    return z1, z2


def sample_pairs(
    dataset: FactorDataset, n: int, rng: np.random.Generator, k: int | None = None
) -> Pairs:
    """``n`` image pairs that differ in a few factors (see :func:`sample_pair_factors`)."""
    sizes = check_dataset(dataset)
    z1, z2 = sample_pair_factors(sizes, n, rng, k)
    return Pairs(dataset.render(z1), dataset.render(z2), z1, z2)
