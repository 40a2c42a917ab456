"""Shared pieces of the disentanglement metrics: input checks, discretisation, MI.

Conventions (ours, samples first): ``codes`` is an (N, n_codes) float array, one row per
sample; ``factors`` is an (N, n_factors) integer array of class indices. The reference,
disentanglement_lib (Locatello et al. 2019), stores both transposed, (dims, N).

- :func:`histogram_discretize`: 20 equal-width bins per code, as disentanglement_lib's
  ``_histogram_discretize`` (bin labels 1..num_bins);
- :func:`discrete_mutual_info`: the (n_codes, n_factors) matrix of mutual informations
  in nats, equal to ``sklearn.metrics.mutual_info_score`` per pair (to about 1e-12) but
  computed from one contingency table per factor for all codes at once;
- :func:`discrete_entropy`: the entropy of each factor in nats.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "check_codes",
    "check_factors",
    "check_pair",
    "discrete_entropy",
    "discrete_mutual_info",
    "histogram_discretize",
]


def check_codes(codes, name: str = "codes") -> np.ndarray:
    """``codes`` as a finite float64 (N, n_codes) array; ValueError otherwise."""
    arr = np.asarray(codes)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (N, n_codes) array, got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_factors(factors, name: str = "factors") -> np.ndarray:
    """``factors`` as an int64 (N, n_factors) array of labels; ValueError otherwise.

    Integer and boolean dtypes are accepted; a float array is accepted only if every
    entry is a whole number (``np.array([[0., 2.]])``), anything else is "non-integer
    factors".
    """
    arr = np.asarray(factors)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (N, n_factors) array, got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        return arr.astype(np.int64, copy=False)
    if np.issubdtype(arr.dtype, np.floating):
        if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
    raise ValueError(
        f"{name} must hold integer class labels (ground-truth factors), got dtype "
        f"{arr.dtype} with non-integer values"
    )


def check_pair(codes, factors, suffix: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Check ``codes`` and ``factors`` and that they have the same number of rows."""
    c = check_codes(codes, "codes" + suffix)
    f = check_factors(factors, "factors" + suffix)
    if c.shape[0] != f.shape[0]:
        raise ValueError(
            f"codes{suffix} and factors{suffix} need the same number of samples N "
            f"(rows), got {c.shape[0]} and {f.shape[0]}"
        )
    return c, f


def check_train_test(
    codes_train, factors_train, codes_test, factors_test
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check a train and a test split (same numbers of codes and of factors)."""
    ctr, ftr = check_pair(codes_train, factors_train, "_train")
    cte, fte = check_pair(codes_test, factors_test, "_test")
    if ctr.shape[1] != cte.shape[1] or ftr.shape[1] != fte.shape[1]:
        raise ValueError(
            "train and test splits need the same columns: codes "
            f"{ctr.shape[1]} vs {cte.shape[1]}, "
            f"factors {ftr.shape[1]} vs {fte.shape[1]}"
        )
    return ctr, ftr, cte, fte


def histogram_discretize(codes, num_bins: int = 20) -> np.ndarray:
    """Discretise each code (column) into ``num_bins`` equal-width bins over its range.

    Per column ``x``: ``np.digitize(x, np.histogram(x, num_bins)[1][:-1])``, so the
    labels run from 1 to ``num_bins`` (the maximum falls into the last bin), exactly as
    disentanglement_lib's ``_histogram_discretize``. A constant column lands in one bin.

    Returns an int64 (N, n_codes) array.
    """
    x = check_codes(codes)
    if (
        isinstance(num_bins, bool)
        or not isinstance(num_bins, (int, np.integer))
        or num_bins < 1
    ):  # int(2.7) would silently use 2 bins
        raise ValueError(f"num_bins must be an integer >= 1, got {num_bins!r}")
    out = np.empty(x.shape, dtype=np.int64)
    for i in range(x.shape[1]):
        edges = np.histogram(x[:, i], bins=int(num_bins))[1]
        out[:, i] = np.digitize(x[:, i], edges[:-1])
    return out


def _relabel(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's values mapped to 0..k-1; returns the labels and each column's k."""
    labels = np.empty(columns.shape, dtype=np.int64)
    sizes = np.empty(columns.shape[1], dtype=np.int64)
    for i in range(columns.shape[1]):
        uniq, labels[:, i] = np.unique(columns[:, i], return_inverse=True)
        sizes[i] = uniq.size
    return labels, sizes


def _xlogy_sum(counts: np.ndarray, axis) -> np.ndarray:
    """Σ c·log(c) over ``axis`` with 0·log 0 = 0."""
    safe = np.where(counts > 0, counts, 1.0)
    return np.sum(counts * np.log(safe), axis=axis)


def discrete_mutual_info(codes_disc, factors) -> np.ndarray:
    """Mutual information (nats) between each discrete code and each factor.

    ``codes_disc``: (N, n_codes) discrete codes (any labels, e.g. from
    :func:`histogram_discretize`); ``factors``: (N, n_factors) integer labels.
    Returns ``m`` of shape (n_codes, n_factors) with ``m[i, j]`` equal to
    ``sklearn.metrics.mutual_info_score(factors[:, j], codes_disc[:, i])`` — the entry
    disentanglement_lib's ``discrete_mutual_info`` computes in a double loop. Here one
    ``np.bincount`` per factor fills the contingency tables of all codes at once:
    I = Σ_ab (n_ab/N) log(N n_ab / (n_a n_b)), clipped at 0 as sklearn does.
    """
    c, f = check_pair(codes_disc, factors)
    n = c.shape[0]
    c_lab, c_sizes = _relabel(c)
    f_lab, f_sizes = _relabel(f)
    n_codes, b_max = c.shape[1], int(c_sizes.max())
    # Σ_a n_a log n_a per code: the code marginals do not depend on the factor.
    code_idx = np.arange(n_codes)[None, :] * b_max + c_lab  # (N, n_codes)
    code_counts = np.bincount(code_idx.ravel(), minlength=n_codes * b_max)
    code_counts = code_counts.reshape(n_codes, b_max).astype(np.float64)
    h_codes = _xlogy_sum(code_counts, axis=1)  # (n_codes,)
    log_n = np.log(n)
    out = np.empty((n_codes, f.shape[1]))
    for j in range(f.shape[1]):
        k = int(f_sizes[j])
        flat = code_idx * k + f_lab[:, j, None]
        joint = np.bincount(flat.ravel(), minlength=n_codes * b_max * k)
        joint = joint.reshape(n_codes, b_max * k).astype(np.float64)
        h_factor = _xlogy_sum(np.bincount(f_lab[:, j], minlength=k).astype(float), 0)
        # N·I = Σ n_ab log n_ab − Σ n_a log n_a − Σ n_b log n_b + N log N
        mi = (_xlogy_sum(joint, axis=1) - h_codes - h_factor) / n + log_n
        out[:, j] = np.clip(mi, 0.0, None)
    return out


def discrete_entropy(factors) -> np.ndarray:
    """Entropy (nats) of each factor (column): H = −Σ p log p, shape (n_factors,).

    Equal to ``mutual_info_score(y, y)``, which disentanglement_lib uses.
    """
    f = check_factors(factors)
    lab, sizes = _relabel(f)
    n = f.shape[0]
    out = np.empty(f.shape[1])
    for j in range(f.shape[1]):
        counts = np.bincount(lab[:, j], minlength=int(sizes[j])).astype(np.float64)
        out[j] = max(np.log(n) - _xlogy_sum(counts, 0) / n, 0.0)
    return out


def as_generator(rng) -> np.random.Generator:
    """``rng`` as a ``np.random.Generator`` (used as is), or one seeded by an int."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(
        "rng must be a numpy.random.Generator or an int seed, got "
        f"{type(rng).__name__} (wrap a RandomState's seed with np.random.default_rng)"
    )


def encode_factors(
    dataset, encode: Callable, factors: np.ndarray, chunk_size: int = 4096
) -> np.ndarray:
    """Codes of the observations of ``factors``, rendered and encoded in chunks.

    ``dataset.render(factors)`` gives the observations and ``encode(observations)`` an
    (n, n_codes) array; chunks of ``chunk_size`` samples bound the memory of the images.
    Returns a float64 (len(factors), n_codes) array.
    """
    parts = []
    for start in range(0, factors.shape[0], chunk_size):
        chunk = factors[start : start + chunk_size]
        z = np.asarray(encode(dataset.render(chunk)), dtype=np.float64)
        if z.ndim != 2 or z.shape[0] != chunk.shape[0]:
            raise ValueError(
                f"encode must return an (n, n_codes) array for n = {chunk.shape[0]} "
                f"observations, got shape {z.shape}"
            )
        parts.append(z)
    return np.concatenate(parts, axis=0)
