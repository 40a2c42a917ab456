"""Disentanglement metrics in numpy and scikit-learn, after google-research's
disentanglement_lib (Locatello et al. 2019, "Challenging Common Assumptions in the
Unsupervised Learning of Disentangled Representations", ICML): same algorithms and study
defaults, samples-first arrays (codes (N, n_codes) floats, factors (N, n_factors) ints).

- :func:`mig`: Mutual Information Gap (Chen et al. 2018);
- :func:`dci`: Disentanglement, Completeness, Informativeness (Eastwood & Williams
  2018), with :func:`disentanglement_from_importance` and
  :func:`completeness_from_importance`;
- :func:`sap`: Separated Attribute Predictability (Kumar et al. 2018);
- :func:`modularity` and :func:`explicitness` (Ridgeway & Mozer 2018);
- :func:`factor_vae_score`: FactorVAE score (Kim & Mnih 2018);
- :func:`beta_vae_score`: BetaVAE score (Higgins et al. 2017);
- :func:`score_all`: all of them for one encoder, with stated :class:`MetricSizes`;
  :func:`factor_accuracies`: DCI's per-factor accuracies on the same split (what the code
  predicts of each factor);
- :func:`rank_agreement`: Spearman's rank correlation between metrics over many models
  (Locatello et al.'s Fig. 2);
- shared: :func:`histogram_discretize`, :func:`discrete_mutual_info`,
  :func:`discrete_entropy`.

Each module's docstring says where it follows the reference and where it differs, and what
it checks at the door: every public function here refuses a bad argument (NaN or infinite
codes, codes beyond +-1e30, a wrong shape or dtype, codes and factors of different lengths,
a bool or non-integer size, fewer samples than its estimator needs, an encoder returning the
wrong shape) with a :class:`lib.errors.ParameterError` that names it, rather than a raw
NumPy or scikit-learn error or a silent wrong score.
"""

from __future__ import annotations

from .agreement import RankAgreement, rank_agreement
from .beta_vae import beta_vae_score
from .dci import (
    completeness_from_importance,
    dci,
    dci_importance,
    disentanglement_from_importance,
    factor_accuracy,
)
from .factor_vae import factor_vae_score
from .mig import mig, mig_from_mi
from .modularity import explicitness, modularity, modularity_from_mi
from .sap import sap, sap_from_scores, sap_score_matrix
from .suite import METRIC_NAMES, MetricSizes, factor_accuracies, score_all
from .utils import discrete_entropy, discrete_mutual_info, histogram_discretize

__all__ = [
    "RankAgreement",
    "rank_agreement",
    "METRIC_NAMES",
    "MetricSizes",
    "score_all",
    "beta_vae_score",
    "completeness_from_importance",
    "dci",
    "dci_importance",
    "discrete_entropy",
    "discrete_mutual_info",
    "disentanglement_from_importance",
    "explicitness",
    "factor_accuracies",
    "factor_accuracy",
    "factor_vae_score",
    "histogram_discretize",
    "mig",
    "mig_from_mi",
    "modularity",
    "modularity_from_mi",
    "sap",
    "sap_from_scores",
    "sap_score_matrix",
]
