"""Centred disks of random radius: the data set of *Taking Apart Autoencoders*.

Newson, Almansa, Gousseau, Ladjal, "Taking Apart Autoencoders: How do They Encode Geometric
Shapes?", 2018 (HAL hal-01676326). Section 3.2 trains on "binary images of centred disks of random
radii", one disk per image; the hole experiment removes radii "between 11 and 18 pixels (out of
32)", so the images are 64 pixels wide and the largest radius is 32.

The paper's set-ups in terms of :func:`make_disks`:

- main experiment (Figs. 2, 3, 8): ``radius_range=(0, 32)``, radius ~ U(0, 32);
- "maximum radius R" experiment (Fig. 4, Appendix B uses R = 18): ``radius_range=(0, R)``;
- "hole" experiment (Figs. 5, 6, 10): ``hole=(11, 18)``.

The paper uses binary images (``antialias="none"``). The authors' later code (JMIV version, see
the book's notes) renders 63x63 anti-aliased disks by Monte-Carlo jittering; ``"supersample"``
(regular k x k sub-pixel grid) and ``"area"`` (exact pixel coverage) are the deterministic
counterparts offered here.

Geometry convention (a choice; the paper only says "centred"): pixel (i, j) has its centre at
(i, j) and covers the unit square around it, and the disk centre is the image centre
``((H-1)/2, (W-1)/2)``, i.e. 31.5 for 64x64. The centre then falls on a pixel corner, so every
image has the full 8-fold symmetry of the pixel grid and its radial profile is unambiguous.

Everything is vectorised over the batch: radii are drawn in one call, images are rendered by
``torch.searchsorted`` on pre-sorted sub-pixel distances (``"none"``, ``"supersample"``) or by a
closed-form disk/rectangle intersection area (``"area"``), in chunks to bound memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

ANTIALIAS_CHOICES = ("none", "supersample", "area")
_CHUNK = 2048  # images rendered at once; bounds memory at ~ _CHUNK * H * W * 8 bytes


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def _check_image_size(image_size: int) -> int:
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, (int, np.integer))
        or image_size < 1
    ):
        raise ValueError(f"image_size must be a positive integer, got {image_size!r}")
    return int(image_size)


def _check_antialias(antialias: str, k: int) -> None:
    if antialias not in ANTIALIAS_CHOICES:
        raise ValueError(
            f"antialias must be one of {ANTIALIAS_CHOICES}, got {antialias!r}"
        )
    if antialias == "supersample" and (
        isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1
    ):
        raise ValueError(
            f"k (sub-pixels per axis for antialias='supersample') must be a positive integer, got {k!r}"
        )


def _check_range(
    radius_range: Sequence[float], hole: Sequence[float] | None
) -> tuple[float, float, float, float]:
    """Validate ``radius_range`` and ``hole``; return (lo, hi, a, b) with a == b when no hole."""
    try:
        lo, hi = (float(v) for v in radius_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"radius_range must be a pair (low, high), got {radius_range!r}"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0 or hi <= lo:
        raise ValueError(
            f"radius_range must satisfy 0 <= low < high (finite), got {radius_range!r}"
        )
    if hole is None:
        return lo, hi, lo, lo
    try:
        a, b = (float(v) for v in hole)
    except (TypeError, ValueError):
        raise ValueError(f"hole must be a pair (a, b) or None, got {hole!r}") from None
    if not (lo <= a < b <= hi):
        raise ValueError(
            f"hole must satisfy radius_range[0] <= a < b <= radius_range[1]; got hole={hole!r}, "
            f"radius_range={radius_range!r}"
        )
    if (b - a) >= (hi - lo):
        raise ValueError(
            f"hole={hole!r} covers the whole radius_range={radius_range!r}: nothing left to sample"
        )
    return lo, hi, a, b


# --------------------------------------------------------------------------------------------
# radii
# --------------------------------------------------------------------------------------------
def sample_radii(
    n: int,
    radius_range: Sequence[float] = (0.0, 32.0),
    hole: Sequence[float] | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw ``n`` radii uniformly on ``[lo, hi]`` minus the interval ``hole = (a, b)``; float32 (n,).

    Inverse-CDF sampling on the remaining set (no rejection loop): u ~ U(0, L) with
    L = (hi - lo) - (b - a), and r = lo + u, shifted by (b - a) when it lands at or past ``a``.
    Radii are drawn on the CPU so that a seeded ``generator`` gives the same radii on every device.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    lo, hi, a, b = _check_range(radius_range, hole)
    width = (hi - lo) - (b - a)
    u = torch.rand(int(n), generator=generator, dtype=torch.float64) * width
    r = lo + u
    r = torch.where(r >= a, r + (b - a), r) if b > a else r
    r = r.clamp(lo, hi).to(torch.float32)
    if b > a:
        # float32 rounding could land a value exactly on a or b (prob. ~1e-8): move it to the
        # nearest float32 outside [a, b] that is still inside radius_range.
        a32, b32 = (
            torch.tensor(a, dtype=torch.float32),
            torch.tensor(b, dtype=torch.float32),
        )
        outside = (
            torch.nextafter(a32, torch.tensor(-math.inf))
            if a > lo
            else torch.nextafter(b32, torch.tensor(math.inf))
        )
        r = torch.where((r >= a) & (r <= b), outside, r)
    return r


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------
def _pixel_offsets(image_size: int) -> torch.Tensor:
    """Coordinates of pixel centres relative to the image centre (H-1)/2; float64 (H,)."""
    return torch.arange(image_size, dtype=torch.float64) - (image_size - 1) / 2.0


def _sorted_subpixel_d2(image_size: int, k: int) -> torch.Tensor:
    """Squared distances of the k*k sub-pixel centres of every pixel, sorted; (H*W, k*k) float64.

    Sub-pixel centres sit on a regular grid at offsets (s + 1/2)/k - 1/2, s = 0..k-1; k = 1 is the
    pixel centre itself (binary rendering).
    """
    c = _pixel_offsets(image_size)  # (H,)
    s = (torch.arange(k, dtype=torch.float64) + 0.5) / k - 0.5  # (k,)
    sub = (c[:, None] + s[None, :]) ** 2  # (H, k) squared coordinate
    d2 = sub[:, None, :, None] + sub[None, :, None, :]  # (H, W, k, k)
    d2 = d2.reshape(image_size * image_size, k * k)  # (H*W, k*k)
    return torch.sort(d2, dim=1).values


def _render_counting(radii: torch.Tensor, image_size: int, k: int) -> torch.Tensor:
    """Fraction of each pixel's k*k sub-pixel centres inside the disk (d <= r); (n, H, W) float32."""
    d2 = _sorted_subpixel_d2(image_size, k)  # (P, k*k), P = H*W
    out = []
    for chunk in radii.split(_CHUNK):
        r2 = (
            (chunk.to(torch.float64) ** 2)[None, :].expand(d2.shape[0], -1).contiguous()
        )  # (P, n)
        # searchsorted(right=True) counts sorted distances <= r^2, for all pixels and radii at once.
        count = torch.searchsorted(d2, r2, right=True)  # (P, n)
        frac = count.to(torch.float32) / (k * k)
        out.append(frac.T.reshape(-1, image_size, image_size))  # (n, H, W)
    return torch.cat(out) if out else torch.zeros(0, image_size, image_size)


def _quadrant_area(a: torch.Tensor, b: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Area of the disk {u^2 + v^2 <= r^2} inside the rectangle [0, a] x [0, b], a, b >= 0; broadcasts.

    With a, b clipped to r and c = min(a, sqrt(r^2 - b^2)):
    Q(a, b) = b c + F(a) - F(c), where F(u) = int_0^u sqrt(r^2 - s^2) ds
            = (u sqrt(r^2 - u^2) + r^2 asin(u / r)) / 2.
    """
    a = torch.minimum(a, r)
    b = torch.minimum(b, r)
    r2 = r * r
    safe_r = torch.where(r > 0, r, torch.ones_like(r))  # r = 0 => a = b = 0 anyway

    def big_f(u: torch.Tensor) -> torch.Tensor:
        return 0.5 * (
            u * (r2 - u * u).clamp_min(0).sqrt()
            + r2 * torch.asin((u / safe_r).clamp(-1, 1))
        )

    c = torch.minimum(a, (r2 - b * b).clamp_min(0).sqrt())
    return b * c + big_f(a) - big_f(c)


def _render_area(
    radii: torch.Tensor, image_size: int, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Exact area of each unit pixel covered by the disk, by inclusion-exclusion on pixel corners.

    G(x, y) = oriented area of the disk over [0, x] x [0, y] is odd in x and in y, so
    G(x, y) = sign(x) sign(y) Q(|x|, |y|). For an even image size the centre is a pixel corner:
    one quadrant of pixel areas is computed and mirrored (4x less work). For an odd size Q is
    evaluated on the distinct |border| values and gathered back onto the full corner grid.
    """
    even = image_size % 2 == 0
    edges = (
        torch.arange(image_size + 1, dtype=dtype) - image_size / 2.0
    )  # pixel borders, (H+1,)
    uniq, inv = torch.unique(edges.abs(), return_inverse=True)  # (U,), (H+1,)
    sign = torch.sign(edges)
    sign2 = sign[:, None] * sign[None, :]  # (H+1, W+1)
    out = []
    for chunk in radii.split(_CHUNK):
        r = chunk.to(dtype)[:, None, None]  # (n, 1, 1)
        q = _quadrant_area(
            uniq[None, None, :], uniq[None, :, None], r
        )  # (n, U, U): Q(|x|, |y|)
        if even:  # uniq = 0, 1, ..., H/2: q already is G on the lower-right quadrant's corners
            quad = (
                q[:, 1:, 1:] - q[:, :-1, 1:] - q[:, 1:, :-1] + q[:, :-1, :-1]
            )  # (n, H/2, H/2)
            rows = torch.cat([quad.flip(1), quad], dim=1)  # (n, H, H/2)
            area = torch.cat([rows.flip(2), rows], dim=2)  # (n, H, W)
        else:
            g = sign2 * q[:, inv][:, :, inv]  # (n, H+1, W+1): G(x_j, y_i)
            area = (
                g[:, 1:, 1:] - g[:, :-1, 1:] - g[:, 1:, :-1] + g[:, :-1, :-1]
            )  # (n, H, W)
        out.append(area.clamp(0.0, 1.0).to(torch.float32))
    return torch.cat(out) if out else torch.zeros(0, image_size, image_size)


def disks_from_radii(
    radii: torch.Tensor | np.ndarray | Sequence[float] | float,
    image_size: int = 64,
    antialias: str = "none",
    k: int = 8,
    device: str | torch.device = "cpu",
    area_dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Render centred disks of the given radii; float32 (n, 1, H, W) in [0, 1].

    ``antialias``:

    - ``"none"``: binary, a pixel is 1 when its centre is inside the closed disk (the paper's data);
    - ``"supersample"``: mean of the indicator over a regular ``k`` x ``k`` sub-pixel grid;
    - ``"area"``: exact fraction of the unit pixel covered by the disk (closed form).

    ``area_dtype`` is the precision of the ``"area"`` computation: float64 by default;
    float32 where the computation is exported to ONNX, whose runtimes have no float64
    ``asin`` (the inclusion-exclusion over pixel corners then loses about 5e-4 per pixel).

    Used for evaluation grids and sliders, e.g. ``disks_from_radii(torch.linspace(0, 32, 9))``.
    """
    image_size = _check_image_size(image_size)
    _check_antialias(antialias, k)
    r = torch.as_tensor(radii, dtype=torch.float32).detach().cpu().reshape(-1)  # (n,)
    if not torch.isfinite(r).all() or (r < 0).any():
        raise ValueError("radii must be finite and non-negative")
    if antialias == "area":
        images = _render_area(r, image_size, area_dtype)
    else:
        images = _render_counting(r, image_size, k if antialias == "supersample" else 1)
    return images[:, None].to(device)  # (n, 1, H, W)


def make_disks(
    n: int,
    image_size: int = 64,
    radius_range: Sequence[float] = (0.0, 32.0),
    hole: Sequence[float] | None = None,
    antialias: str = "none",
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
    k: int = 8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` centred disks with radii ~ U(radius_range minus hole); returns (images, radii).

    images: float32 (n, 1, H, W) in [0, 1]; radii: float32 (n,). See :func:`sample_radii` for the
    sampling and :func:`disks_from_radii` for ``antialias`` and ``k``. The paper's data set is
    ``make_disks(n)`` (binary, radius ~ U(0, 32)); its hole variant adds ``hole=(11, 18)``.
    """
    image_size = _check_image_size(image_size)
    _check_antialias(antialias, k)
    radii = sample_radii(n, radius_range, hole, generator)
    images = disks_from_radii(radii, image_size, antialias, k, device)
    return images, radii.to(device)
