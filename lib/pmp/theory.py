"""The supplementary's sum-to-product argument (Sec. 3.1) as computations on small tensors.

- :func:`sparsity_by_coordinate`: what each coordinate r pays in L_spar (Eq. 1), so the case
  analysis of Eq. (3) can be read coordinate by coordinate;
- :func:`own_term_gradient`: the derivative of projector i's own term of L_spar (Eq. 3), the
  quantity the proof's case analysis is about; autograd of L_spar gives the full gradient,
  which adds the other terms' derivatives (projector i also sits inside their sums);
- :func:`descend_sparsity`: gradient descent on L_spar alone, from random projector outputs
  (:func:`plot_descent` draws it).
  With each s_i held at unit norm (a stand-in for the terms that keep the subspaces alive:
  reconstruction, consistency, the distance term's push) the supports become disjoint and the
  sum becomes a concatenation; without it, L_spar can also fall by shrinking the outputs, the
  route to the proof's degenerate case (every s_i = 0).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from lib.errors import ParameterError
from lib.pmp.losses import sparsity_loss


def sparsity_by_coordinate(s: torch.Tensor) -> torch.Tensor:
    """(d,): sum_i |s_i[r] * sum_{j != i} s_j[r]| per coordinate r, batch mean; sums to L_spar."""
    if s.dim() != 3:
        raise ValueError(f"s must have shape (B, k, d), got {tuple(s.shape)}")
    others = s.sum(1, keepdim=True) - s
    return (s * others).abs().sum(1).mean(0)


def own_term_gradient(s: torch.Tensor) -> torch.Tensor:
    """(B, k, d): d/ds_i[r] of |s_i[r] * sum_{j != i} s_j[r]| with the other s_j held fixed.

    Supplementary Eq. (3): sign(s_i[r] o_i[r]) o_i[r], o_i = sum_{j != i} s_j (sign(0) = 0).
    The full derivative of L_spar (what ``backward`` returns, up to the batch mean) adds
    sum_{q != i} sign(s_q[r] o_q[r]) s_q[r], the derivative of the other projectors' terms.
    """
    if s.dim() != 3:
        raise ValueError(f"s must have shape (B, k, d), got {tuple(s.shape)}")
    others = s.sum(1, keepdim=True) - s  # (B, k, d)
    return torch.sign(s * others) * others


class SparsityDescent(NamedTuple):
    steps: list[int]
    losses: list[float]  # L_spar at each recorded step
    snapshots: torch.Tensor  # (n_recorded, k, d)


def descend_sparsity(
    s0: torch.Tensor,
    steps: int = 400,
    lr: float = 0.02,
    keep_norm: bool = True,
    record_every: int = 10,
) -> SparsityDescent:
    """Adam on L_spar of one set of projector outputs ``s0`` (k, d); returns the trajectory.

    ``keep_norm``: after every step each s_i is rescaled to its initial norm.
    """
    if s0.dim() != 2:
        raise ValueError(f"s0 must have shape (k, d), got {tuple(s0.shape)}")
    s = s0.detach().clone().requires_grad_(True)
    norms = s0.detach().norm(dim=1, keepdim=True).clamp_min(1e-12)
    opt = torch.optim.Adam([s], lr=lr)
    rec_steps, losses, snaps = [], [], []
    for step in range(steps + 1):
        loss = sparsity_loss(s[None])
        if step % record_every == 0 or step == steps:
            rec_steps.append(step)
            losses.append(float(loss.detach()))
            snaps.append(s.detach().clone())
        if step == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        if keep_norm:
            with torch.no_grad():
                s.mul_(norms / s.norm(dim=1, keepdim=True).clamp_min(1e-12))
    return SparsityDescent(rec_steps, losses, torch.stack(snaps))


def plot_descent(s0: torch.Tensor, held: SparsityDescent, free: SparsityDescent):
    """L_spar along both descents (log scale), then |s_i[r]| at the start and at the end of
    each, on one colour scale so that shrinking shows."""
    import matplotlib.pyplot as plt

    if not isinstance(s0, torch.Tensor) or s0.dim() != 2:
        raise ParameterError("s0 must be the starting outputs, a tensor (k, d)")
    for name, run in (("held", held), ("free", free)):
        if not isinstance(run, SparsityDescent):
            raise ParameterError(f"{name} must be a SparsityDescent (descend_sparsity)")
    fig, axes = plt.subplots(1, 4, figsize=(11, 2.6))
    axes[0].semilogy(held.steps, held.losses, label="norms held")
    axes[0].semilogy(free.steps, free.losses, label="free")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel(r"$\mathcal{L}_{spar}$")
    axes[0].legend(fontsize=8)
    panels = (
        (s0, "start"),
        (held.snapshots[-1], "end, norms held"),
        (free.snapshots[-1], "end, free"),
    )
    top = float(s0.abs().max())
    for ax, (matrix, title) in zip(axes[1:], panels):
        shown = ax.imshow(matrix.abs(), cmap="viridis", vmin=0, vmax=top)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("coordinate r")
        ax.set_ylabel("projector i")
    fig.tight_layout()
    fig.colorbar(shown, ax=axes[1:], label=r"$|s_i[r]|$", shrink=0.9)
    return fig
