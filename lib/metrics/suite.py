"""Every metric of an encoder in one call, with stated sample sizes (:func:`score_all`).

The data set is duck-typed: anything with ``factor_sizes``, ``sample_factors(n, rng)`` and
``render(factors)`` (e.g. :class:`lib.data.dsprites.DSprites`), so this layer needs no data
module. The reference sizes of disentanglement_lib (10,000 train / 5,000 test points and votes)
cost minutes per code on a CPU; the chapters state smaller ones and say so.

Every argument is checked at the door (a :class:`lib.errors.ParameterError` naming it):
the data set's interface, ``encode`` callable and returning finite (n, n_codes) codes,
``sizes`` a :class:`MetricSizes` (itself checked when made), ``seed`` an integer in
[0, 2**32); each metric then checks its own input again.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lib.errors import ParameterError, check_integer

from .beta_vae import beta_vae_score
from .dci import dci, factor_accuracy
from .factor_vae import factor_vae_score
from .mig import mig
from .modularity import explicitness, modularity
from .sap import sap
from .utils import (
    check_dataset,
    check_encoded,
    check_encoder,
    check_seed,
    sample_factors,
)

METRIC_NAMES = (
    "MIG",
    "DCI D",
    "DCI C",
    "DCI I",
    "SAP",
    "SAP (continuous)",
    "modularity",
    "explicitness",
    "FactorVAE",
    "BetaVAE",
)


# The least each field can be: what the metrics need of it (the MetricSizes docstring).
_MINIMA = {
    "n_train": 2,
    "n_test": 2,
    "votes_train": 2,
    "votes_eval": 1,
    "batch_size": 2,
}


@dataclass(frozen=True)
class MetricSizes:
    """Points for the train/test metrics and votes for FactorVAE / BetaVAE.

    Every field is an integer (not a bool; a NumPy integer is stored as an ``int``) of at
    least what the metrics need, checked when made:

    - ``n_train`` >= 2: DCI, SAP and explicitness fit a classifier per factor, which needs
      two classes; FactorVAE estimates its global variances (ddof=1) on ``n_train`` points;
    - ``n_test`` >= 2: explicitness's ROC-AUC needs a positive and a negative test sample;
    - ``votes_train`` >= 2: BetaVAE's classifier needs points of two factors;
    - ``votes_eval`` >= 1: an accuracy needs one evaluation vote;
    - ``batch_size`` >= 2: FactorVAE's within-batch variance (ddof=1) needs two observations.

    These are what the estimators need to run at all; with few points the metrics may still
    refuse a draw (e.g. a factor that took one value in a small split) and their scores are
    noisy. The reference's sizes are 10,000 / 5,000 points and votes, batch 64.
    """

    n_train: int = 2000
    n_test: int = 1000
    votes_train: int = 1000
    votes_eval: int = 500
    batch_size: int = 64  # observations per vote, as the reference

    def __post_init__(self) -> None:
        for name, minimum in _MINIMA.items():
            value = check_integer(f"MetricSizes.{name}", getattr(self, name), minimum)
            object.__setattr__(self, name, value)


def _check_sizes(sizes) -> MetricSizes:
    if not isinstance(sizes, MetricSizes):
        raise ParameterError(
            f"sizes must be a lib.metrics.MetricSizes, got {type(sizes).__name__} "
            f"{sizes!r}"
        )
    return sizes


def score_all(
    dataset: Any,
    encode: Callable[[np.ndarray], np.ndarray],
    sizes: MetricSizes,
    seed: int = 0,
) -> dict[str, float]:
    """Every metric of ``encode`` on ``dataset``, with the sample sizes ``sizes``.

    Returns MIG, DCI (D, C, I test), SAP (discrete factors, the reference default, and
    continuous), modularity, explicitness (test), FactorVAE and BetaVAE (eval accuracy), keyed
    by :data:`METRIC_NAMES`. scikit-learn's convergence warnings are silenced: the reference's
    estimators keep their default iteration limits, which unscaled codes can reach.
    """
    from sklearn.exceptions import ConvergenceWarning

    check_dataset(dataset)
    check_encoder(encode)
    sizes = _check_sizes(sizes)
    seed = check_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _score_all(dataset, encode, sizes, seed)


def _split(dataset, encode, sizes: MetricSizes, rng: np.random.Generator):
    """The train/test points of the split metrics: (codes, factors) x (train, test)."""
    f_train = sample_factors(dataset, sizes.n_train, rng)
    f_test = sample_factors(dataset, sizes.n_test, rng)
    z_train = check_encoded(encode(dataset.render(f_train)), sizes.n_train)
    z_test = check_encoded(
        encode(dataset.render(f_test)), sizes.n_test, z_train.shape[1]
    )
    return z_train, f_train, z_test, f_test


def factor_accuracies(
    dataset: Any,
    encode: Callable[[np.ndarray], np.ndarray],
    sizes: MetricSizes,
    seed: int = 0,
    factors: tuple[int, ...] | None = None,
) -> dict[str, np.ndarray]:
    """Per-factor test accuracy of DCI's classifiers on :func:`score_all`'s own split.

    The same points as ``score_all(dataset, encode, sizes, seed)`` draws for DCI, so over all
    factors the mean accuracy is its "DCI I". Returns ``{"accuracy", "chance"}``, arrays over
    ``factors`` (default all; see :func:`lib.metrics.dci.factor_accuracy`).
    """
    check_dataset(dataset)
    check_encoder(encode)
    sizes = _check_sizes(sizes)
    seed = check_seed(seed)
    split = _split(dataset, encode, sizes, np.random.default_rng(seed))
    accuracy, chance = factor_accuracy(*split, factors=factors, seed=seed)
    return {"accuracy": accuracy, "chance": chance}


def _score_all(dataset, encode, sizes: MetricSizes, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    split = _split(dataset, encode, sizes, rng)
    z_train, f_train, z_test, f_test = split
    d = dci(*split, seed=seed)
    votes = dict(batch_size=sizes.batch_size, num_train=sizes.votes_train)
    return {
        "MIG": mig(z_train, f_train),
        "DCI D": d["disentanglement"],
        "DCI C": d["completeness"],
        "DCI I": d["informativeness_test"],
        "SAP": sap(*split),
        "SAP (continuous)": sap(*split, continuous_factors=True),
        "modularity": modularity(z_train, f_train),
        "explicitness": explicitness(*split)["test"],
        "FactorVAE": factor_vae_score(
            dataset,
            encode,
            rng,
            num_eval=sizes.votes_eval,
            num_variance_estimate=sizes.n_train,
            **votes,
        )["eval_accuracy"],
        "BetaVAE": beta_vae_score(
            dataset, encode, rng, num_eval=sizes.votes_eval, **votes
        )["eval_accuracy"],
    }
