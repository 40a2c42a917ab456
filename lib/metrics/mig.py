"""Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in
Variational Autoencoders", NeurIPS).

For each factor v_j: the gap between the largest and the second-largest mutual
information of a single code with it, divided by the factor's entropy; MIG is the mean
over factors. As disentanglement_lib's ``mig.py`` (Locatello et al. 2019): codes
discretised into 20 equal-width bins each, MI from the discrete contingency tables
(nats), default 10,000 points (its ``num_train``; we take the points we are given). The
reference returns ``{"discrete_mig": ...}``; :func:`mig` returns the float.

Where we differ: a constant factor (entropy 0) is refused with a
:class:`lib.errors.ParameterError` naming ``factors`` (the reference divides by 0 and
returns NaN). Also checked at the door: finite real codes, at least two of them, integer
factors with the same number of rows, ``num_bins`` an integer >= 1 (or None).
"""

from __future__ import annotations

import numpy as np

from lib.errors import ParameterError

from .utils import (
    check_matrix,
    check_pair,
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
)

__all__ = ["mig", "mig_from_mi"]


def mig_from_mi(m, entropy) -> float:
    """MIG from the (n_codes, n_factors) MI matrix ``m`` and the factor entropies.

    MIG = mean_j (m_(1)j − m_(2)j) / H(v_j), with m_(1) ≥ m_(2) the two largest entries
    of column j. ``m`` must be finite and non-negative with at least two rows, ``entropy``
    finite and positive: a constant factor (H = 0) has no gap to normalise (the reference
    returns NaN there; this is a :class:`lib.errors.ParameterError`).
    """
    m = check_matrix(
        m, "m (the MI matrix)", "(n_codes, n_factors)", min_rows=2, non_negative=True
    )
    try:
        h = np.asarray(entropy, dtype=np.float64)
    except (ValueError, TypeError):
        raise ParameterError(
            f"entropy must be a real ({m.shape[1]},) array, got {entropy!r}"
        ) from None
    if h.shape != (m.shape[1],):
        raise ParameterError(f"entropy must have shape ({m.shape[1]},), got {h.shape}")
    if not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise ParameterError(
            "entropy must be finite and > 0 for every factor (a constant factor has "
            f"entropy 0 and no MIG), got {h}"
        )
    top = np.sort(m, axis=0)[::-1]
    return float(np.mean((top[0] - top[1]) / h))


def mig(codes, factors, num_bins: int | None = 20) -> float:
    """Mutual Information Gap of ``codes`` (N, n_codes) for ``factors`` (N, n_f).

    ``num_bins``: histogram bins per code (disentanglement_lib's 20); ``None`` takes the
    codes as already discrete labels (the reference tests' identity discretiser).
    Returns a float in [0, 1] (1: each factor is captured by exactly one code). Every
    factor must take at least two values (a constant one has entropy 0: no MIG).
    """
    c, f = check_pair(codes, factors)
    if c.shape[1] < 2:
        raise ParameterError(
            f"MIG needs at least two codes, got codes of shape {c.shape}"
        )
    for j in range(f.shape[1]):
        if np.unique(f[:, j]).size < 2:
            raise ParameterError(
                f"factor {j} of factors takes a single value ({f[0, j]}): its entropy "
                "is 0 and MIG divides by it"
            )
    disc = c if num_bins is None else histogram_discretize(c, num_bins)
    return mig_from_mi(discrete_mutual_info(disc, f), discrete_entropy(f))
