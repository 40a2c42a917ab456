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

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from lib.data.mnist import DataError

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


def check_factors(factors: np.ndarray, sizes: tuple[int, ...]) -> np.ndarray:
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[1] != len(sizes):
        raise ValueError(
            f"factors must be (n, {len(sizes)}) integer indices, got shape {factors.shape}"
        )
    if not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"factors must be integer indices, got dtype {factors.dtype}")
    if factors.size and ((factors < 0).any() or (factors >= np.array(sizes)).any()):
        raise ValueError(f"factor indices out of range for sizes {sizes}")
    return factors.astype(np.int64)


def sample_uniform_factors(
    sizes: tuple[int, ...], n: int, rng: np.random.Generator
) -> np.ndarray:
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
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


def flat_index(factors: np.ndarray, sizes: tuple[int, ...]) -> np.ndarray:
    """Row-major index of factor combinations (the last factor fastest), as the official files."""
    bases = np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]])
    return np.asarray(factors, dtype=np.int64) @ bases


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
        self.geometry = geometry
        self.masks = _canonical_masks(geometry)  # (3, R, R)
        size = geometry.image_size
        centres = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
        self._px, self._py = np.meshgrid(centres, centres)  # (H, W), y grows downwards

    def values(self, factors: np.ndarray) -> dict[str, np.ndarray]:
        """The factors' values (shape index, scale, angle in radians, posX, posY in [0, 1])."""
        f = check_factors(factors, self.factor_sizes)
        return {
            "shape": f[:, 0],
            "scale": SCALES[f[:, 1]],
            "orientation": ORIENTATIONS[f[:, 2]],
            "posX": POSITIONS[f[:, 3]],
            "posY": POSITIONS[f[:, 4]],
        }

    def render(self, factors: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Binary images float32 (n, 1, 64, 64) in {0, 1}; vectorised, in chunks of ``chunk``."""
        f = check_factors(factors, self.factor_sizes)
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
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DSpritesFile(FactorGrid):
    """The official dSprites npz, with the API of :class:`DSprites` (images stay uint8 in memory).

    ``verify=True`` checks the official md5 (a few seconds); a missing file or a wrong checksum
    raises :class:`~lib.data.mnist.DataError` saying what to do. The factor sizes are read from
    the file's ``latents_classes`` (the colour column dropped) and the file's row order is
    checked against them, so a small file of the same format (as the tests make) works too.
    """

    factor_names = FACTOR_NAMES

    def __init__(self, path: str | Path, verify: bool = True) -> None:
        path = Path(path)
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
        try:
            with np.load(path, allow_pickle=False) as data:
                self.images = data["imgs"]  # (N, 64, 64) uint8 in {0, 1}
                classes = data["latents_classes"][:, 1:]  # drop the constant colour
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise DataError(f"{path} is not a readable dSprites npz: {exc}") from exc
        if self.images.ndim != 3 or classes.shape != (len(self.images), 5):
            raise DataError(
                f"{path}: expected imgs (N, 64, 64) and latents_classes (N, 6), got "
                f"{self.images.shape} and {classes.shape + (1,)}"
            )
        self.factor_sizes = tuple(int(s) for s in classes.max(0) + 1)
        in_order = flat_index(classes, self.factor_sizes) == np.arange(len(classes))
        if len(classes) != int(np.prod(self.factor_sizes)) or not in_order.all():
            raise DataError(
                f"{path}: latents_classes do not enumerate the factor grid "
                f"{self.factor_sizes} in row-major order"
            )
        self.path = path

    def render(self, factors: np.ndarray) -> np.ndarray:
        f = check_factors(factors, self.factor_sizes)
        images = self.images[flat_index(f, self.factor_sizes)]
        return images.astype(np.float32)[:, None]


def procedural_agreement(
    official: DSpritesFile, procedural: DSprites, n: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Intersection over union of official and procedural images on the same random factors.

    Returns the median IoU overall and per shape (square, ellipse, heart), and the mean number of
    foreground pixels of each, so a reader sees where the two renderings differ.
    """
    rng = np.random.default_rng(seed)
    factors = official.sample_factors(
        n, rng
    )  # the official grid (a test file's is smaller)
    a = official.render(factors)[:, 0] > 0.5
    b = procedural.render(factors)[:, 0] > 0.5
    union = (a | b).sum((1, 2))
    iou = (a & b).sum((1, 2)) / np.maximum(union, 1)
    report = {"median_iou": float(np.median(iou))}
    for s, name in enumerate(SHAPES):
        report[f"median_iou_{name}"] = float(np.median(iou[factors[:, 0] == s]))
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
    "unknown k": uniform in 1..n_factors - 1 per pair); that many distinct factors are chosen
    and each is redrawn uniformly over *all* its values (so it may keep its value).
    """
    n_factors = len(sizes)
    if k is not None and (
        isinstance(k, bool)
        or not isinstance(k, (int, np.integer))
        or not 1 <= k <= n_factors
    ):  # k = 1.7 would silently act as 1
        raise ValueError(f"k must be in 1..{n_factors} or None, got {k}")
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
    z1, z2 = sample_pair_factors(tuple(dataset.factor_sizes), n, rng, k)
    return Pairs(dataset.render(z1), dataset.render(z2), z1, z2)
