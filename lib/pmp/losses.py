"""PMP's losses and two-phase schedule, and the Ada-GVAE baseline's loss.

Names: the supplementary (Fumero et al. 2021) names L_spar (its Eq. 1), L_dis, L_cons and L_reg
and the weights beta_1..3 of its Table 4; the definitions below are read from the authors' code
(``models/model.py``, ``training_step``), which names them ``loss_sparse``, ``loss_distance``,
``loss_consistency`` and ``loss_distrib`` with weights ``lambda_sparsity = lambda_distance =
0.1``, ``lambda_consistency = 100`` and ``lambda_distribution = 1e-4`` (the values of Table 4),
each multiplied by a time-varying ramp (supplementary Fig. 1). The book calls the weights
:class:`PMPLossWeights` and the ramps :func:`loss_ramps`. That ``loss_distrib`` is the paper's
L_reg is our reading: it is the term that decays while the others grow, as L_reg does.

A batch is a :class:`PairBatch` of images (x1, x2) that differ in a few factors (weak
supervision, :func:`lib.data.dsprites.sample_pairs`) and the step it was drawn for, which the
schedule needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F

from lib.config import BaseConfig
from lib.errors import ConfigError, ParameterError, check_integer
from lib.pmp.model import AdaGVAE, GaussianPosterior, PMPAutoencoder


class PairBatch(NamedTuple):
    x1: torch.Tensor  # (B, C, 64, 64) in [0, 1]
    x2: torch.Tensor  # (B, C, 64, 64), a few factors changed
    # (2B,) the hybrids L_cons uses (swap_hybrids' draw), drawn ahead on the host so that
    # a CUDA graph or batched seeds replay the plain step's draw; None: draw in the loss
    pick: torch.Tensor | None = None


def check_pair_batch(
    batch: PairBatch, binary: bool = True, values: bool = True
) -> None:
    """Raise :class:`~lib.errors.ParameterError` unless ``batch`` is two image batches of one
    shape (B, C, H, W); with ``binary`` (a Bernoulli/BCE loss) the pixels must
    lie in [0, 1], the targets BCE is defined for. ``values=False`` skips the pixel check
    (two reductions and, on a GPU, one wait for the device per batch)."""
    if not isinstance(batch, tuple) or len(batch) not in (2, 3):
        raise ParameterError(f"batch must be a PairBatch (x1, x2), got {batch!r:.80}")
    x1, x2 = batch[:2]
    for name, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or not x.is_floating_point():
            found = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ParameterError(
                f"{name} must be float images (B, C, H, W), got {found}"
            )
    if x1.shape != x2.shape:
        raise ParameterError(
            f"x1 and x2 must be pairs of one shape, got {tuple(x1.shape)} and "
            f"{tuple(x2.shape)}"
        )
    if values:
        low = torch.minimum(x1.min(), x2.min()).item()
        high = torch.maximum(x1.max(), x2.max()).item()
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ParameterError("the pair images hold NaN or infinite pixels")
        if binary and not (0 <= low and high <= 1):
            raise ParameterError(
                f"binary (BCE) targets must lie in [0, 1], the pair images span "
                f"[{low:.3g}, {high:.3g}]"
            )


# --------------------------------------------------------------------------------------------
# the sparsity term and the sum-to-product argument
# --------------------------------------------------------------------------------------------
def sparsity_loss(s: torch.Tensor) -> torch.Tensor:
    """L_spar of supplementary Eq. (1): sum_i || s_i * sum_{j != i} s_j ||_1, batch mean.

    ``s``: (B, k, d) projector outputs. Zero exactly when, on every coordinate r, at most one
    projector is non-zero; then sum_i s_i is the concatenation of the supports (a point of
    S_1 x ... x S_k). The authors' code averages over the d coordinates instead of summing
    (``loss_sparse`` = this / d); :class:`PMPObjective` uses their scale.
    """
    if s.dim() != 3:
        raise ValueError(f"s must have shape (B, k, d), got {tuple(s.shape)}")
    others = s.sum(1, keepdim=True) - s  # (B, k, d): sum_{j != i} s_j
    return (s * others).abs().sum((1, 2)).mean()


def scale_free_sparsity_loss(s: torch.Tensor) -> torch.Tensor:
    """The book's scale-invariant variant of L_spar (not in the paper), in [0, 1 - 1/k].

    ``s``: (B, k, d). The supports M[i, r] = mean_b |s_b,i[r]| are normalised per coordinate,
    a[i, r] = M[i, r] / sum_j M[j, r] (the column shares of :func:`lib.pmp.support_overlap`),
    and the loss is the mean over coordinates of sum_i a_i sum_{j != i} a_j =
    (sum_i a_i)^2 - sum_i a_i^2. Multiplying s by any c > 0 leaves it unchanged, so shrinking
    every output (which lowers Eq. 1 by c^2) cannot satisfy it: only one owner per coordinate
    across the batch can. A coordinate that no projector uses contributes 0.
    """
    if s.dim() != 3:
        raise ValueError(f"s must have shape (B, k, d), got {tuple(s.shape)}")
    support = s.abs().mean(0)  # (k, d)
    shares = support / support.sum(0, keepdim=True).clamp_min(1e-12)  # (k, d)
    return (shares.sum(0).pow(2) - shares.pow(2).sum(0)).mean()


SPARSITY_FORMS = ("paper", "scale_free")


# --------------------------------------------------------------------------------------------
# the pair terms
# --------------------------------------------------------------------------------------------
def projector_distances(s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
    """d_i = ||s_i(x1) - s_i(x2)||^2 for every pair and projector: (B, k)."""
    return (s1 - s2).pow(2).sum(-1)


def distance_loss(
    s1: torch.Tensor,
    s2: torch.Tensor,
    margin: float = 0.05,
    push: float = 10.0,
    sharpness: float = 1e6,
) -> torch.Tensor:
    """L_dis as the authors' ``loss_distance``: one projector per pair changes, the rest do not.

    Each projector's distances are normalised by its mean pairwise distance over the 2B outputs;
    a near-hard softmax (``sharpness``) picks, per pair, the projector that changed most. Its
    squared distance is pushed above ``margin`` (weight ``push``); the others are pulled to 0.
    The selection is detached. It always picks exactly one projector, even when a pair differs
    in several factors. As in the code, the push term also counts each unselected projector
    as ``margin``: a constant floor of push * margin * (k - 1) / k with no gradient.
    """
    dist = projector_distances(s1, s2)  # (B, k)
    outputs = torch.cat([s1, s2]).transpose(0, 1)  # (k, 2B, d)
    mean_dist = torch.cdist(outputs, outputs).mean((-2, -1)) + 1e-8  # (k,)
    changed = torch.softmax(
        sharpness * dist / mean_dist, -1
    ).detach()  # (B, k), ~one-hot
    keep = 1 - changed
    return (dist * keep).mean() + push * torch.relu(margin - dist * changed).mean()


def distribution_loss(
    s1: torch.Tensor, s2: torch.Tensor, sharpness: float = 1e3, scale: float = 100.0
) -> torch.Tensor:
    """The authors' ``loss_distrib`` (our reading of L_reg): spread "which projector changed"
    evenly over the k projectors, so that none collapses before the other terms are on."""
    chosen = torch.softmax(sharpness * projector_distances(s1, s2), -1)  # (B, k)
    k = chosen.shape[-1]
    return scale * (1.0 / k - chosen.mean(0)).pow(2).mean()


def draw_hybrids(
    batch: int, k: int, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``count`` distinct hybrids of the k * B (projector i, pair b), as flat indices i B + b
    (on the CPU, from ``generator`` or torch's default one)."""
    return torch.randperm(k * batch, generator=generator)[:count]


def swap_hybrids(
    s1: torch.Tensor,
    s2: torch.Tensor,
    count: int,
    generator: torch.Generator | None = None,
    pick: torch.Tensor | None = None,
) -> torch.Tensor:
    """``count`` hybrid codes: s(x2) with one projector's output taken from s(x1).

    Of the k * B possible hybrids (projector i, pair b), ``count`` distinct ones are drawn, as
    the authors' code does (it builds all k * B and keeps 2B). Returns (count, k, d).
    ``pick``: the draw made beforehand by :func:`draw_hybrids` (then ``generator`` is unused).
    """
    batch, k, _ = s1.shape
    if pick is None:
        pick = draw_hybrids(batch, k, count, generator)
    pick = pick.to(s1.device)
    projector, pair = pick // batch, pick % batch  # the authors' (i, b) order
    hybrid = s2[pair].clone()  # (count, k, d)
    rows = torch.arange(len(pick), device=s1.device)
    hybrid[rows, projector] = s1[pair, projector]
    return hybrid


def consistency_loss(
    model: PMPAutoencoder, hybrid: torch.Tensor, binary: bool = True
) -> torch.Tensor:
    """L_cons: decode the hybrid's sum, re-encode the image, compare projector by projector.

    MSE between P(f(g(sum_i h_i))) and the hybrid h (count, k, d); gradients flow into both
    sides, as the authors' (the target is not detached). ``binary``: the decoded image passes
    through the sigmoid before re-encoding (dSprites).
    """
    decoded = model.decode(hybrid.sum(1))
    if binary:
        decoded = torch.sigmoid(decoded)
    return F.mse_loss(model.subspaces(decoded), hybrid)


# --------------------------------------------------------------------------------------------
# the two-phase schedule (supplementary Sec. 2 and Fig. 1)
# --------------------------------------------------------------------------------------------
class LossRamps(NamedTuple):
    """The ramps rho_1..rho_3 in [0, 1] (chapter 05 writes them rho_i; the fields keep the
    code's names beta1..beta3). A term's weight is its ramp times Table 4's maximum beta_i
    (0.1, 100, 1e-4: :class:`PMPLossWeights`)."""

    beta1: float  # multiplies L_dis and L_spar
    beta2: float  # multiplies L_cons
    beta3: float  # multiplies L_reg (the distribution term)
    regularise: bool  # False in the reconstruction phase


def loss_ramps(epoch: int, max_epochs: int) -> LossRamps:
    """The authors' ramps at integer ``epoch`` of ``max_epochs`` (E).

    Reconstruction only while epoch <= E/4; then beta1 = min(exp(25/E (e - 0.4E)), 1),
    beta2 = min(exp(25/E (e - 0.5E)), 1), beta3 = 1 - beta1. (The supplementary's text says
    beta3 = 1 - beta2 and "the first 20 % of iterations"; the code's values are used.)
    """
    if max_epochs < 1 or epoch < 0:
        raise ValueError(
            f"need epoch >= 0 and max_epochs >= 1, got {epoch}, {max_epochs}"
        )
    rate = 25.0 / max_epochs
    beta1 = min(math.exp(rate * (epoch - 0.4 * max_epochs)), 1.0)
    beta2 = min(math.exp(rate * (epoch - 0.5 * max_epochs)), 1.0)
    return LossRamps(beta1, beta2, 1.0 - beta1, epoch > 0.25 * max_epochs)


def regularised_from(steps: int, max_epochs: int = 30) -> int:
    """The first optimiser step of a ``steps``-step run whose loss has the regularising
    terms on (:class:`PMPObjective`'s clock: step s lies in virtual epoch
    floor(s E / steps); reconstruction only while that epoch is <= E/4)."""
    steps = check_integer("steps", steps, 1)
    max_epochs = check_integer("max_epochs", max_epochs, 1)
    first = next(
        (e for e in range(max_epochs) if loss_ramps(e, max_epochs).regularise),
        max_epochs,
    )
    return -(-first * steps // max_epochs)  # ceil(first * steps / max_epochs)


CONSISTENCY_ON = 1e-2  # L_cons is skipped while beta2 <= this (the authors' code)


def consistency_from(steps: int, max_epochs: int = 30, full: bool = False) -> int:
    """The first optimiser step of a ``steps``-step run at which :class:`PMPObjective`
    computes L_cons (beta2 > :data:`CONSISTENCY_ON`, as the code gates it), or with
    ``full`` the first at which beta2 = 1, its full weight. ``steps`` when it never does."""
    steps = check_integer("steps", steps, 1)
    max_epochs = check_integer("max_epochs", max_epochs, 1)

    def on(e: int) -> bool:
        ramps = loss_ramps(e, max_epochs)
        beta2 = ramps.beta2 if ramps.regularise else 0.0
        return beta2 >= 1.0 if full else beta2 > CONSISTENCY_ON

    first = next((e for e in range(max_epochs) if on(e)), None)
    if first is None:
        return steps
    return -(-first * steps // max_epochs)  # ceil(first * steps / max_epochs)


@dataclass
class PMPLossWeights(BaseConfig):
    """Supplementary Table 4 (beta_1 = 0.1, beta_2 = 100, beta_3 = 1e-4) as the code splits it.

    A :class:`~lib.config.BaseConfig` like the other chapters' loss weights
    (:class:`lib.toroidal.TorusLossWeights`): a name, ``to_dict``, a strict ``from_dict``,
    every field's type checked."""

    distance: float = 0.1
    sparsity: float = 0.1
    consistency: float = 100.0
    distribution: float = 1e-4

    def __post_init__(self) -> None:
        for name in ("distance", "sparsity", "consistency", "distribution"):
            if getattr(self, name) < 0:
                raise ConfigError(
                    f"PMPLossWeights.{name} must be >= 0, got {getattr(self, name)!r}"
                )


class PMPObjective:
    """The PMP training loss, ``objective(model, PairBatch, step) -> (total, parts)``.

    total = L_rec + rho1 (0.1 L_dis + 0.1 L_spar) + rho2 100 L_cons + rho3 1e-4 L_reg (the
    ramps rho_i of :func:`loss_ramps`, fields beta1..beta3; Table 4's maxima), with
    L_rec the mean binary cross-entropy over both images' pixels (the code's ``BCELoss``, mean
    reduction). The schedule runs on "virtual epochs": ``steps`` optimiser steps are cut into
    ``max_epochs`` equal epochs (30 in the paper), so a short budget keeps the paper's shape.
    L_cons is skipped while rho2 <= 0.01, as in the code.

    ``sparsity``: ``"paper"`` (Eq. 1 as the code scales it) or ``"scale_free"``
    (:func:`scale_free_sparsity_loss`, the book's ablation variant); ``weights.sparsity = 0``
    removes the term (the other ablation).
    """

    def __init__(
        self,
        steps: int,
        max_epochs: int = 30,
        weights: PMPLossWeights | None = None,
        binary: bool = True,
        sparsity: str = "paper",
        check_values: bool = True,
    ) -> None:
        if steps < 1 or max_epochs < 1:
            raise ValueError(
                f"need steps >= 1 and max_epochs >= 1, got {steps}, {max_epochs}"
            )
        if sparsity not in SPARSITY_FORMS:
            raise ValueError(
                f"sparsity must be one of {SPARSITY_FORMS}, got {sparsity!r}"
            )
        self.steps, self.max_epochs = steps, max_epochs
        self.weights = weights or PMPLossWeights()
        self.binary = binary
        self.sparsity = sparsity
        # False: the pixels were checked once at the source (a resident grid of {0, 1}
        # images); the per-step check needs a wait for the device, which a CUDA graph
        # or batched seeds (torch.func.vmap) cannot hold
        self.check_values = check_values
        # where the hybrids are drawn in the loss (a batch without ``pick``): a CPU
        # generator (lib.runs.seeded_model's); None: torch's global one
        self.generator: torch.Generator | None = None

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The hybrids' generator's state (none: nothing), saved with the trainer."""
        return (
            {} if self.generator is None else {"generator": self.generator.get_state()}
        )

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if self.generator is not None and "generator" in state:
            self.generator.set_state(state["generator"])

    def epoch_of(self, step: int) -> int:
        return min(self.max_epochs - 1, step * self.max_epochs // self.steps)

    def __call__(
        self, model: PMPAutoencoder, batch: PairBatch, step: int
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor | float]]:
        """The loss of ``batch`` at optimiser step ``step`` (the schedule's clock, passed by
        the :class:`~lib.trainer.Trainer`, which calls a loss with a ``step`` parameter so)."""
        check_pair_batch(batch, self.binary, values=self.check_values)
        check_integer("step", step, minimum=0)
        x1, x2 = batch[:2]
        pick = batch.pick if isinstance(batch, PairBatch) else None
        n = len(x1)
        images = torch.cat([x1, x2])  # (2B, C, H, W): the siamese pass
        out = model(images)
        if self.binary:
            rec = F.binary_cross_entropy_with_logits(out.logits, images)
        else:
            rec = F.mse_loss(out.logits, images)
        ramps = loss_ramps(self.epoch_of(step), self.max_epochs)
        w = self.weights
        zero = rec.new_zeros(())
        spar = dis = cons = reg = zero
        if ramps.regularise:
            s1, s2 = out.s[:n], out.s[n:]  # (B, k, d) each
            if self.sparsity == "paper":  # the code's per-coordinate mean of Eq. 1
                spar = sparsity_loss(out.s) / out.s.shape[-1]
            else:
                spar = scale_free_sparsity_loss(out.s)
            dis = distance_loss(s1, s2)
            reg = distribution_loss(s1, s2)
            if ramps.beta2 > CONSISTENCY_ON and w.consistency > 0:
                hybrids = swap_hybrids(
                    s1, s2, 2 * n, generator=self.generator, pick=pick
                )
                cons = consistency_loss(model, hybrids, self.binary)
        total = (
            rec
            + ramps.beta1 * (w.distance * dis + w.sparsity * spar)
            + ramps.beta2 * w.consistency * cons
            + ramps.beta3 * w.distribution * reg
        )
        parts = {
            "recon": rec.detach(),
            "sparsity": spar.detach(),
            "distance": dis.detach(),
            "consistency": cons.detach(),
            "distribution": reg.detach(),
            "beta1": ramps.beta1,
            "beta2": ramps.beta2,
            "beta3": ramps.beta3,
        }
        return total, parts


# --------------------------------------------------------------------------------------------
# Ada-GVAE (Locatello et al. 2020, "Weakly-supervised disentanglement without compromises")
# --------------------------------------------------------------------------------------------
def gaussian_kl(p: GaussianPosterior, q: GaussianPosterior) -> torch.Tensor:
    """KL(p || q) per coordinate for diagonal Gaussians, (B, d)."""
    var_ratio = (p.logvar - q.logvar).exp()
    return 0.5 * (
        var_ratio + (p.mean - q.mean).pow(2) / q.logvar.exp() - 1 - p.logvar + q.logvar
    )


def shared_mask(q1: GaussianPosterior, q2: GaussianPosterior) -> torch.Tensor:
    """Ada-GVAE's guess of the shared coordinates, (B, d) bool.

    delta_j = KL(q1_j || q2_j); a coordinate is shared when delta_j < (max + min) / 2 of its
    pair (disentanglement_lib ``aggregate_argmax``; its ``compute_kl`` is 2x this, the same
    threshold).
    """
    delta = gaussian_kl(q1, q2)
    threshold = 0.5 * (
        delta.max(1, keepdim=True).values + delta.min(1, keepdim=True).values
    )
    return delta < threshold


def average_shared(
    q1: GaussianPosterior, q2: GaussianPosterior, shared: torch.Tensor
) -> tuple[GaussianPosterior, GaussianPosterior]:
    """GVAE averaging on the shared coordinates: mean (mu1 + mu2)/2, variance (s1^2 + s2^2)/2."""
    mean = 0.5 * (q1.mean + q2.mean)
    logvar = torch.log(0.5 * (q1.logvar.exp() + q2.logvar.exp()))

    def mix(q: GaussianPosterior) -> GaussianPosterior:
        return GaussianPosterior(
            torch.where(shared, mean, q.mean), torch.where(shared, logvar, q.logvar)
        )

    return mix(q1), mix(q2)


def adagvae_loss(
    model: AdaGVAE,
    batch: PairBatch,
    check_values: bool = True,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Negative ELBO of both images with the adaptive averaged posteriors, averaged per image.

    Bernoulli reconstruction (BCE summed over pixels) + beta KL(q~ || N(0, I)) (summed over
    coordinates), each the mean of the pair's two images, then over the batch; one
    reparameterised sample per image, its noise from ``generator`` (one on the images'
    device; default: torch's global one).
    """
    check_pair_batch(batch, binary=True, values=check_values)
    x1, x2 = batch[:2]
    n = len(x1)
    q = model.posterior(torch.cat([x1, x2]))
    q1 = GaussianPosterior(q.mean[:n], q.logvar[:n])
    q2 = GaussianPosterior(q.mean[n:], q.logvar[n:])
    shared = shared_mask(q1, q2)
    a1, a2 = average_shared(q1, q2, shared)
    mean = torch.cat([a1.mean, a2.mean])
    logvar = torch.cat([a1.logvar, a2.logvar])
    noise = torch.randn(
        mean.shape, generator=generator, dtype=mean.dtype, device=mean.device
    )  # (2B, d)
    z = mean + (0.5 * logvar).exp() * noise
    logits = model.decode(z)
    images = torch.cat([x1, x2])
    rec = F.binary_cross_entropy_with_logits(logits, images, reduction="none")
    rec = rec.flatten(1).sum(1).mean()
    prior = GaussianPosterior(torch.zeros_like(mean), torch.zeros_like(logvar))
    kl = gaussian_kl(GaussianPosterior(mean, logvar), prior).sum(1).mean()
    total = rec + model.config.beta * kl
    parts = {
        "recon": rec.detach(),
        "kl": kl.detach(),
        "shared": shared.float().sum(1).mean(),
    }
    return total, parts
