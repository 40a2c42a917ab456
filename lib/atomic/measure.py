"""What the atomic-autoencoder chapter measures on a trained model.

- :func:`atom_centroids` / :func:`match_atoms`: which atom draws which spike (Hungarian matching
  on the centroid of each atom's image);
- :func:`coordinate_correlations`: how each latent coordinate of a matched atom tracks its
  spike's amplitude, x and y (Pearson's and Spearman's rho, pooled over atoms and images);
- :func:`reconstruction_correlations`: does the decoder draw each spike parameter at all (k
  spikes fitted to the reconstructions, against the true ones): each verdict part's adequacy;
- :func:`filling_curve` / :func:`filling_radius` / :func:`bracketed_filling_radius`: perturb
  codes by delta, decode, and measure how far the result is from Sigma_{psi,k} (the
  least-squares spike fit of :mod:`lib.data.spikes`, optionally confined to Sigma's parameter
  ranges): the open set of Lemma I.1 made measurable, on a grid widened until bracketed;
  :class:`IdealAtomicAutoencoder` (code = the true parameters, decoder = the exact sum of
  spikes) is the baseline measured the same way;
- :func:`cross_pairing`: for data made of crosses, does each atom draw one cross, or the
  horizontal line of one and the vertical line of another (Proposition II.2)?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

from lib.data.spikes import SpikeData, SpikeSpec, fit_spikes, render_spikes


def model_device(model: torch.nn.Module) -> torch.device:
    """Where ``model`` computes: its first parameter's device, else its first buffer's, else
    the CPU (:class:`IdealAtomicAutoencoder` has buffers only)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


class IdealAtomicAutoencoder(torch.nn.Module):
    """The ideal atomic autoencoder phi o zeta of a spike data set, as a model.

    Its code is the true parameters (amplitude, x, y) of each spike, one block per spike, in
    the data's order (:attr:`SpikeData.params`); its decoder is the exact sum of spikes,
    phi(theta) = sum_i psi(theta_i) (:func:`lib.data.spikes.render_spikes`), which any code
    decodes, inside Sigma's parameter ranges or not. The encoder zeta knows only the images
    it was built with (``data``): it returns their true parameters and refuses any other
    image. Measured like a trained model, it is the baseline of the filling radius: what is
    left when every decoded image is exactly a sum of k spikes.
    """

    def __init__(self, data: SpikeData) -> None:
        if not isinstance(data, SpikeData):
            raise TypeError(f"data must be a SpikeData, got {type(data).__name__}")
        super().__init__()
        self.register_buffer("images", data.images.detach().flatten(1).float())
        self.register_buffer("params", data.params.detach().float())
        self.image_size, self.sigma = data.spec.image_size, data.spec.sigma

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The true parameters (B, k, 3) of images (B, 1, H, W) the model was built with."""
        if not isinstance(x, torch.Tensor) or x[0].numel() != self.images.shape[1]:
            raise ValueError(
                f"x must be images of {self.image_size}x{self.image_size} pixels, "
                f"got {getattr(x, 'shape', type(x).__name__)}"
            )
        flat = x.detach().flatten(1).to(self.images)
        index = torch.cdist(flat, self.images).argmin(1)  # the nearest, then exactly:
        distance = (flat - self.images[index]).norm(dim=1)
        unknown = distance > 1e-5 * (1.0 + flat.norm(dim=1))
        if unknown.any():
            raise ValueError(
                f"x[{int(unknown.nonzero()[0, 0])}] is not one of the "
                f"{len(self.images)} images the ideal encoder was built with"
            )
        return self.params[index].clone()

    def decode_atoms(self, z: torch.Tensor) -> torch.Tensor:
        """One exact spike per block: codes (B, k, 3) -> atoms (B, k, 1, H, W)."""
        if not isinstance(z, torch.Tensor) or z.ndim != 3 or z.shape[-1] != 3:
            raise ValueError(
                f"z must be codes (B, k, 3), got {getattr(z, 'shape', type(z).__name__)}"
            )
        batch, k, _ = z.shape
        z = z.to(self.images)
        flat = render_spikes(
            z[..., 0].reshape(-1, 1),
            z[..., 1:].reshape(-1, 1, 2),
            self.image_size,
            self.sigma,
        )
        return flat.view(batch, k, 1, self.image_size, self.image_size)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """phi(z): the sum of the blocks' spikes, (B, 1, H, W)."""
        return self.decode_atoms(z).sum(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(reconstruction, code)``, as :class:`~lib.atomic.model.AtomicAutoencoder`."""
        z = self.encode(x)
        return self.decode(z), z


@torch.no_grad()
def encode_decode_atoms(
    model: torch.nn.Module, images: torch.Tensor, chunk: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes (N, k, d0) and atom images (N, k, H, W) on the CPU, computed in chunks."""
    device = model_device(model)
    codes, atoms = [], []
    for start in range(0, len(images), chunk):
        z = model.encode(images[start : start + chunk].to(device))
        codes.append(z.cpu())
        atoms.append(model.decode_atoms(z)[:, :, 0].cpu())
    return torch.cat(codes), torch.cat(atoms)


def atom_centroids(atoms: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centroid (x, y) of each atom image's positive part, and its mass.

    ``atoms`` (N, k, H, W) -> centroids (N, k, 2), mass (N, k). An atom with no positive pixel has
    mass 0 and the image centre as centroid.
    """
    weights = atoms.clamp_min(0)
    height, width = atoms.shape[-2:]
    mass = weights.sum((-2, -1))  # (N, k)
    safe = mass.clamp_min(1e-12)
    xs = torch.arange(width, dtype=atoms.dtype)
    ys = torch.arange(height, dtype=atoms.dtype)
    cx = (weights.sum(-2) * xs).sum(-1) / safe
    cy = (weights.sum(-1) * ys).sum(-1) / safe
    empty = mass <= 1e-12
    cx[empty], cy[empty] = (width - 1) / 2, (height - 1) / 2
    return torch.stack([cx, cy], dim=-1), mass


def match_atoms(atom_xy: torch.Tensor, spike_xy: torch.Tensor) -> torch.Tensor:
    """Hungarian matching per image: ``index[n, j]`` = the spike drawn by atom j.

    ``atom_xy`` (N, k, 2) and ``spike_xy`` (N, k, 2); the cost is the distance between centres.
    """
    if atom_xy.shape != spike_xy.shape:
        raise ValueError(
            f"atoms and spikes differ in shape: {tuple(atom_xy.shape)}, {tuple(spike_xy.shape)}"
        )
    cost = torch.cdist(atom_xy, spike_xy).numpy()  # (N, k, k)
    index = np.empty(cost.shape[:2], dtype=np.int64)
    for n, matrix in enumerate(cost):  # k x k assignments, tiny: scipy's exact solver
        rows, cols = linear_sum_assignment(matrix)
        index[n, rows] = cols
    return torch.from_numpy(index)


PARAM_NAMES = ("amplitude", "x", "y")


@dataclass
class CoordinateReport:
    """rho[c, p]: correlation of latent coordinate c with spike parameter p, over matched atoms."""

    rho: np.ndarray  # (d0, 3) Pearson
    codes: np.ndarray  # (N * k, d0) matched atom codes
    params: np.ndarray  # (N * k, 3) their spikes' (amplitude, x, y)
    match_distance: float  # median px between an atom's centroid and its spike
    block_r2: np.ndarray  # (3,) how well the whole block predicts each parameter
    spearman: np.ndarray  # (d0, 3) Spearman: any monotone coordinate scores 1

    @property
    def best(self) -> dict[str, float]:
        """Per spike parameter, the largest |rho| over the latent coordinates."""
        return {
            name: float(np.abs(self.rho[:, j]).max())
            for j, name in enumerate(PARAM_NAMES)
        }

    @property
    def best_spearman(self) -> dict[str, float]:
        """Per spike parameter, the largest Spearman |rho| over the latent coordinates."""
        return {
            name: float(np.abs(self.spearman[:, j]).max())
            for j, name in enumerate(PARAM_NAMES)
        }

    @property
    def best_coordinate(self) -> dict[str, int]:
        return {
            name: int(np.abs(self.rho[:, j]).argmax())
            for j, name in enumerate(PARAM_NAMES)
        }


def coordinate_correlations(
    model: torch.nn.Module, images: torch.Tensor, params: torch.Tensor
) -> CoordinateReport:
    """Match atoms to spikes and correlate every latent coordinate with every spike parameter.

    ``params`` (N, k, 3) are (amplitude, x, y) per spike (:attr:`SpikeData.params`).
    """
    codes, atoms = encode_decode_atoms(model, images)
    atom_xy, _ = atom_centroids(atoms)
    params = params.cpu()
    index = match_atoms(atom_xy, params[..., 1:])
    matched = torch.gather(
        params, 1, index.unsqueeze(-1).expand(-1, -1, 3)
    )  # (N, k, 3)
    distance = (atom_xy - matched[..., 1:]).norm(dim=-1).median()
    flat_codes = codes.reshape(-1, codes.shape[-1]).double().numpy()
    flat_params = matched.reshape(-1, 3).double().numpy()
    d0 = flat_codes.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        full = np.corrcoef(flat_codes.T, flat_params.T)
    rho = np.nan_to_num(full[:d0, d0:])  # a constant coordinate correlates with nothing
    with np.errstate(invalid="ignore", divide="ignore"):
        ranks = np.corrcoef(
            rankdata(flat_codes, axis=0).T, rankdata(flat_params, axis=0).T
        )
    spearman = np.nan_to_num(ranks[:d0, d0:])
    block_r2 = block_predictability(flat_codes, flat_params)
    return CoordinateReport(
        rho, flat_codes, flat_params, float(distance), block_r2, spearman
    )


def block_predictability(
    codes: np.ndarray, params: np.ndarray, neighbours: int = 10
) -> np.ndarray:
    """R^2 of a k-nearest-neighbour regression of each parameter on the block's d0 coordinates.

    Invariant to any smooth change of coordinates inside the block: 1 when the block determines
    the parameter (whatever the axes), 0 when it says nothing about it. 5-fold cross-validated.
    """
    from sklearn.model_selection import cross_val_predict
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.preprocessing import StandardScaler

    scaled = StandardScaler().fit_transform(codes)
    regressor = KNeighborsRegressor(n_neighbors=neighbours)
    predicted = cross_val_predict(regressor, scaled, params, cv=5)
    residual = ((predicted - params) ** 2).mean(0)
    return 1.0 - residual / params.var(0).clip(1e-12)


@torch.no_grad()
def reconstruction_correlations(
    model: torch.nn.Module,
    images: torch.Tensor,
    params: torch.Tensor,
    sigma: float,
    fit_steps: int = 50,
    separation: float = 2.0,
    chunk: int = 256,
    code_steps: int = 0,
    code_lr: float = 0.05,
) -> dict[str, float]:
    """Does the decoder draw each spike parameter? Pearson's rho of fitted against true.

    ``code_steps`` > 0 asks what the decoder *can* draw rather than what the encoder asks of
    it: each image's code starts at f_E(x) and is fitted to the image through the frozen
    decoder (:func:`decoder_fitted_codes`, ``code_steps`` Adam steps at ``code_lr``), so a
    parameter the encoder leaves out of the code but the decoder can show still counts as
    drawn. k spikes of width ``sigma`` are fitted to each reconstruction f_D(z) (least squares,
    free amplitudes and centres: :func:`lib.data.spikes.fit_spikes` without bounds, ``fit_steps``
    L-BFGS iterations; 50 recover the data's own parameters to rho 0.9999), matched
    one to one to the true spikes (Hungarian, on the centres), and each fitted parameter is
    correlated with the true one over all spikes of the images whose true spikes are at
    least ``separation`` sigmas apart: two spikes closer than that sum to nearly one spike,
    whose share of brightness no fit can tell, even on the data themselves. ``params``
    (N, k, 3) are the true (amplitude, x, y) per spike (:attr:`SpikeData.params`). About 1
    when the reconstructions show the parameter; near 0 when they draw every spike alike in
    it (the loss could then not have taught the code that parameter). Returns {amplitude, x,
    y} -> rho.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(
            f"images must be (N, 1, H, W), got {getattr(images, 'shape', type(images))}"
        )
    if (
        not isinstance(params, torch.Tensor)
        or params.ndim != 3
        or params.shape[0] != len(images)
        or params.shape[-1] != 3
    ):
        raise ValueError(
            f"params must be (N, k, 3) for {len(images)} images, "
            f"got {getattr(params, 'shape', type(params))}"
        )
    if isinstance(separation, bool) or not (
        np.isfinite(separation) and separation >= 0
    ):
        raise ValueError(
            f"separation must be a number of sigmas >= 0, got {separation!r}"
        )
    true = params.detach().cpu().double()
    gaps = torch.cdist(true[..., 1:], true[..., 1:])  # (N, k, k) between true centres
    gaps = gaps.masked_fill(torch.eye(true.shape[1], dtype=torch.bool), np.inf)
    apart = gaps.flatten(1).amin(1) >= separation * sigma  # (N,)
    if int(apart.sum()) < 3:
        raise ValueError(
            f"images must hold at least 3 images whose spikes are {separation} sigma "
            f"apart, got {int(apart.sum())} of {len(images)}"
        )
    images, true = images[apart.to(images.device)], true[apart]
    device = model_device(model)
    if (
        isinstance(code_steps, bool)
        or not isinstance(code_steps, int)
        or code_steps < 0
    ):
        raise ValueError(f"code_steps must be an integer >= 0, got {code_steps!r}")
    parts = []
    for start in range(0, len(images), chunk):
        batch = images[start : start + chunk].to(device)  # (b, 1, H, W)
        with torch.no_grad():
            codes = model.encode(batch)
        if code_steps:
            codes = decoder_fitted_codes(model, batch, codes, code_steps, code_lr)
        with torch.no_grad():
            parts.append(model.decode(codes).cpu())
    recon = torch.cat(parts)
    fit = fit_spikes(recon, params.shape[1], sigma, steps=fit_steps)
    # fitted spike j of image n -> the true spike it draws (Hungarian, on the centres)
    index = match_atoms(fit.centres.double(), true[..., 1:])
    matched = torch.gather(true, 1, index.unsqueeze(-1).expand(-1, -1, 3))
    fitted = torch.cat([fit.amplitudes.unsqueeze(-1), fit.centres], -1).double()
    out = {}
    for j, name in enumerate(PARAM_NAMES):
        a, b = fitted[..., j].flatten().numpy(), matched[..., j].flatten().numpy()
        if a.std() < 1e-12 or b.std() < 1e-12:  # nothing varies: nothing is followed
            out[name] = 0.0
        else:
            out[name] = float(np.corrcoef(a, b)[0, 1])
    return out


def decoder_fitted_codes(
    model: torch.nn.Module,
    images: torch.Tensor,
    codes: torch.Tensor,
    steps: int,
    lr: float = 0.05,
) -> torch.Tensor:
    """Codes fitted to ``images`` through the frozen decoder: Adam on the squared error of
    f_D(z), ``steps`` steps at ``lr``, from ``codes`` (e.g. the encoder's). What the decoder
    can draw, as far as this search finds it; the model's weights are not changed."""
    if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not isinstance(codes, torch.Tensor) or len(codes) != len(images):
        raise ValueError("codes must be a tensor with one code per image")
    z = codes.detach().clone().requires_grad_(True)  # (b, k * d0)
    optimiser = torch.optim.Adam([z], lr=lr)
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        with torch.enable_grad():
            for _ in range(steps):
                optimiser.zero_grad(set_to_none=True)
                loss = (
                    (model.decode(z) - images).pow(2).sum()
                )  # per-image terms: separable
                loss.backward()
                optimiser.step()
    finally:
        for p in frozen:
            p.requires_grad_(True)
    return z.detach()


@dataclass
class FillingCurve:
    """Median relative residual of a k-spike fit to decoded perturbed codes, per |delta|."""

    deltas: np.ndarray  # (D,) perturbation sizes, in units of the codes' spread
    residual: np.ndarray  # (D,) median over codes and directions
    low: np.ndarray  # (D,) 25th percentile
    high: np.ndarray  # (D,) 75th percentile


@torch.no_grad()
def filling_curve(
    model: torch.nn.Module,
    images: torch.Tensor,
    deltas: np.ndarray | list[float],
    n_spikes: int,
    sigma: float,
    seed: int = 0,
    fit_steps: int = 100,
    bounds: SpikeSpec | None = None,
) -> FillingCurve:
    """How far decoded codes z + delta * u stay from Sigma, as |delta| grows.

    u is a random direction in the full code space R^{k d0}, scaled coordinate-wise by the spread
    (standard deviation over ``images``) of the codes, so that |delta| = 1 means "one code
    spread" whatever the model's code scale; |u| = 1 before scaling. Each decoded image is fitted
    with ``n_spikes`` spikes of width ``sigma`` (:func:`lib.data.spikes.fit_spikes`) and the
    relative residual ||x - fit||^2 / ||x||^2 recorded. delta = 0 measures the reconstructions.
    ``bounds`` (the data's :class:`~lib.data.spikes.SpikeSpec`) confines the fit to Sigma's
    parameter ranges; without it the fit may use any amplitude and any centre, a larger set.
    """
    device = model_device(model)
    z = model.encode(images.to(device)).flatten(1).cpu()  # (N, k d0)
    direction = _spread_directions(z, seed)
    shape = model.encode(images[:1].to(device)).shape[1:]
    medians, lows, highs = [], [], []
    for delta in deltas:
        codes = (z + float(delta) * direction).view(-1, *shape).to(device)
        decoded = model.decode(codes).cpu()
        fit = fit_spikes(decoded, n_spikes, sigma, steps=fit_steps, bounds=bounds)
        q = torch.quantile(fit.residual, torch.tensor([0.25, 0.5, 0.75]))
        lows.append(float(q[0]))
        medians.append(float(q[1]))
        highs.append(float(q[2]))
    return FillingCurve(
        np.asarray(deltas, float), np.array(medians), np.array(lows), np.array(highs)
    )


def filling_radius(curve: FillingCurve, tolerance: float) -> float:
    """The largest |delta| whose median residual (and every smaller one's) is <= ``tolerance``.

    0 when even the unperturbed reconstructions miss the tolerance.
    """
    radius = 0.0
    for delta, residual in zip(curve.deltas, curve.residual, strict=True):
        if residual > tolerance:
            break
        radius = float(delta)
    return radius


@dataclass
class BracketedRadius:
    """A filling radius with the first grid step beyond it: the true radius is in between.

    ``beyond`` is 0 when even the reconstructions (delta = 0) miss the threshold, and infinite
    when the grid reached ``max_delta`` still within it (not bracketed). ``threshold`` is the
    median residual the radius was measured against (:func:`bracketed_filling_radius`).
    """

    radius: float  # the largest delta whose residual, and every smaller one's, is in tolerance
    beyond: float  # the first delta of the grid whose median residual exceeds tolerance
    curve: FillingCurve
    threshold: float = float("nan")  # the residual allowed (nan: not recorded)

    @property
    def bracketed(self) -> bool:
        return bool(np.isfinite(self.beyond))

    def format(self) -> str:
        if not self.bracketed:
            return f">= {self.radius:g} (not bracketed)"
        if self.beyond == 0:
            return "0 (reconstructions off Sigma)"
        return f"{self.radius:g} (fails at {self.beyond:g})"

    def scaled(self, factor: float) -> BracketedRadius:
        """The same bracket with ``radius`` and ``beyond`` multiplied by ``factor`` > 0 (to
        compare codes of different sizes per coordinate moved: see :func:`radius_order`)."""
        if isinstance(factor, bool) or not (np.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be a finite number > 0, got {factor!r}")
        return BracketedRadius(
            self.radius * factor, self.beyond * factor, self.curve, self.threshold
        )


def _spread_directions(z: torch.Tensor, seed: int) -> torch.Tensor:
    """One random unit direction per code (N, D), scaled coordinate-wise by the codes' spread."""
    spread = z.std(0).clamp_min(1e-6)
    generator = torch.Generator().manual_seed(seed)
    direction = torch.randn(z.shape, generator=generator)
    return direction / direction.norm(dim=1, keepdim=True) * spread


@torch.no_grad()
def decode_along_direction(
    model: torch.nn.Module,
    images: torch.Tensor,
    deltas: np.ndarray | list[float],
    seed: int = 0,
    index: int = 0,
) -> torch.Tensor:
    """The decoded images z + delta u of test code ``index`` for each delta: (D, 1, H, W).

    z and u are those of :func:`filling_curve` with the same ``images`` and ``seed``, so the
    pictures show the very perturbations the curve measures.
    """
    if not 0 <= index < len(images):
        raise ValueError(f"index must be in 0..{len(images) - 1}, got {index}")
    device = model_device(model)
    codes = model.encode(images.to(device))  # (N, k, d0) or (N, D)
    z = codes.flatten(1).cpu()
    direction = _spread_directions(z, seed)[index]
    steps = torch.as_tensor(np.asarray(deltas, float), dtype=z.dtype).unsqueeze(1)
    moved = (z[index] + steps * direction).view(-1, *codes.shape[1:])
    return model.decode(moved.to(device)).cpu()


def bracketed_filling_radius(
    model: torch.nn.Module,
    images: torch.Tensor,
    deltas: np.ndarray | list[float],
    n_spikes: int,
    sigma: float,
    tolerance: float,
    seed: int = 0,
    fit_steps: int = 100,
    bounds: SpikeSpec | None = None,
    grow: float = 2.0,
    max_delta: float = 256.0,
    relative: bool = False,
) -> BracketedRadius:
    """:func:`filling_radius` on a grid widened until the radius is bracketed.

    While the largest delta of the grid is still within the threshold, a delta ``grow`` times
    larger is added (the same directions: the curve's seed is fixed), so that no radius is
    reported at the grid's end. Past ``max_delta`` it stops and reports the radius as not
    bracketed (``beyond`` infinite): the decoded images do not leave the set the fit can reach,
    which with ``bounds`` None may mean the fit is too lax.

    The threshold is ``tolerance`` itself, or with ``relative`` the model's own median
    residual at delta = 0 plus ``tolerance`` (the grid must then start at 0): a perturbed
    code may leave at most ``tolerance`` more of the image's energy to the fit than the
    model's reconstructions do, so that models whose reconstructions sit at different
    distances from Sigma get the same room.
    """
    if (
        isinstance(grow, bool)
        or not grow > 1
        or isinstance(tolerance, bool)
        or not tolerance > 0
    ):
        raise ValueError(
            f"grow must exceed 1 and tolerance be positive, got {grow}, {tolerance}"
        )
    deltas = [float(d) for d in deltas]
    if not deltas or any(b <= a for a, b in zip(deltas, deltas[1:])) or deltas[-1] <= 0:
        raise ValueError(f"deltas must increase and end above 0, got {deltas}")
    if relative and deltas[0] != 0:
        raise ValueError(f"relative: deltas must start at 0, got {deltas[0]}")
    curve = filling_curve(
        model, images, deltas, n_spikes, sigma, seed, fit_steps, bounds
    )
    threshold = float(tolerance + (curve.residual[0] if relative else 0.0))
    while curve.residual[-1] <= threshold:
        delta = curve.deltas[-1] * grow
        if delta > max_delta:  # within tolerance to the end: not bracketed
            return BracketedRadius(
                float(curve.deltas[-1]), float("inf"), curve, threshold
            )
        more = filling_curve(
            model, images, [delta], n_spikes, sigma, seed, fit_steps, bounds
        )
        curve = FillingCurve(
            *(
                np.concatenate([getattr(curve, f), getattr(more, f)])
                for f in ("deltas", "residual", "low", "high")
            )
        )
    # the first delta out of tolerance (the loop above guarantees there is one)
    failing = int(np.argmax(curve.residual > threshold))
    radius = float(curve.deltas[failing - 1]) if failing else 0.0
    return BracketedRadius(radius, float(curve.deltas[failing]), curve, threshold)


@dataclass
class PairingReport:
    """Per image: is each atom one cross, or the arms of two different crosses?"""

    mixed_fraction: float  # atoms whose two lines belong to different crosses
    line_error: float  # median px between an atom's lines and the nearest true lines
    mixed_fraction_apart: (
        float  # the same, over images whose crosses are >= min_gap apart
    )
    apart_fraction: (
        float  # share of images whose crosses are >= min_gap apart in x and y
    )


@torch.no_grad()
def cross_pairing(
    model: torch.nn.Module,
    images: torch.Tensor,
    centres: torch.Tensor,
    min_gap: float = 4.0,
) -> PairingReport:
    """Read each atom's horizontal line (its brightest row) and vertical line (brightest column).

    An atom is *mixed* when the true cross nearest to its row (in y) is not the true cross nearest
    to its column (in x): it pairs the coordinates of two different crosses, as in Proposition
    II.2. ``centres`` (N, k, 2) are the crosses' (x, y). When two crosses share (nearly) a row or a
    column, reading which line is whose is ambiguous, so the mixed fraction is also reported over
    the images whose crosses are at least ``min_gap`` pixels apart in x and in y.
    """
    _, atoms = encode_decode_atoms(model, images)  # (N, k, H, W)
    rows = (
        atoms.clamp_min(0).sum(-1).argmax(-1).float()
    )  # (N, k): y of the horizontal line
    cols = (
        atoms.clamp_min(0).sum(-2).argmax(-1).float()
    )  # (N, k): x of the vertical line
    true_x, true_y = centres[..., 0].cpu(), centres[..., 1].cpu()  # (N, k)
    dy = (rows.unsqueeze(-1) - true_y.unsqueeze(1)).abs()  # (N, k atoms, k crosses)
    dx = (cols.unsqueeze(-1) - true_x.unsqueeze(1)).abs()
    mixed = dy.argmin(-1) != dx.argmin(-1)  # (N, k)
    line_error = torch.cat([dy.amin(-1).flatten(), dx.amin(-1).flatten()]).median()
    gap_x = (true_x.unsqueeze(-1) - true_x.unsqueeze(1)).abs()  # (N, k, k)
    gap_y = (true_y.unsqueeze(-1) - true_y.unsqueeze(1)).abs()
    off_diagonal = ~torch.eye(true_x.shape[1], dtype=torch.bool)
    apart = ((gap_x >= min_gap) & (gap_y >= min_gap))[:, off_diagonal].all(-1)  # (N,)
    mixed_apart = (
        mixed[apart].float().mean() if apart.any() else torch.tensor(float("nan"))
    )
    return PairingReport(
        float(mixed.float().mean()),
        float(line_error),
        float(mixed_apart),
        float(apart.float().mean()),
    )


# --------------------------------------------------------------------------------------------
# the chapter's verdict: its parts, their rules and each part's adequacy check
# --------------------------------------------------------------------------------------------
# adequacy: the reconstructions leave at most this share of the test images' energy
ENERGY_LEFT_GOAL = 0.2
R2_GOAL = 0.8  # a block "knows" a parameter: cross-validated R^2 above this
RHO_GOAL = 0.9  # one coordinate "follows" a parameter: |rho| above this
# a part's adequacy: the decoder draws a parameter when the values fitted to the
# reconstructions follow the true ones with Pearson |rho| above this (chosen on 2026-12-07,
# issue 42: what part 4 asks of one coordinate; its square, 0.81, is above R2_GOAL)
DRAWN_GOAL = 0.9
# ... measured on codes fitted through the frozen decoder (what it can draw, not what the
# encoder asks of it: chosen on 2026-12-07 after a review, see the rule's history), on the
# first DRAWN_IMAGES test images, DRAWN_CODE_STEPS Adam steps each
DRAWN_CODE_STEPS = 300
DRAWN_IMAGES = 200

VERDICT_PARTS = (
    "one atom per spike",
    "block knows position",
    "block knows amplitude",
    "one coordinate per parameter",
)
# the spike parameters each part needs the decoder to draw (its adequacy check)
PART_NEEDS = {
    VERDICT_PARTS[0]: ("x", "y"),
    VERDICT_PARTS[1]: ("x", "y"),
    VERDICT_PARTS[2]: ("amplitude",),
    VERDICT_PARTS[3]: PARAM_NAMES,
}
PART_OUTCOMES = ("holds", "fails", "inadequate", "not recorded")
OUTCOMES = ("reproduced", "partly reproduced", "not reproduced", "inconclusive")

ATOMIC_VERDICT_RULE = f"""\
The rule, on the spike test set, and when each piece was written. The model's adequacy and
parts 1-3 were written on 2026-11-27, after an earlier version of the chapter had measured
the shipped model's block R^2, Pearson |rho| and atom distances: their outcome on that model
was known. Part 4 was written then with the statistic it uses (Spearman's rho, new), after
Pearson's values had been seen. The parts' own adequacy checks were added on 2026-12-07
(issue 42), after the shipped model's reconstructions had been seen to show the spikes'
amplitudes poorly: part 3's outcome on that model was known when its check was chosen. The
same day a review showed that check measured the encoder as much as the decoder; it now
fits the codes through the frozen decoder (part 3's outcome on that model was not known).
  adequacy of the model: the reconstructions leave at most {ENERGY_LEFT_GOAL:.0%} of the test
    images' energy (test MSE / mean squared pixel); a model that misses it makes the verdict
    inconclusive, whatever its parts say.
  adequacy of each part: the decoder must be able to draw what the part asks the code to
    know. Each of the first {DRAWN_IMAGES} test images gets the code that the frozen decoder
    reconstructs it best from ({DRAWN_CODE_STEPS} Adam steps from the encoder's code); k
    spikes are fitted to each such reconstruction (least squares, free amplitudes and
    centres) and matched to the true ones; a parameter is drawn when the fitted values follow
    the true ones with Pearson |rho| > {DRAWN_GOAL} (the number part 4 asks of one coordinate). A part that
    passes its test holds. One that fails it is "inadequate", not "fails", when what it
    failed on is not drawn (part 1: x or y not drawn; parts 2-4: none of the parameters it
    missed drawn): the loss cannot teach a code what the reconstructions do not show. A
    failing part whose check was not measured is "not recorded".
  1. one atom per spike: the median distance from an atom's centroid to its matched
     spike is below the spike's width sigma;
  2. the block knows its spike's position: block R^2 > {R2_GOAL} for x and for y;
  3. the block knows its spike's amplitude: block R^2 > {R2_GOAL} for the amplitude;
  4. one coordinate per parameter (the paper's navigation, Fig. 3): for each of
     amplitude, x and y, some coordinate has Spearman |rho| > {RHO_GOAL} (not recorded
     where Spearman's rho was not).
The claim (each block encodes one spike, its position and its amplitude, movable on its
own), for an adequate model: reproduced when every part holds, partly reproduced when
some hold, not reproduced when none holds and one fails at least, inconclusive when none
holds and none fails (every part inadequate or not recorded)."""


@dataclass(frozen=True)
class AtomicVerdict:
    """:data:`ATOMIC_VERDICT_RULE` applied: each part's outcome and the verdict."""

    adequate: bool
    parts: dict[str, str]  # part name (VERDICT_PARTS) -> an outcome of PART_OUTCOMES
    verdict: str  # an outcome of OUTCOMES

    def format(self) -> str:
        parts = "; ".join(f"{name}: {outcome}" for name, outcome in self.parts.items())
        adequacy = "adequate" if self.adequate else "not adequate"
        return f"{adequacy}; {parts} -> {self.verdict}"

    def named(self, outcome: str) -> list[str]:
        """The parts whose outcome is ``outcome`` (one of :data:`PART_OUTCOMES`)."""
        if outcome not in PART_OUTCOMES:
            raise ValueError(f"outcome must be one of {PART_OUTCOMES}, got {outcome!r}")
        return [name for name, got in self.parts.items() if got == outcome]


def _parameter_values(name: str, values: dict, low: float, high: float) -> dict:
    if not isinstance(values, dict) or set(values) != set(PARAM_NAMES):
        raise ValueError(f"{name} must map {PARAM_NAMES} to numbers, got {values!r}")
    if any(
        isinstance(v, bool) or not isinstance(v, (int, float)) for v in values.values()
    ):
        raise ValueError(f"{name} must map {PARAM_NAMES} to numbers, got {values!r}")
    out = {key: float(value) for key, value in values.items()}
    bad = {k: v for k, v in out.items() if not (np.isfinite(v) and low <= v <= high)}
    if bad:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {bad}")
    return out


def _part_outcome(
    passes: bool, failing: tuple[str, ...], drawn: dict | None, joint: bool = False
) -> str:
    """holds / fails / inadequate / not recorded, from a part's test and its check.

    ``failing``: the parameters the failed test is about. Per parameter (``joint`` False) the
    part fails when one of them is drawn and is inadequate when none is; a joint test (part
    1, on x and y together) fails only when all of them are drawn.
    """
    if passes:
        return "holds"
    if drawn is None:
        return "not recorded"
    seen = [drawn[name] for name in failing]
    return "fails" if (all(seen) if joint else any(seen)) else "inadequate"


def atomic_claim_verdict(
    *,
    energy_left: float,
    match_distance: float,
    sigma: float,
    block_r2: dict[str, float],
    best_rho: dict[str, float] | None,
    reconstruction_rho: dict[str, float] | None,
) -> AtomicVerdict:
    """Apply :data:`ATOMIC_VERDICT_RULE`.

    ``energy_left``: test MSE / mean squared pixel; ``match_distance``: median px from an
    atom's centroid to its spike; ``block_r2`` and ``best_rho`` map amplitude, x and y to the
    block's R^2 and the best single coordinate's Spearman |rho| (:class:`CoordinateReport`);
    ``reconstruction_rho`` maps them to Pearson's rho of the parameters fitted to the
    reconstructions against the true ones (:func:`reconstruction_correlations` with
    ``code_steps=DRAWN_CODE_STEPS`` on ``DRAWN_IMAGES`` images). ``best_rho``
    None: Spearman's rho was not recorded, and part 4 is "not recorded";
    ``reconstruction_rho`` None: the parts' adequacy was not measured, and a part whose test
    fails is "not recorded".
    """
    numbers = {
        "energy_left": energy_left,
        "match_distance": match_distance,
        "sigma": sigma,
    }
    for name, value in numbers.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float, np.floating))
            or not np.isfinite(float(value))
            or float(value) < 0
        ):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    r2 = _parameter_values("block_r2", block_r2, -np.inf, 1.0)
    rho = (
        None if best_rho is None else _parameter_values("best_rho", best_rho, 0.0, 1.0)
    )
    drawn = None
    if reconstruction_rho is not None:
        fitted = _parameter_values("reconstruction_rho", reconstruction_rho, -1.0, 1.0)
        drawn = {name: abs(value) > DRAWN_GOAL for name, value in fitted.items()}
    one, position, amplitude, coordinate = VERDICT_PARTS
    # the parameters each part's test missed (part 1 tests x and y jointly)
    missed_r2 = {
        part: tuple(n for n in PART_NEEDS[part] if not r2[n] > R2_GOAL)
        for part in (position, amplitude)
    }
    parts = {
        one: _part_outcome(
            float(match_distance) < float(sigma), PART_NEEDS[one], drawn, joint=True
        ),
        position: _part_outcome(not missed_r2[position], missed_r2[position], drawn),
        amplitude: _part_outcome(not missed_r2[amplitude], missed_r2[amplitude], drawn),
    }
    if rho is None:
        parts[coordinate] = "not recorded"
    else:
        missed = tuple(n for n in PART_NEEDS[coordinate] if not rho[n] > RHO_GOAL)
        parts[coordinate] = _part_outcome(not missed, missed, drawn)
    adequate = float(energy_left) <= ENERGY_LEFT_GOAL
    outcomes = list(parts.values())
    if not adequate:
        verdict = "inconclusive"
    elif all(outcome == "holds" for outcome in outcomes):
        verdict = "reproduced"
    elif "holds" in outcomes:
        verdict = "partly reproduced"
    elif "fails" in outcomes:
        verdict = "not reproduced"
    else:  # every part inadequate or not recorded
        verdict = "inconclusive"
    return AtomicVerdict(adequate, parts, verdict)


def format_filling_radii(
    radii: dict[str, list[BracketedRadius]],
    seeds: tuple[int, ...] | list[int],
    baselines: dict[str, BracketedRadius] | None = None,
) -> str:
    """A plain-text table: per model and seed, the median residual of the reconstructions
    (delta = 0), the residual allowed (``threshold``) and the bracketed radius (``radius``
    within it, ``fails at`` beyond it). ``baselines`` (label -> one radius, such as
    :class:`IdealAtomicAutoencoder`'s) come first, with no seed."""
    lines = [
        f"{'model':>16} {'seed':>4} {'residual, delta 0':>18} {'allowed':>8} "
        f"{'radius':>7} {'fails at':>9}"
    ]

    def row(label: str, seed: str, bracket: BracketedRadius) -> str:
        return (
            f"{label:>16} {seed:>4} {bracket.curve.residual[0]:>18.4f} "
            f"{bracket.threshold:>8.4f} {bracket.radius:>7g} {bracket.beyond:>9g}"
        )

    for label, bracket in (baselines or {}).items():
        if not isinstance(bracket, BracketedRadius):
            raise ValueError(
                f"baseline {label}: a BracketedRadius, got {bracket!r:.60}"
            )
        lines.append(row(label, "-", bracket))
    for label, brackets in radii.items():
        if len(brackets) != len(seeds):
            raise ValueError(f"{label}: {len(brackets)} radii for {len(seeds)} seeds")
        for seed, bracket in zip(seeds, brackets, strict=True):
            lines.append(row(label, str(seed), bracket))
    return "\n".join(lines)


def radius_order(
    first: list[BracketedRadius],
    second: list[BracketedRadius],
    scale_first: float = 1.0,
) -> str:
    """Compare two models' filling radii over their seeds, brackets included.

    "larger" when every seed of ``first`` stays within tolerance at least as far as every seed
    of ``second`` fails (``first``'s smallest radius >= ``second``'s largest ``beyond``),
    "smaller" the other way round, "not separated" when the brackets overlap.
    ``scale_first`` multiplies ``first``'s radii and brackets before comparing: 1/sqrt(2)
    compares a code of 2D coordinates with one of D per coordinate moved (a unit direction
    moves each of 2D coordinates 1/sqrt(2) as far as each of D at the same |delta|).
    """
    if not first or not second:
        raise ValueError("each model needs at least one radius")
    first = [bracket.scaled(scale_first) for bracket in first]
    above = min(b.radius for b in first) >= max(b.beyond for b in second)
    below = min(b.radius for b in second) >= max(b.beyond for b in first)
    if above and not below:
        return "larger"
    if below and not above:
        return "smaller"
    return "not separated"  # overlapping brackets, or every radius 0 with its bracket
