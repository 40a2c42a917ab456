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

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from lib.errors import ParameterError, check_integer, is_integer

__all__ = [
    "as_generator",
    "check_codes",
    "check_dataset",
    "check_encoded",
    "check_factors",
    "check_matrix",
    "check_pair",
    "check_seed",
    "check_train_test",
    "discrete_entropy",
    "discrete_mutual_info",
    "encode_factors",
    "histogram_discretize",
    "resolve_n_jobs",
]

_INT64_MAX = np.iinfo(np.int64).max

#: The largest code magnitude the metrics accept. Beyond it scikit-learn's trees (which cast
#: to float32, max 3.4e38) raise, liblinear's SVM never returns (from about 1e78;
#: scikit-learn#7486 and #31248) and variances overflow; scikit-learn itself refuses
#: values above 1e30 for liblinear's logistic regression.
MAX_ABS_CODE = 1e30


def _as_array(value: Any, name: str, shape: str) -> np.ndarray:
    """``np.asarray(value)`` with NumPy's own errors (a ragged list, a GPU tensor) as ours."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ParameterError(
            f"{name} must be a {shape} array, got {type(value).__name__} that NumPy "
            f"cannot read as one ({exc})"
        ) from None
    if arr.dtype == object:
        raise ParameterError(
            f"{name} must be a {shape} array of numbers, got an object array "
            "(a ragged list, or entries that are not numbers)"
        )
    return arr


def check_codes(codes, name: str = "codes") -> np.ndarray:
    """``codes`` as a finite float64 (N, n_codes) array; :class:`ParameterError` otherwise.

    Real (integer, float or boolean) dtypes only: a complex array would lose its imaginary
    part in the cast, a string array is not a code. Magnitudes up to
    :data:`MAX_ABS_CODE` (1e30), where the estimators still work.
    """
    arr = _as_array(codes, name, "2-D (N, n_codes)")
    if arr.ndim != 2:
        raise ParameterError(
            f"{name} must be a 2-D (N, n_codes) array, got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ParameterError(f"{name} is empty: shape {arr.shape}")
    real = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    if not (real or arr.dtype == bool):
        raise ParameterError(
            f"{name} must be a real-valued numeric array, got dtype {arr.dtype}"
        )
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    _check_magnitude(arr, name)
    return arr


def _check_magnitude(arr: np.ndarray, name: str) -> None:
    largest = float(np.max(np.abs(arr)))
    if largest > MAX_ABS_CODE:
        raise ParameterError(
            f"{name} has values up to {largest:.3g} in magnitude; the metrics take codes "
            f"within +-{MAX_ABS_CODE:.0e} (scikit-learn's estimators fail or never return "
            "beyond): rescale the codes"
        )


def check_factors(factors, name: str = "factors") -> np.ndarray:
    """``factors`` as an int64 (N, n_factors) array of labels; ParameterError otherwise.

    Integer and boolean dtypes are accepted; a float array is accepted only if every
    entry is a whole number (``np.array([[0., 2.]])``) that an int64 holds exactly, anything
    else is "non-integer factors".
    """
    arr = _as_array(factors, name, "2-D (N, n_factors)")
    if arr.ndim != 2:
        raise ParameterError(
            f"{name} must be a 2-D (N, n_factors) array, got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ParameterError(f"{name} is empty: shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        if arr.dtype == np.uint64 and np.any(arr > _INT64_MAX):
            raise ParameterError(
                f"{name} holds labels above the int64 range (largest {arr.max()})"
            )
        return arr.astype(np.int64, copy=False)
    if np.issubdtype(arr.dtype, np.floating):
        exact = np.all(np.isfinite(arr)) and np.all(np.abs(arr) <= 2.0**53)
        if exact and np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
    raise ParameterError(
        f"{name} must hold integer class labels (ground-truth factors), got dtype "
        f"{arr.dtype} with non-integer values"
    )


def check_pair(codes, factors, suffix: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Check ``codes`` and ``factors`` and that they have the same number of rows."""
    c = check_codes(codes, "codes" + suffix)
    f = check_factors(factors, "factors" + suffix)
    if c.shape[0] != f.shape[0]:
        raise ParameterError(
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
        raise ParameterError(
            "train and test splits need the same columns: codes "
            f"{ctr.shape[1]} vs {cte.shape[1]}, "
            f"factors {ftr.shape[1]} vs {fte.shape[1]}"
        )
    return ctr, ftr, cte, fte


def check_two_classes(
    factors: np.ndarray, name: str, why: str, columns: list[int] | None = None
) -> None:
    """Each of ``columns`` (default all) of ``factors`` takes at least two values."""
    for j in range(factors.shape[1]) if columns is None else columns:
        values = np.unique(factors[:, j])
        if values.size < 2:
            raise ParameterError(
                f"factor {j} of {name} takes a single value ({values[0]}); {why}"
            )


def check_matrix(
    value, name: str, shape: str, *, min_rows: int = 1, non_negative: bool = False
) -> np.ndarray:
    """A finite float64 2-D matrix with at least ``min_rows`` rows and one column."""
    arr = _as_array(value, name, f"2-D {shape}")
    if arr.ndim != 2 or arr.shape[0] < min_rows or arr.shape[1] == 0:
        rows = f" with at least {min_rows} rows" if min_rows > 1 else ""
        raise ParameterError(
            f"{name} must be a non-empty 2-D {shape} matrix{rows}, got shape {arr.shape}"
        )
    if not (
        np.issubdtype(arr.dtype, np.integer)
        or np.issubdtype(arr.dtype, np.floating)
        or arr.dtype == bool
    ):
        raise ParameterError(
            f"{name} must be a real-valued matrix, got dtype {arr.dtype}"
        )
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    if non_negative and np.any(arr < 0):
        raise ParameterError(f"{name} must be non-negative, got minimum {arr.min()}")
    return arr


def check_seed(value, name: str = "seed") -> int:
    """An integer seed in [0, 2**32) (what scikit-learn's ``random_state`` takes)."""
    seed = check_integer(name, value, 0)
    if seed >= 2**32:
        raise ParameterError(f"{name} must be an integer in [0, 2**32), got {value!r}")
    return seed


def resolve_n_jobs(n_jobs, n_tasks: int) -> int:
    """Processes for ``n_tasks`` independent fits, by scikit-learn's (joblib's) convention.

    ``None``: all cores; a positive integer: that many; a negative one counts back from all
    cores, -1 all, -2 all but one (``max(cpus + 1 + n_jobs, 1)``); 0 means nothing and is
    refused. Never more than ``n_tasks``.
    """
    if n_jobs is not None and (not is_integer(n_jobs) or n_jobs == 0):
        raise ParameterError(
            "n_jobs must be None (all cores), a positive integer or a negative one "
            f"(-1 all cores, -2 all but one), got {n_jobs!r}"
        )
    cpus = os.cpu_count() or 1
    if n_jobs is None:
        jobs = cpus
    elif n_jobs < 0:
        jobs = max(cpus + 1 + int(n_jobs), 1)
    else:
        jobs = int(n_jobs)
    return max(1, min(jobs, n_tasks))


def histogram_discretize(codes, num_bins: int = 20) -> np.ndarray:
    """Discretise each code (column) into ``num_bins`` equal-width bins over its range.

    Per column ``x``: ``np.digitize(x, np.histogram(x, num_bins)[1][:-1])``, so the
    labels run from 1 to ``num_bins`` (the maximum falls into the last bin), exactly as
    disentanglement_lib's ``_histogram_discretize``. A constant column lands in one bin.
    Where numpy cannot bin a column in place (a range of a few float steps, or a constant
    column of large magnitude, where the reference fails) it is binned as
    (x - min) / (max - min), which equal-width bins do not tell apart.

    Returns an int64 (N, n_codes) array.
    """
    x = check_codes(codes)
    num_bins = check_integer("num_bins", num_bins, 1)  # int(2.7) would use 2 bins
    out = np.empty(x.shape, dtype=np.int64)
    for i in range(x.shape[1]):
        out[:, i] = _digitize(x[:, i], num_bins)
    return out


def _digitize(column: np.ndarray, num_bins: int) -> np.ndarray:
    """Equal-width bin labels 1..num_bins of one column, as the reference computes them.

    numpy cannot make finite-sized bins of a column whose range is a few float steps (or a
    constant column, whose bins span v +- 0.5, far from 0); equal-width bins do not depend
    on the column's place or width, so such a column is binned as (x - min) / (max - min).
    """
    try:
        edges = np.histogram(column, bins=num_bins)[1]
    except ValueError:  # "Too many bins for data range"
        lo, width = column.min(), np.ptp(column)
        column = (column - lo) / width if width > 0 else np.zeros_like(column)
        edges = np.histogram(column, bins=num_bins)[1]
    return np.digitize(column, edges[:-1])


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
    """``rng`` as a ``np.random.Generator`` (used as is), or one seeded by an int >= 0."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (is_integer(rng) and rng >= 0):
        return np.random.default_rng(rng)
    raise ParameterError(
        "rng must be a numpy.random.Generator or an integer seed >= 0, got "
        f"{rng!r} (wrap a RandomState's seed with np.random.default_rng)"
    )


def check_dataset(dataset, min_factors: int = 1) -> tuple[int, ...]:
    """The ``factor_sizes`` of a duck-typed data set, after checking its interface.

    A data set has ``factor_sizes`` (a sequence of integers >= 1, at least ``min_factors``
    of them), ``sample_factors(n, rng)`` and ``render(factors)``.
    """
    missing = [
        a
        for a in ("sample_factors", "render")
        if not callable(getattr(dataset, a, None))
    ]
    if missing or not hasattr(dataset, "factor_sizes"):
        what = missing + ([] if hasattr(dataset, "factor_sizes") else ["factor_sizes"])
        raise ParameterError(
            "dataset must have factor_sizes, sample_factors(n, rng) and render(factors); "
            f"{type(dataset).__name__} lacks {', '.join(what)}"
        )
    sizes = dataset.factor_sizes
    ok = isinstance(sizes, (tuple, list, np.ndarray)) and all(
        is_integer(s) and s >= 1 for s in sizes
    )
    if not ok:
        raise ParameterError(
            f"dataset.factor_sizes must be a sequence of integers >= 1, got {sizes!r}"
        )
    if len(sizes) < min_factors:
        raise ParameterError(
            f"dataset.factor_sizes must name at least {min_factors} factors, got "
            f"{tuple(sizes)!r}"
        )
    return tuple(int(s) for s in sizes)


def check_encoder(encode) -> None:
    if not callable(encode):
        raise ParameterError(
            "encode must be a callable observations -> (n, n_codes) codes, got "
            f"{type(encode).__name__}"
        )


def check_encoded(z, n: int, n_codes: int | None = None) -> np.ndarray:
    """What ``encode`` returned for ``n`` observations, as a finite float64 (n, n_codes)
    within :data:`MAX_ABS_CODE`."""
    try:
        arr = np.asarray(z, dtype=np.float64)
    except (ValueError, TypeError, RuntimeError):
        raise ParameterError(
            f"encode must return real numbers, got {type(z).__name__} "
            f"with dtype {getattr(z, 'dtype', None)}"
        ) from None
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] == 0:
        raise ParameterError(
            f"encode must return an (n, n_codes) array for n = {n} observations, got "
            f"shape {arr.shape}"
        )
    if n_codes is not None and arr.shape[1] != n_codes:
        raise ParameterError(
            f"encode returned {arr.shape[1]} codes here and {n_codes} before: the "
            "number of codes must not change between calls"
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.all(np.isfinite(arr), axis=1)))
        raise ParameterError(
            f"encode returned NaN or infinite codes for {bad} of {n} observations"
        )
    _check_magnitude(arr, "the codes that encode returned")
    return arr


def sample_factors(dataset, n: int, rng: np.random.Generator) -> np.ndarray:
    """``dataset.sample_factors(n, rng)``, checked: (n, len(factor_sizes)) integer labels."""
    f = check_factors(dataset.sample_factors(n, rng), "dataset.sample_factors(...)")
    expected = (n, len(dataset.factor_sizes))
    if f.shape != expected:
        raise ParameterError(
            f"dataset.sample_factors({n}, rng) must return shape {expected} (one "
            f"column per entry of factor_sizes), got {f.shape}"
        )
    return f


def encode_factors(
    dataset,
    encode: Callable,
    factors: np.ndarray,
    chunk_size: int = 4096,
    n_codes: int | None = None,
) -> np.ndarray:
    """Codes of the observations of ``factors``, rendered and encoded in chunks.

    ``dataset.render(factors)`` gives the observations and ``encode(observations)`` an
    (n, n_codes) array of finite codes (``n_codes`` the same in every chunk, and equal to
    ``n_codes`` when given); chunks of ``chunk_size`` samples bound the memory of the
    images. Returns a float64 (len(factors), n_codes) array.
    """
    parts = []
    for start in range(0, factors.shape[0], chunk_size):
        chunk = factors[start : start + chunk_size]
        z = check_encoded(encode(dataset.render(chunk)), chunk.shape[0], n_codes)
        n_codes = z.shape[1]
        parts.append(z)
    return np.concatenate(parts, axis=0)
