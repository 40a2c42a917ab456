"""FactorVAE score (Kim & Mnih 2018, "Disentangling by Factorising", ICML).

Each vote: choose a factor k at random, draw ``batch_size`` factor vectors that share
the value of factor k, encode their observations, divide each code's variance over the
batch by its global variance and vote (k, argmin). A majority-vote classifier maps each
code to the factor it most often wins for; the score is the fraction of votes it gets
right, on the training votes and on fresh evaluation votes.

As disentanglement_lib's ``factor_vae.py`` (Locatello et al. 2019) with its study
defaults: batch 64, 10,000 train and 5,000 eval votes, global variances (ddof=1) from
10,000 observations, codes with a global standard deviation below ``prune_threshold`` =
0.05 left out (``prune_dims.threshold`` of the study's gin file; its code default is 0).
Local variances with ddof=1. If no code is active both accuracies are 0.

Checked at the door (a :class:`lib.errors.ParameterError` naming the argument): the data
set's interface, ``encode`` callable and returning finite (n, n_codes) codes of one width
throughout, ``batch_size`` >= 2 and ``num_variance_estimate`` >= 2 (both are variances
with ddof=1), ``num_train`` and ``num_eval`` >= 1 (a majority vote needs a vote; with none
the vote table is empty and the accuracy 0 / 0), ``prune_threshold`` finite and >= 0.

Where we differ: the votes are stored under the code's own index (the reference stores
the index within the active subset, which labels consistently and gives the same
accuracies), and ``num_active_dims`` is the number of active codes (the reference
returns the total). All factor batches of a block of votes are drawn at once and
rendered/encoded in chunks (the reference draws one vote at a time), so for the same
seed the draws differ from it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lib.errors import check_integer, check_real

from .utils import (
    as_generator,
    check_dataset,
    check_encoder,
    encode_factors,
)
from .utils import sample_factors as _sample_factors

__all__ = ["factor_vae_score"]

_CHUNK = 8192  # observations rendered and encoded per call


def _votes(dataset, encode, rng, batch_size, num_votes, global_var, active):
    """(n_factors, n_codes) vote counts from ``num_votes`` fixed-factor batches."""
    n_factors = len(dataset.factor_sizes)
    votes = np.zeros((n_factors, global_var.size), dtype=np.int64)
    active_idx = np.flatnonzero(active)
    per_block = max(1, _CHUNK // batch_size)
    for start in range(0, num_votes, per_block):
        m = min(per_block, num_votes - start)
        k = rng.integers(n_factors, size=m)
        f = _sample_factors(dataset, m * batch_size, rng).reshape(m, batch_size, -1)
        f[np.arange(m), :, k] = f[np.arange(m), :1, k]  # factor k fixed in each batch
        flat = f.reshape(m * batch_size, -1)
        z = encode_factors(dataset, encode, flat, _CHUNK, global_var.size)
        z = z.reshape(m, batch_size, -1)[:, :, active_idx]
        local = np.var(z, axis=1, ddof=1) / global_var[active_idx]
        np.add.at(votes, (k, active_idx[np.argmin(local, axis=1)]), 1)
    return votes


def factor_vae_score(
    dataset,
    encode: Callable[[np.ndarray], np.ndarray],
    rng,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    num_variance_estimate: int = 10000,
    prune_threshold: float = 0.05,
) -> dict[str, float]:
    """FactorVAE score of an encoder on a data set with known factors.

    ``dataset``: has ``factor_sizes`` (tuple of ints), ``sample_factors(n, rng)`` -> (n,
    n_factors) ints and ``render(factors)`` -> observations (e.g. float32 (n, 1, H, W));
    ``encode(observations)`` -> (n, n_codes) codes (the encoder mean, as the reference).
    ``rng``: a ``np.random.Generator`` (or an int seed), passed on to
    ``sample_factors``.

    ``batch_size`` and ``num_variance_estimate`` >= 2, ``num_train`` and ``num_eval`` >= 1,
    ``prune_threshold`` >= 0 (module docstring).

    Returns ``{"train_accuracy", "eval_accuracy", "num_active_dims"}``, the accuracies in
    [0, 1].
    """
    check_dataset(dataset)
    check_encoder(encode)
    rng = as_generator(rng)
    batch_size = check_integer("batch_size", batch_size, 2)  # a variance with ddof=1
    num_train = check_integer("num_train", num_train, 1)
    num_eval = check_integer("num_eval", num_eval, 1)
    num_variance_estimate = check_integer(
        "num_variance_estimate", num_variance_estimate, 2
    )
    prune_threshold = check_real("prune_threshold", prune_threshold, 0.0)
    f = _sample_factors(dataset, num_variance_estimate, rng)
    z = encode_factors(dataset, encode, f, _CHUNK)
    global_var = np.var(z, axis=0, ddof=1)
    active = np.sqrt(global_var) >= prune_threshold
    active &= global_var > 0  # a zero variance cannot standardise anything
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    train = _votes(dataset, encode, rng, batch_size, num_train, global_var, active)
    classifier = np.argmax(train, axis=0)  # (n_codes,): majority factor per code
    cols = np.arange(train.shape[1])
    train_acc = train[classifier, cols].sum() / train.sum()
    evals = _votes(dataset, encode, rng, batch_size, num_eval, global_var, active)
    eval_acc = evals[classifier, cols].sum() / evals.sum()
    return {
        "train_accuracy": float(train_acc),
        "eval_accuracy": float(eval_acc),
        "num_active_dims": int(active.sum()),
    }
