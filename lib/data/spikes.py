"""Images that are sums of k atoms: off-the-grid Gaussian spikes, and crosses.

The atomic-autoencoder chapter needs data whose every image lies in a known set

    Sigma_{psi,k} = { sum_{i=1..k} psi(theta_i) : theta_i in Theta_0 }

for a dictionary psi of atoms with d0 parameters each. No generator was published with the
paper, so this module defines one (every choice is a parameter of :class:`SpikeSpec`):

- **spikes** (d0 = 3): psi(a, x, y)[p] = a * exp(-|p - (x, y)|^2 / (2 sigma^2)) on the pixel grid
  p in {0..H-1}^2; amplitudes uniform in ``amplitude``, positions uniform (continuous, "off the
  grid") in [margin, H - 1 - margin], optionally at least ``min_separation`` pixels apart.
- **crosses** (d0 = 2, for Proposition II.2): a horizontal and a vertical line through (x, y),
  each with a Gaussian cross-section of width ``sigma``. With full-length lines
  (``arm=None``) the atom is *separable*: psi(x, y) = h(y) + v(x). With arms of finite half
  length the lines are cut around the centre and the atom is not a sum of two 1-D parts.

Everything is vectorised over the batch (no per-image Python loop) and seeded by a
``torch.Generator``. :func:`fit_spikes` goes the other way: it fits k spikes to any image by
least squares, so one can measure how far an image is from Sigma.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lib.config import check_field_types
from lib.device import to_device
from lib.errors import ParameterError, check_integer, check_real, is_real


@dataclass(frozen=True)
class SpikeSpec:
    """The spikes data set: image size, k, spike width, amplitude range, placement rules."""

    image_size: int = 64
    n_spikes: int = 4
    sigma: float = 2.0  # pixels
    amplitude: tuple[float, float] = (0.5, 1.0)
    margin: float = 4.0  # pixels kept free at the border (the spike stays in the image)
    min_separation: float = 0.0  # pixels between centres; 0 = independent positions

    def __post_init__(self) -> None:
        check_field_types(self)
        check_integer("image_size", self.image_size, minimum=8)
        check_integer("n_spikes", self.n_spikes, minimum=1)
        check_real("sigma", self.sigma, 0, strict=True)  # an infinite width is flat
        amplitude = self.amplitude
        if not (
            isinstance(amplitude, (tuple, list))
            and len(amplitude) == 2
            and all(is_real(a) for a in amplitude)
            and 0 < amplitude[0] <= amplitude[1]
        ):
            raise ParameterError(
                f"amplitude must be (low, high) with 0 < low <= high, got {amplitude!r}"
            )
        check_real("margin", self.margin, 0)
        if not self.margin < (self.image_size - 1) / 2:
            raise ParameterError(
                f"margin must be in [0, (image_size - 1) / 2), got {self.margin}"
            )
        check_real("min_separation", self.min_separation, 0)
        side = self.image_size - 1 - 2 * self.margin
        if self.min_separation * (self.n_spikes**0.5) > 1.5 * side:
            raise ParameterError(
                f"min_separation {self.min_separation} px: {self.n_spikes} spikes that "
                f"far apart do not fit in a {side:.0f} px square"
            )


@dataclass
class SpikeData:
    """Images (N, 1, H, W) float32 and the parameters that drew them."""

    images: torch.Tensor
    amplitudes: torch.Tensor  # (N, k)
    centres: torch.Tensor  # (N, k, 2) as (x, y) in pixels
    spec: SpikeSpec

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def params(self) -> torch.Tensor:
        """(N, k, 3): (amplitude, x, y) per spike, the d0 = 3 ideal code."""
        return torch.cat([self.amplitudes.unsqueeze(-1), self.centres], dim=-1)


def _grid(image_size: int, device: torch.device | str | None = None) -> torch.Tensor:
    return torch.arange(image_size, dtype=torch.float32, device=device)


def render_spikes(
    amplitudes: torch.Tensor, centres: torch.Tensor, image_size: int, sigma: float
) -> torch.Tensor:
    """Sum of Gaussian spikes: amplitudes (N, k), centres (N, k, 2) -> images (N, 1, H, W).

    Separable per spike (exp of a sum = product of two 1-D profiles), so the cost is one batched
    outer product: (N, k, H, 1) * (N, k, 1, W), summed over k.
    """
    check_integer("image_size", image_size, minimum=1)
    check_real("sigma", sigma, 0, strict=True)
    for name, value in (("amplitudes", amplitudes), ("centres", centres)):
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise ParameterError(f"{name} must be a float tensor, got {value!r:.60}")
    if amplitudes.shape != centres.shape[:-1] or centres.shape[-1] != 2:
        raise ValueError(
            f"amplitudes (N, k) and centres (N, k, 2) disagree: {tuple(amplitudes.shape)}, "
            f"{tuple(centres.shape)}"
        )
    grid = _grid(image_size, centres.device)
    inv = -0.5 / sigma**2
    gx = torch.exp(inv * (grid - centres[..., 0:1]) ** 2)  # (N, k, W)
    gy = torch.exp(inv * (grid - centres[..., 1:2]) ** 2)  # (N, k, H)
    images = torch.einsum("nk,nky,nkx->nyx", amplitudes, gy, gx)  # (N, H, W)
    return images.unsqueeze(1)


def _sample_centres(
    n: int, spec: SpikeSpec, generator: torch.Generator, tries: int = 64
) -> torch.Tensor:
    low, high = spec.margin, spec.image_size - 1 - spec.margin

    def uniform(*shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(*shape, generator=generator)

    if spec.min_separation == 0:
        return uniform(n, spec.n_spikes, 2)
    # sequential placement, vectorised over images: each spike takes the first of `tries`
    # candidates that keeps its distance to the spikes already placed; rows with none retry
    centres = torch.empty(n, spec.n_spikes, 2)
    todo = torch.arange(n)
    for _ in range(100):
        rows = todo
        centres[rows, 0] = uniform(len(rows), 2)
        ok_rows = torch.ones(len(rows), dtype=torch.bool)
        for j in range(1, spec.n_spikes):
            candidates = uniform(len(rows), tries, 2)  # (R, T, 2)
            placed = centres[rows, :j]  # (R, j, 2)
            dist = torch.cdist(candidates, placed).amin(-1)  # (R, T)
            good = dist >= spec.min_separation
            first = good.float().argmax(-1)  # first good candidate (0 when none)
            centres[rows, j] = candidates[torch.arange(len(rows)), first]
            ok_rows &= good.any(-1)
        todo = rows[~ok_rows]
        if len(todo) == 0:
            return centres
    raise ValueError(f"could not place spikes {spec.min_separation} px apart; lower it")


def make_spikes(
    n: int,
    spec: SpikeSpec | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> SpikeData:
    """``n`` images of ``spec.n_spikes`` random spikes (seeded), on ``device``."""
    spec = spec or SpikeSpec()
    check_integer("n", n, minimum=1)
    check_integer("seed", seed, minimum=0)
    if not isinstance(spec, SpikeSpec):
        raise ParameterError(f"spec must be a SpikeSpec, got {type(spec).__name__}")
    generator = torch.Generator().manual_seed(seed)
    low, high = spec.amplitude
    amplitudes = low + (high - low) * torch.rand(n, spec.n_spikes, generator=generator)
    centres = _sample_centres(n, spec, generator)
    device = torch.device(device)
    # drawn on the CPU (the same numbers on every device), copied without a wait for the GPU
    amplitudes, centres = to_device(amplitudes, device), to_device(centres, device)
    images = render_spikes(amplitudes, centres, spec.image_size, spec.sigma)
    return SpikeData(images, amplitudes, centres, spec)


# --------------------------------------------------------------------------------------------
# crosses: a separable atom (full-length lines) and a non-separable one (short arms)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CrossesSpec:
    """Crosses of :func:`make_crosses`: by default two per 32x32 image, full-length lines
    (``arm=None``, a separable atom) or short arms (``arm`` pixels, not separable)."""

    image_size: int = 32
    n_crosses: int = 2
    sigma: float = 1.0
    arm: float | None = None  # None: separable atoms (full-length lines)
    margin: float = 4.0

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.image_size < 8 or self.n_crosses < 1 or not self.sigma > 0:
            raise ValueError(
                f"need image_size >= 8, n_crosses >= 1 and sigma > 0, got {self.image_size}, "
                f"{self.n_crosses}, {self.sigma}"
            )
        if self.arm is not None and not self.arm > 0:
            raise ValueError(f"arm must be positive or None, got {self.arm}")
        if not 0 <= self.margin <= (self.image_size - 1) / 2:
            # a larger margin puts the centres outside the band it means to keep free
            raise ValueError(
                f"margin must be in [0, (image_size - 1) / 2], got {self.margin}"
            )


def render_crosses(
    centres: torch.Tensor, image_size: int, sigma: float = 1.0, arm: float | None = None
) -> torch.Tensor:
    """Sum of crosses through centres (N, k, 2) as (x, y) -> images (N, 1, H, W).

    Each cross is a horizontal line at height y plus a vertical line at x, with Gaussian
    cross-section ``sigma``. ``arm=None``: full-length lines, psi(x, y) = h(y) + v(x), a separable
    atom (Proposition II.2). ``arm=L``: both lines fade out (Gaussian) beyond L pixels from the
    centre, so the atom depends on x and y jointly.
    """
    check_integer("image_size", image_size, minimum=1)
    check_real("sigma", sigma, 0, strict=True)
    if arm is not None:
        check_real("arm", arm, 0, strict=True)
    if (
        not isinstance(centres, torch.Tensor)
        or centres.dim() != 3
        or centres.shape[-1] != 2
    ):
        found = tuple(centres.shape) if isinstance(centres, torch.Tensor) else centres
        raise ParameterError(f"centres must be (N, k, 2) as (x, y), got {found!r:.60}")
    grid = _grid(image_size, centres.device)
    inv = -0.5 / sigma**2
    across_x = torch.exp(
        inv * (grid - centres[..., 0:1]) ** 2
    )  # (N, k, W) vertical line
    across_y = torch.exp(
        inv * (grid - centres[..., 1:2]) ** 2
    )  # (N, k, H) horizontal line
    if arm is None:
        along_x = torch.ones_like(across_x)
        along_y = torch.ones_like(across_y)
    else:
        if not arm > 0:
            raise ValueError(f"arm must be positive or None, got {arm}")
        along_x = torch.exp(-0.5 * ((grid - centres[..., 0:1]) / arm) ** 4)  # (N, k, W)
        along_y = torch.exp(-0.5 * ((grid - centres[..., 1:2]) / arm) ** 4)  # (N, k, H)
    horizontal = torch.einsum("nky,nkx->nyx", across_y, along_x)
    vertical = torch.einsum("nky,nkx->nyx", along_y, across_x)
    return (horizontal + vertical).unsqueeze(1)


def make_crosses(
    n: int,
    n_crosses: int = 2,
    image_size: int = 32,
    sigma: float = 1.0,
    arm: float | None = None,
    margin: float = 4.0,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images (N, 1, H, W), centres (N, k, 2))`` of random crosses (seeded).

    Centres are uniform in ``[margin, image_size - 1 - margin]`` on both axes."""
    check_integer("n", n, minimum=1)
    check_integer("n_crosses", n_crosses, minimum=1)
    check_integer("image_size", image_size, minimum=1)
    check_integer("seed", seed, minimum=0)
    check_real("margin", margin, 0, maximum=(image_size - 1) / 2)
    generator = torch.Generator().manual_seed(seed)
    low, high = margin, image_size - 1 - margin
    centres = low + (high - low) * torch.rand(n, n_crosses, 2, generator=generator)
    centres = to_device(centres, torch.device(device))
    return render_crosses(centres, image_size, sigma, arm), centres


# --------------------------------------------------------------------------------------------
# the way back: least-squares fit of k spikes to an image
# --------------------------------------------------------------------------------------------
@dataclass
class SpikeFit:
    """k spikes fitted to each image, and how much of the image they leave unexplained."""

    amplitudes: torch.Tensor  # (N, k)
    centres: torch.Tensor  # (N, k, 2)
    residual: torch.Tensor  # (N,) ||x - fit||^2 / ||x||^2


def _greedy_peaks(
    images: torch.Tensor, n_spikes: int, sigma: float
) -> tuple[torch.Tensor, torch.Tensor]:
    # matching pursuit: take the brightest pixel of the residual, remove a spike there, repeat
    n, _, height, width = images.shape
    residual = images[:, 0].clone()
    amplitudes = torch.empty(n, n_spikes)
    centres = torch.empty(n, n_spikes, 2)
    rows = torch.arange(n)
    for j in range(n_spikes):
        flat = residual.flatten(1).argmax(1)
        y, x = (flat // width).float(), (flat % width).float()
        amp = residual.flatten(1)[rows, flat].clamp_min(1e-3)
        amplitudes[:, j], centres[:, j, 0], centres[:, j, 1] = amp, x, y
        spike = render_spikes(amp[:, None], centres[:, j : j + 1], height, sigma)
        residual = residual - spike[:, 0]
    return amplitudes, centres


def _to_unit(value: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """The unconstrained u with low + (high - low) sigmoid(u) = value (clipped inside)."""
    share = ((value - low) / (high - low)).clamp(1e-4, 1 - 1e-4)
    return torch.log(share) - torch.log1p(-share)


def fit_spikes(
    images: torch.Tensor,
    n_spikes: int,
    sigma: float,
    steps: int = 200,
    bounds: SpikeSpec | None = None,
) -> SpikeFit:
    """Least-squares fit of ``n_spikes`` Gaussian spikes of width ``sigma`` to each image.

    Matching pursuit gives the start; L-BFGS then minimises sum_p (x - sum_j a_j psi_j)^2 over all
    amplitudes and centres of the batch jointly (the images are independent, so the joint
    minimum is the per-image minimum). ``residual`` is the fraction of the image's energy the
    fit leaves: 0 for an image in Sigma_{psi,k} (up to the optimiser), larger off it.

    ``bounds``: the data's :class:`SpikeSpec`, to fit inside Sigma's own parameter set only:
    amplitudes in ``bounds.amplitude`` and centres ``bounds.margin`` pixels inside the frame
    (each parameter is ``low + (high - low) sigmoid(u)`` with u free). Without it amplitudes
    and centres are unconstrained (any sign, off the frame), so "close to Sigma" means close to
    a much larger set. The minimum separation of the data is not imposed.
    """
    if not isinstance(images, torch.Tensor):
        raise ParameterError(f"images must be a tensor, got {type(images).__name__}")
    check_integer("n_spikes", n_spikes, minimum=1)
    check_real("sigma", sigma, 0, strict=True)
    check_integer("steps", steps, minimum=0)
    if bounds is not None and not isinstance(bounds, SpikeSpec):
        raise ParameterError(f"bounds must be a SpikeSpec, got {type(bounds).__name__}")
    images = images.detach().float().cpu()
    if not torch.isfinite(images).all():
        raise ParameterError("images hold NaN or infinite pixels")
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3]:
        raise ValueError(f"images must be (N, 1, H, H), got {tuple(images.shape)}")
    size = images.shape[-1]
    if bounds is not None and bounds.image_size != size:
        raise ValueError(
            f"bounds are for {bounds.image_size}-pixel images, the images have {size}"
        )
    start_amplitudes, start_centres = _greedy_peaks(images, n_spikes, sigma)
    if bounds is None:

        def unpack(u_amp, u_centre):
            return u_amp, u_centre

        u_amp, u_centre = start_amplitudes, start_centres
    else:
        a_low, a_high = bounds.amplitude
        c_low, c_high = bounds.margin, size - 1 - bounds.margin
        a_high = max(
            a_high, a_low + 1e-6
        )  # a fixed amplitude still gets a (tiny) range

        def unpack(u_amp, u_centre):
            return (
                a_low + (a_high - a_low) * torch.sigmoid(u_amp),
                c_low + (c_high - c_low) * torch.sigmoid(u_centre),
            )

        u_amp = _to_unit(start_amplitudes, a_low, a_high)
        u_centre = _to_unit(start_centres, c_low, c_high)
    u_amp.requires_grad_(True)
    u_centre.requires_grad_(True)
    optimiser = torch.optim.LBFGS(
        [u_amp, u_centre], lr=1, max_iter=steps, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        fit = render_spikes(*unpack(u_amp, u_centre), size, sigma)
        loss = ((fit - images) ** 2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    with torch.no_grad():
        amplitudes, centres = unpack(u_amp, u_centre)
        fit = render_spikes(amplitudes, centres, size, sigma)
        energy = (images**2).flatten(1).sum(1).clamp_min(1e-12)
        residual = ((fit - images) ** 2).flatten(1).sum(1) / energy
    return SpikeFit(amplitudes.detach(), centres.detach(), residual)
