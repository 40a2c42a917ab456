"""Chapter "Measuring disentanglement": its settings, hand-made codes, and models to score.

The metrics are :mod:`lib.metrics` (after disentanglement_lib, Locatello et al. 2019, "Challenging
Common Assumptions in the Unsupervised Learning of Disentangled Representations", ICML); the
data are :mod:`lib.data.dsprites`. This package holds what the chapter adds on top:

- :mod:`~lib.measuring.runs`: :func:`get_config` (the chapter's sizes and budgets), the run
  spec of one dSprites autoencoder, plain or beta-VAE (:class:`DSpritesRun`), and the one
  builder its recipes and scripts train through (:func:`build_run`);
- :mod:`~lib.measuring.recipes`: the hand-made codes, the plain autoencoder and the beta-VAE
  population below;
- :class:`FactorObservations` and :func:`hand_made_codes`: codes whose scores a reader can
  predict (the true factors, a rotation of them, duplicates, merged factors, noise);
- :func:`fit_dsprites_ae`: a plain autoencoder trained on dSprites; :func:`fit_beta_vae`: one
  beta-VAE of the population (:class:`lib.nets.Conv64VAE`, Higgins et al. 2017);
  :func:`score_all` (every metric of an encoder in one call, :mod:`lib.metrics.suite`) and
  :func:`encode_images` (:mod:`lib.nets`) are re-exported here;
- :mod:`~lib.measuring.measure`: the scores the formulas predict for the hand-made codes
  (:data:`PREDICTIONS`, :func:`check_predictions`), the rule on the metrics' agreement over
  trained models (:data:`AGREEMENT_RULE`: pooled and within families, with bootstrap
  intervals, :func:`agreement_intervals`, :func:`agreement_verdict`), the simulation that
  sized the population before it was trained (:func:`interval_width_simulation`), and the
  adequacy check (:func:`judge_adequacy`, the factor judge of :mod:`lib.judge`);
- :mod:`~lib.measuring.record`: the shipped record of the beta-VAE population
  (:func:`load_beta_vaes`, :func:`population_table`).
"""

from lib.measuring.measure import (
    ADEQUACY_FACTORS,
    ADEQUACY_FRACTION,
    AGREEING,
    AGREEMENT_RULE,
    MIN_FAMILY,
    MIN_MODELS,
    PREDICTIONS,
    AgreementIntervals,
    Interval,
    Prediction,
    adequate,
    agreement_intervals,
    agreement_verdict,
    check_predictions,
    format_predictions,
    format_simulation,
    interval_width_simulation,
    judge_adequacy,
    judge_images,
    modularity_wording,
    reading,
    simulated_population,
)
from lib.measuring.recipes import (
    HAND_MADE,
    FactorObservations,
    SmallChunkDSprites,
    beta_vae_name,
    dsprites_batches,
    fit_beta_vae,
    fit_dsprites_ae,
    get_config,
    hand_made_codes,
)
from lib.measuring.record import BETA_VAE_RECORD, load_beta_vaes, population_table
from lib.measuring.runs import DSpritesRun, MeasuringChapterConfig, build_run
from lib.metrics import MetricSizes, score_all
from lib.nets import encode_images

__all__ = [
    "DSpritesRun",
    "build_run",
    "ADEQUACY_FACTORS",
    "ADEQUACY_FRACTION",
    "AGREEING",
    "AGREEMENT_RULE",
    "BETA_VAE_RECORD",
    "HAND_MADE",
    "MIN_FAMILY",
    "MIN_MODELS",
    "PREDICTIONS",
    "AgreementIntervals",
    "FactorObservations",
    "Interval",
    "MeasuringChapterConfig",
    "MetricSizes",
    "Prediction",
    "SmallChunkDSprites",
    "adequate",
    "agreement_intervals",
    "agreement_verdict",
    "beta_vae_name",
    "check_predictions",
    "dsprites_batches",
    "encode_images",
    "fit_beta_vae",
    "fit_dsprites_ae",
    "format_predictions",
    "format_simulation",
    "get_config",
    "hand_made_codes",
    "interval_width_simulation",
    "judge_adequacy",
    "judge_images",
    "load_beta_vaes",
    "modularity_wording",
    "population_table",
    "reading",
    "score_all",
    "simulated_population",
]
