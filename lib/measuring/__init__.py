"""Chapter "Measuring disentanglement": its settings, hand-made codes, and a plain AE to score.

The metrics are :mod:`lib.metrics` (after disentanglement_lib, Locatello et al. 2019, "Challenging
Common Assumptions in the Unsupervised Learning of Disentangled Representations", ICML); the
data are :mod:`lib.data.dsprites`. This package holds what the chapter adds on top:

- :mod:`~lib.measuring.recipes`: :func:`get_config` (the chapter's sizes and budgets), the
  hand-made codes and the plain autoencoder below;
- :class:`FactorObservations` and :func:`hand_made_codes`: codes whose scores a reader can
  predict (the true factors, a rotation of them, duplicates, merged factors, noise);
- :func:`fit_dsprites_ae`: a plain autoencoder trained on dSprites; :func:`score_all` (every
  metric of an encoder in one call, :mod:`lib.metrics.suite`) and :func:`encode_images`
  (:mod:`lib.nets`) are re-exported here;
- :mod:`~lib.measuring.measure`: the scores the formulas predict for the hand-made codes
  (:data:`PREDICTIONS`, :func:`check_predictions`) and the verdict on the metrics' agreement
  (:data:`AGREEMENT_RULE`, :func:`agreement_verdict`).
"""

from lib.measuring.measure import (
    AGREEING,
    AGREEMENT_RULE,
    MIN_MODELS,
    PREDICTIONS,
    Prediction,
    agreement_verdict,
    check_predictions,
    format_predictions,
)
from lib.measuring.recipes import (
    HAND_MADE,
    FactorObservations,
    MeasuringChapterConfig,
    dsprites_batches,
    fit_dsprites_ae,
    get_config,
    hand_made_codes,
)
from lib.metrics import MetricSizes, score_all
from lib.nets import encode_images

__all__ = [
    "AGREEING",
    "AGREEMENT_RULE",
    "HAND_MADE",
    "MIN_MODELS",
    "PREDICTIONS",
    "FactorObservations",
    "MeasuringChapterConfig",
    "Prediction",
    "agreement_verdict",
    "check_predictions",
    "format_predictions",
    "MetricSizes",
    "dsprites_batches",
    "encode_images",
    "fit_dsprites_ae",
    "get_config",
    "hand_made_codes",
    "score_all",
]
