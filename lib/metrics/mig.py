"""Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in
Variational Autoencoders", NeurIPS).

For each factor v_j: the gap between the largest and the second-largest mutual
information of a single code with it, divided by the factor's entropy; MIG is the mean
over factors. As disentanglement_lib's ``mig.py`` (Locatello et al. 2019): codes
discretised into 20 equal-width bins each, MI from the discrete contingency tables
(nats), default 10,000 points (its ``num_train``; we take the points we are given). The
reference returns ``{"discrete_mig": ...}``; :func:`mig` returns the float.
"""

from __future__ import annotations

import numpy as np

from .utils import (
    check_pair,
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
)

__all__ = ["mig", "mig_from_mi"]


def mig_from_mi(m, entropy) -> float:
    """MIG from the (n_codes, n_factors) MI matrix ``m`` and the factor entropies.

    MIG = mean_j (m_(1)j − m_(2)j) / H(v_j), with m_(1) ≥ m_(2) the two largest entries
    of column j. A constant factor (H = 0) makes its term, and the mean, NaN, as in the
    reference.
    """
    m = np.asarray(m, dtype=np.float64)
    entropy = np.asarray(entropy, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] < 2:
        raise ValueError(
            f"MIG needs an (n_codes >= 2, n_factors) matrix, got {m.shape}"
        )
    if entropy.shape != (m.shape[1],):
        raise ValueError(
            f"entropy must have shape ({m.shape[1]},), got {entropy.shape}"
        )
    top = np.sort(m, axis=0)[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.mean((top[0] - top[1]) / entropy))


def mig(codes, factors, num_bins: int | None = 20) -> float:
    """Mutual Information Gap of ``codes`` (N, n_codes) for ``factors`` (N, n_f).

    ``num_bins``: histogram bins per code (disentanglement_lib's 20); ``None`` takes the
    codes as already discrete labels (the reference tests' identity discretiser).
    Returns a float in [0, 1] (1: each factor is captured by exactly one code).
    """
    c, f = check_pair(codes, factors)
    if c.shape[1] < 2:
        raise ValueError("MIG needs at least two codes")
    disc = c if num_bins is None else histogram_discretize(c, num_bins)
    return mig_from_mi(discrete_mutual_info(disc, f), discrete_entropy(f))
