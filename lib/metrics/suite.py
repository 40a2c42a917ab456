"""Every metric of an encoder in one call, with stated sample sizes (:func:`score_all`).

The data set is duck-typed: anything with ``factor_sizes``, ``sample_factors(n, rng)`` and
``render(factors)`` (e.g. :class:`lib.data.dsprites.DSprites`), so this layer needs no data
module. The reference sizes of disentanglement_lib (10,000 train / 5,000 test points and votes)
cost minutes per code on a CPU; the chapters state smaller ones and say so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .beta_vae import beta_vae_score
from .dci import dci, factor_accuracy
from .factor_vae import factor_vae_score
from .mig import mig
from .modularity import explicitness, modularity
from .sap import sap

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


@dataclass(frozen=True)
class MetricSizes:
    """Points for the train/test metrics and votes for FactorVAE / BetaVAE."""

    n_train: int = 2000
    n_test: int = 1000
    votes_train: int = 1000
    votes_eval: int = 500
    batch_size: int = 64  # observations per vote, as the reference

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"MetricSizes.{name} must be an integer >= 1, got {value!r}"
                )


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

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _score_all(dataset, encode, sizes, seed)


def _split(dataset, encode, sizes: MetricSizes, rng: np.random.Generator):
    """The train/test points of the split metrics: (codes, factors) x (train, test)."""
    f_train = dataset.sample_factors(sizes.n_train, rng)
    f_test = dataset.sample_factors(sizes.n_test, rng)
    z_train = np.asarray(encode(dataset.render(f_train)), dtype=np.float64)
    z_test = np.asarray(encode(dataset.render(f_test)), dtype=np.float64)
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
