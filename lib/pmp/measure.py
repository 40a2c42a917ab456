"""What a trained PMP model's subspaces are: supports, their overlap, the product check, factors.

- :func:`support_matrix`: M[i, r] = mean over images of |s_i[r]|, (k, d);
- :func:`support_shares`: each coordinate's mass split between the projectors (columns of M
  normalised to sum to 1), for one matrix or a stack of training snapshots;
- :func:`support_overlap`: each coordinate's owner (the projector with the largest share of its
  mass), and the largest share of a coordinate's mass held by the other projectors;
- :func:`product_residual`: || sum_i s_i - concat of supports || / || sum_i s_i ||, where the
  "concatenation" keeps, on every coordinate, only the projector that owns it;
- :func:`subspace_factor_information`: per projector, the normalised mutual information of its
  first principal coordinate with every factor;
- :func:`subspace_decoder`: a decoder of moves along projectors' principal directions (sliders).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from lib.metrics import discrete_entropy, discrete_mutual_info, histogram_discretize


def _numpy(a: torch.Tensor | np.ndarray) -> np.ndarray:
    return a.detach().cpu().numpy() if torch.is_tensor(a) else np.asarray(a)


def support_matrix(s: torch.Tensor | np.ndarray) -> np.ndarray:
    """M (k, d): mean |s_i[r]| over the images of ``s`` (B, k, d)."""
    s = _numpy(s)
    if s.ndim != 3:
        raise ValueError(f"s must have shape (B, k, d), got {s.shape}")
    return np.abs(s).mean(0)


def support_shares(matrix: np.ndarray) -> np.ndarray:
    """M normalised per coordinate: shares[..., i, r] = M[i, r] / sum_j M[j, r].

    ``matrix``: (k, d) or a stack (T, k, d). A column sums to 1 (0 where no projector uses the
    coordinate). Scale-free: shrinking every output leaves the shares unchanged, so they show
    whether the supports separate, where M itself mostly shows how large they are.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim not in (2, 3):
        raise ValueError(f"matrix must be (k, d) or (T, k, d), got shape {m.shape}")
    if (m < 0).any():
        raise ValueError(
            "a support matrix holds mean absolute values: no negative entry"
        )
    return m / np.maximum(m.sum(-2, keepdims=True), 1e-12)


class SupportOverlap(NamedTuple):
    shares: np.ndarray  # (k, d): M normalised per coordinate (columns sum to 1)
    owner: np.ndarray  # (d,): the projector each coordinate is matched to
    largest_foreign_share: float  # max over coordinates of 1 - shares[owner[r], r]
    mean_foreign_share: float  # the same, averaged over coordinates


def support_overlap(matrix: np.ndarray) -> SupportOverlap:
    """How far the supports are from disjoint.

    Each coordinate r is owned by the projector with the largest share of its mass (a
    projector may own several coordinates: a subspace S_i can be more than one-dimensional).
    The foreign share of r is the part of its mass held by the other projectors: 0 for
    disjoint supports, 1 - 1/k when all k projectors use r equally.
    """
    shares = support_shares(matrix)  # (k, d)
    if shares.ndim != 2:
        raise ValueError(f"matrix must be (k, d), got shape {shares.shape}")
    owner = shares.argmax(0)
    foreign = 1.0 - shares[owner, np.arange(shares.shape[1])]
    return SupportOverlap(shares, owner, float(foreign.max()), float(foreign.mean()))


def product_residual(
    s: torch.Tensor | np.ndarray, owner: np.ndarray | None = None
) -> float:
    """|| sum_i s_i - c || / || sum_i s_i || over all images, c[r] = s_{owner(r)}[r].

    ``owner`` defaults to :func:`support_overlap` of ``s``'s own support matrix. Zero when the
    supports are disjoint (L_spar = 0): the sum is then the concatenation (supplementary Sec. 3).
    """
    s = _numpy(s).astype(np.float64)
    if owner is None:
        owner = support_overlap(support_matrix(s)).owner
    total = s.sum(1)  # (B, d)
    concat = s[:, owner, np.arange(s.shape[2])]  # (B, d)
    return float(np.linalg.norm(total - concat) / max(np.linalg.norm(total), 1e-12))


def principal_coordinates(
    s: torch.Tensor | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each projector's output along its first principal direction.

    Returns (codes (B, k), directions (k, d)); a projector whose output does not vary gets a
    zero code.
    """
    s = _numpy(s).astype(np.float64)
    centred = s - s.mean(0, keepdims=True)
    b, k, d = s.shape
    codes, directions = np.zeros((b, k)), np.zeros((k, d))
    for i in range(k):  # k SVDs of (B, d): tiny
        _, sv, vt = np.linalg.svd(centred[:, i], full_matrices=False)
        if sv[0] > 1e-9:
            directions[i] = vt[0]
            codes[:, i] = centred[:, i] @ vt[0]
    return codes, directions


def subspace_factor_information(
    s: torch.Tensor | np.ndarray, factors: np.ndarray, bins: int = 20
) -> np.ndarray:
    """(k, n_factors): mutual information of each projector's principal coordinate with each
    factor, divided by the factor's entropy (1: the coordinate determines the factor).

    Histogram estimate with ``bins`` bins, as MIG's (:mod:`lib.metrics`).
    """
    codes, _ = principal_coordinates(s)
    factors = np.asarray(factors)
    mi = discrete_mutual_info(histogram_discretize(codes, bins), factors)  # (k, F)
    entropy = discrete_entropy(factors)  # (F,)
    return mi / np.maximum(entropy[None, :], 1e-12)


def subspace_decoder(
    model, z_base: torch.Tensor, directions: np.ndarray
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``decode(t (N, m)) -> images (N, C, H, W)``: z = z_base + sum_j t_j u_j, then sigmoid(g(z)).

    Moving t_j moves one projector's output s_i along its principal direction u_j (rows of
    ``directions``, (m, d)); since z = sum_i s_i, the code moves by the same vector.
    """
    u = torch.as_tensor(np.asarray(directions), dtype=torch.float32)  # (m, d)
    base = z_base.detach().reshape(1, -1).cpu().float()  # (1, d)
    device = next(model.parameters()).device

    @torch.no_grad()
    def decode(t: torch.Tensor) -> torch.Tensor:
        z = base + t.float().cpu() @ u  # (N, d)
        return torch.sigmoid(model.decode(z.to(device))).cpu()

    return decode
