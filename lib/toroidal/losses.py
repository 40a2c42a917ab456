"""Losses of the Toroidal AutoEncoder (Mikulski & Duda, "Toroidal AutoEncoder", arXiv:1903.12286).

The latent is ``z = (X, Y)`` in R^{2d}. In polar coordinates (Eq. 1), ``r_i^2 = x_i^2 + y_i^2``
and ``phi_i = atan2(y_i, x_i)``. The angles ``Phi`` should be uniform on the d-torus
[-pi, pi]^d, and the radii should be close to 1.

- :func:`spring_loss` (Eq. 2): the *circular spring loss*. Per latent angle, it pushes the batch's
  sorted angles towards equal spacing around the circle.
- :func:`quantile_loss` (Eqs. 3-5): pulls the sorted values towards the quantiles of N(mu, sigma).
  The paper applies it to r^2 (footnote 1).
- :func:`torus_objective`: the full objective, i.e. reconstruction + auxiliary classifier + spring +
  quantile (+ optional decorrelation). With all regulariser weights at 0 it is a plain AE.
  :func:`torus_ae_loss` is the same as a training loss in the book's convention,
  ``loss(model, batch) -> (total, parts)``.
- :func:`decorrelation_loss`: our version of the independence condition that Sect. 5 proposes as
  future work. It is not part of the paper's objective.

The paper publishes no code and gives no loss weights. The choices made here are documented in
:class:`TorusLossWeights`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lib.config import BaseConfig
from lib.errors import check_real
from lib.toroidal.model import DigitJudge

TAU = 2 * math.pi  # the period; the paper writes tau = 2 pi, citing the tau manifesto


def spring_loss(phi: torch.Tensor, period: float = TAU) -> torch.Tensor:
    """Circular spring loss, Eq. 2 of the paper.

    ``phi`` has shape (S, d) and holds angles in [-pi, pi]: S batch samples, d latent angles.
    For each dimension i the batch is sorted, ``phi_i^{O_1} <= ... <= phi_i^{O_S}``. The loss is

        L = sum_i [ (phi_i^{O_1} + tau - phi_i^{O_S})^2 + sum_{s=1}^{S-1} (phi_i^{O_s} - phi_i^{O_{s+1}})^2 ].

    Picture S balls on a ring, joined by springs. The S gaps always add up to tau, so the sum of
    their squares is smallest when all gaps equal tau / S. The minimum is d * tau^2 / S. For i.i.d.
    uniform angles the expected value is 2 d tau^2 / (S + 1), about twice the minimum. The value
    shrinks like 1/S, and so does the gradient on each sample, like a batch-mean loss.

    Gradients: ``torch.sort`` passes gradients back to the sorted values. The order itself is
    piecewise constant, so this is the usual sorting-based estimator that SWAE also uses.
    """
    if phi.dim() != 2:
        raise ValueError(f"phi must have shape (S, d), got {tuple(phi.shape)}")
    if phi.shape[0] < 2:
        raise ValueError("the spring loss needs at least 2 samples in the batch")
    sorted_phi = torch.sort(phi, dim=0).values  # (S, d)
    gaps = sorted_phi[1:] - sorted_phi[:-1]  # (S-1, d), consecutive springs
    wrap = sorted_phi[0] + period - sorted_phi[-1]  # (d,), the spring across +-pi
    return gaps.pow(2).sum() + wrap.pow(2).sum()


def normal_quantiles(
    n: int,
    mu: float = 1.0,
    sigma: float = 0.1,
    *,
    device=None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``q_s = CDF^{-1}_{N(mu, sigma)}((s - 1/2) / n)`` for s = 1..n (Eqs. 3-4), shape (n,).

    Eq. 4 writes the inverse CDF as ``mu + sqrt(2) sigma erfinv(2z - 1)``. That is the same as
    ``mu + sigma * ndtri(z)``; ``ndtri`` is used because it is more accurate in the tails.
    """
    device = torch.device("cpu") if device is None else torch.device(device)
    return _normal_quantiles(n, mu, sigma, device, dtype)


@functools.lru_cache(maxsize=64)
def _normal_quantiles(
    n: int, mu: float, sigma: float, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    # Kept once per size and device: a copy from the CPU every step would make the host wait
    # for the GPU, and a CUDA graph cannot record it. Computed in float64 on the CPU (MPS has
    # no float64), then moved to the values' device and dtype. Callers do not write into it.
    levels = (torch.arange(1, n + 1, dtype=torch.float64) - 0.5) / n
    return (mu + sigma * torch.special.ndtri(levels)).to(device=device, dtype=dtype)


def quantile_loss(
    values: torch.Tensor, mu: float = 1.0, sigma: float = 0.1
) -> torch.Tensor:
    """Quantile loss, Eq. 5: ``sum_i sum_s (v_i^{o_{i,s}} - q_s)^2``.

    ``values`` has shape (S, d). Each column is sorted and compared with the S quantiles ``q_s`` of
    N(mu, sigma) from Eq. 3. The loss is zero exactly when every column is a permutation of the
    quantiles. This is a one-dimensional, per-coordinate Wasserstein-2 fit: like SWAE, but with
    fixed quantiles instead of prior samples, and with no control over correlations between columns.

    Footnote 1 of the paper: they "use square of the radius in order to avoid instability of
    derivative of square root in proximity of zero". So they pass ``r^2``, not r, with mu = 1 and
    sigma = 0.1. Near r = 1, r^2 ~ N(1, 0.1) means that r is roughly N(1, 0.05).
    """
    if values.dim() != 2:
        raise ValueError(f"values must have shape (S, d), got {tuple(values.shape)}")
    q = normal_quantiles(
        values.shape[0], mu, sigma, device=values.device, dtype=values.dtype
    )  # (S,)
    sorted_values = torch.sort(values, dim=0).values  # (S, d)
    return (sorted_values - q[:, None]).pow(2).sum()


def decorrelation_loss(phi: torch.Tensor, harmonics: int = 2) -> torch.Tensor:
    """Beyond the paper: a penalty on the dependence between different angles.

    Sect. 5 of the paper proposes to use the fact that "expected value of product is product of
    expected values for independent variables". We make this precise with complex exponentials.
    phi_a and phi_b are independent exactly when, for all integers m and n,

        E[e^{i(m phi_a + n phi_b)}] = E[e^{i m phi_a}] E[e^{i n phi_b}].

    These are the Fourier coefficients of the joint density, and they factorise.

    Only one product, ``E[e^{i phi_a} e^{i phi_b}]``, is *not* enough. If phi_b = phi_a and the
    angles are uniform, both sides are 0, yet the angles are fully dependent. So we use both signs
    (m, +-n) and harmonics m, n = 1..``harmonics``. Writing out the real and imaginary parts, the sum
    of ``|joint - product|^2`` over both signs equals twice the sum of the squared cross-covariances
    between the Fourier features (cos m phi_a, sin m phi_a) and (cos n phi_b, sin n phi_b). This
    function returns that sum (without the factor 2) over all pairs a < b.

    By Parseval, with all harmonics this is the squared L2 distance between the joint density and
    the product of its marginals. Truncating at ``harmonics`` keeps the smooth part of it, and
    harmonics=1 already covers the Fisher-Lee circular correlation.

    The value is invariant to rotating any angle, and 0 for a d = 1 latent. For independent angles
    the batch estimate is not 0 but about ``d(d-1)/2 * harmonics^2 / S``, the noise floor of
    covariances estimated from S samples. For phi_b = +-phi_a + c, each such pair adds harmonics / 2.
    """
    if phi.dim() != 2:
        raise ValueError(f"phi must have shape (S, d), got {tuple(phi.shape)}")
    S, d = phi.shape
    m = torch.arange(1, harmonics + 1, device=phi.device, dtype=phi.dtype)  # (K,)
    angles = phi[:, :, None] * m  # (S, d, K)
    feats = torch.cat([torch.cos(angles), torch.sin(angles)], dim=2)  # (S, d, 2K)
    feats = feats - feats.mean(dim=0, keepdim=True)
    cov = torch.einsum("sai,sbj->abij", feats, feats) / S  # (d, d, 2K, 2K)
    # pairs a < b, row by row (the order a boolean mask selects in; indices, unlike a mask,
    # need no wait for the device, so a CUDA graph can record the step)
    a, b = torch.triu_indices(d, d, offset=1, device=phi.device)
    return cov[a, b].pow(2).sum()


@dataclass
class TorusLossWeights(BaseConfig):
    """Weights of the terms in :func:`torus_ae_loss`. The paper gives none, so these are our choice.

    The terms, as they enter the total:

    - ``recon``: binary cross-entropy, summed over the 784 pixels and averaged over the batch
      (nats per image). It is about 543 at initialisation (outputs about 0.5) and about 100-180 after
      training. We use BCE, not MSE, because MNIST intensities lie in [0, 1] and the decoder ends in a
      sigmoid.
    - ``classifier``: cross-entropy of the auxiliary classifier, averaged over the batch
      (about 2.3 at initialisation).
    - ``spring``: Eq. 2 as written, a sum over the batch. Its per-sample gradient already scales
      like 1/S (the gaps are about tau/S), the same scale as a batch-mean loss.
    - ``quantile``: Eq. 5 divided by the batch size S. Eq. 5 sums S terms whose gradients do not
      shrink with S. Dividing by S gives its per-sample gradient the same 1/S scale as the other
      terms, so the weights below do not depend on the batch size.
    - ``decorrelation``: :func:`decorrelation_loss`. It is 0 by default because it is not in the
      paper.

    How we chose the defaults (CPU runs on the 5,000-digit MNIST subset with channels (16, 32, 32),
    batch 128, Adam 1e-3; the sweep's record ships as ``lib/pretrained/toroidal/sweep.jsonl``, written
    by ``experiments/torus_sweep.py``):

    - At initialisation the encoder puts every image near the origin (r^2 ~ 0.005) and at almost
      the same angle (spring ~ 108, close to its maximum d tau^2 = 118).
    - Near the origin the two regularisers pull with very different strengths. atan2 multiplies
      the spring gradient on (x, y) by 1/r, while the quantile gradient on x carries a factor
      d(r^2)/dx = 2x. With a strong spring the angles spread first, inside a small disc, and the
      radii grow to 1 afterwards (after about 500 steps at spring = 10,000).
    - Held-out uniformity improved with the spring weight up to 10,000 (per-angle KS about
      0.3-0.4 at 1,000, 0.06-0.15 at 10,000 over three seeds, after 1,000 steps); 30,000 was no
      better. No setting reached 0.05, and every spring weight >= 3,000 made the three angles
      near-copies of one another. A quantile weight of 1e6 tightened r^2 but slowed the spring.
      Without the classifier the angles were less uniform.
    - The classifier weight of 10 is a guess that the sweep did not overturn.

    The loss *values* are far from equal (the weighted spring term is about 2e4 even when trained),
    but with Adam the relative sizes of the gradients are what matters.
    ``TorusLossWeights.plain()`` switches off all latent terms, which gives the vanilla AE of the
    comparison.
    """

    recon: float = 1.0
    classifier: float = 10.0
    spring: float = 10_000.0
    quantile: float = 100_000.0
    decorrelation: float = 0.0

    def __post_init__(self) -> None:
        for name in ("recon", "classifier", "spring", "quantile", "decorrelation"):
            check_real(name, getattr(self, name), 0.0)  # a weight is >= 0

    @classmethod
    def plain(cls) -> TorusLossWeights:
        """The plain (vanilla) AE: reconstruction only. The other terms are still reported."""
        return cls(
            recon=1.0, classifier=0.0, spring=0.0, quantile=0.0, decorrelation=0.0
        )


def torus_objective(
    x: torch.Tensor,
    recon: torch.Tensor,
    r2: torch.Tensor,
    phi: torch.Tensor,
    logits: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
    *,
    weights: TorusLossWeights | None = None,
    mu: float = 1.0,
    sigma: float = 0.1,
    harmonics: int = 2,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The full Toroidal AE objective (Sects. 2.3 and 3). Returns ``(loss, parts)``.

    ``x`` and ``recon`` have shape (B, 1, 28, 28) with values in [0, 1]. ``r2`` and ``phi`` have shape
    (B, d), from ``TorusAutoencoder.polar``. ``logits`` (B, n_classes) and ``labels`` (B,) feed the
    auxiliary classifier; if either is None, that term is left out of the total and of ``parts``.

    ``loss = w.recon * BCE + w.classifier * CE + w.spring * Eq.2 + w.quantile * Eq.5 / B
    (+ w.decorrelation * decorrelation)``. See :class:`TorusLossWeights` for why the terms are scaled
    this way. ``parts`` holds every unweighted term as a detached scalar tensor, including the
    regularisers whose weight is 0. A plain AE therefore still reports how non-uniform its angles
    are. Terms with weight 0 are computed without a graph.
    """
    w = weights or TorusLossWeights()
    batch = x.shape[0]
    terms: dict[str, tuple[float, Callable[[], torch.Tensor]]] = {
        "recon": (
            w.recon,
            lambda: F.binary_cross_entropy(recon, x, reduction="sum") / batch,
        ),
        "spring": (w.spring, lambda: spring_loss(phi)),
        "quantile": (w.quantile, lambda: quantile_loss(r2, mu, sigma) / batch),
        "decorrelation": (w.decorrelation, lambda: decorrelation_loss(phi, harmonics)),
    }
    if logits is not None and labels is not None:
        terms["classifier"] = (w.classifier, lambda: F.cross_entropy(logits, labels))

    total = x.new_zeros(())
    parts: dict[str, torch.Tensor] = {}
    for name, (weight, fn) in terms.items():
        if weight != 0:
            value = fn()
            total = total + weight * value
        else:
            with torch.no_grad():  # monitored only, e.g. the spring loss of a plain AE
                value = fn()
        parts[name] = value.detach()
    return total, parts


def torus_ae_loss(
    model: nn.Module,
    batch: tuple[torch.Tensor, torch.Tensor] | torch.Tensor,
    weights: TorusLossWeights | None = None,
    *,
    mu: float = 1.0,
    sigma: float = 0.1,
    harmonics: int = 2,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Training loss of the Toroidal AE: ``(total, parts)`` of :func:`torus_objective`.

    ``batch`` is ``(images, labels)``, or the images alone (then the classifier term is left
    out). ``model(x)`` must return a :class:`~lib.toroidal.model.TorusAEOutput`.
    """
    x, labels = batch if isinstance(batch, (tuple, list)) else (batch, None)
    out = model(x)
    return torus_objective(
        x,
        out.recon,
        out.r2,
        out.phi,
        out.logits,
        labels,
        weights=weights,
        mu=mu,
        sigma=sigma,
        harmonics=harmonics,
    )


def judge_loss(
    model: DigitJudge, batch: tuple[torch.Tensor, torch.Tensor]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Cross-entropy of the class logits; ``parts`` reports the batch accuracy."""
    x, y = batch
    logits = model(x)
    accuracy = (logits.argmax(1) == y).float().mean()
    return F.cross_entropy(logits, y), {"accuracy": accuracy}
