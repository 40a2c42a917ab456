"""Modularity and explicitness (Ridgeway & Mozer 2018, "Learning Deep Disentangled
Embeddings with the F-Statistic Loss", NeurIPS).

- Modularity: each code should carry information about one factor only. From the mutual
  information m (n_codes, n_factors): for code i, θ_i = max_j m_ij², δ_i = (Σ_j m_ij² −
  θ_i) / (θ_i (K − 1)), modularity_i = 1 − δ_i (0 for a code with no information); the
  score is the mean over codes.
- Explicitness: how well a linear classifier reads each factor off all codes: for each
  factor, ``LogisticRegression()`` on the standardised codes and the macro one-vs-rest
  ROC-AUC of its ``predict_proba``, on the train and the test split; mean over factors.

As disentanglement_lib's ``modularity_explicitness.py`` (Locatello et al. 2019; 10,000
train and 5,000 test points there, MI of 20-bin histogram codes in nats, codes
standardised with the train mean and standard deviation). We differ where the reference
fails:

- a constant code (zero standard deviation) is only centred, not divided by 0, and the
  standard deviation is taken on each code scaled to magnitude 1 (the reference's squares
  underflow for codes of about 1e-160 and below, which then count as constant);
- the ROC-AUC is averaged over the classes that have both positive and negative samples
  in the split (the reference's ``MultiLabelBinarizer`` breaks when the test split
  misses a class the classifier knows); where all classes are present this is its value;
- with a single factor, δ_i = 0 (the reference divides by K − 1 = 0).

sklearn's current ``LogisticRegression()`` defaults (lbfgs, multinomial) are used, as
the reference's code does when run with today's sklearn.

Checked at the door (a :class:`lib.errors.ParameterError` naming the argument): finite
real codes and integer factors with matching rows (and columns across splits),
``num_bins`` an integer >= 1 or None, an MI matrix finite and non-negative. Explicitness
refuses, where the reference gives NaN or fails: a factor with a single value in the
training split (no classifier to fit) and a test split on which no class of the
classifier has both positive and negative samples (no ROC-AUC).
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from lib.errors import ParameterError

from .utils import (
    check_matrix,
    check_pair,
    check_train_test,
    check_two_classes,
    discrete_mutual_info,
    histogram_discretize,
)

__all__ = ["explicitness", "modularity", "modularity_from_mi"]


def modularity_from_mi(m) -> float:
    """Modularity of an (n_codes, n_factors) mutual-information matrix ``m`` (finite,
    non-negative), in [0, 1]."""
    m = check_matrix(m, "m (the MI matrix)", "(n_codes, n_factors)", non_negative=True)
    sq = m**2
    theta = sq.max(axis=1)
    if m.shape[1] == 1:
        delta = np.zeros_like(theta)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = (sq.sum(axis=1) - theta) / (theta * (m.shape[1] - 1.0))
    per_code = np.where(theta == 0.0, 0.0, 1.0 - delta)
    return float(np.mean(per_code))


def modularity(codes, factors, num_bins: int | None = 20) -> float:
    """Modularity of ``codes`` (N, n_codes) w.r.t. integer ``factors`` (N, n_factors).

    ``num_bins``: histogram bins per code (20 as disentanglement_lib); ``None`` takes
    the codes as already discrete labels. Returns a float in [0, 1].
    """
    c, f = check_pair(codes, factors)
    disc = c if num_bins is None else histogram_discretize(c, num_bins)
    return modularity_from_mi(discrete_mutual_info(disc, f))


def _macro_auc(labels: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Mean one-vs-rest ROC-AUC over the classes with positives and negatives present.

    Mann-Whitney form, AUC = (Σ ranks of positives − P(P+1)/2) / (P·Q), with tied scores
    given their average rank: the same value as ``sklearn.metrics.roc_auc_score``.
    """
    positive = labels[:, None] == classes[None, :]  # (n, n_classes)
    n_pos = positive.sum(axis=0)
    n_neg = labels.shape[0] - n_pos
    ranks = scipy.stats.rankdata(proba, axis=0)
    rank_sum = np.sum(np.where(positive, ranks, 0.0), axis=0)
    ok = (n_pos > 0) & (n_neg > 0)
    if not np.any(ok):
        return float("nan")
    auc = (rank_sum[ok] - n_pos[ok] * (n_pos[ok] + 1) / 2.0) / (n_pos[ok] * n_neg[ok])
    return float(np.mean(auc))


_FAR = 1e6  # training standard deviations


def _std(centred: np.ndarray) -> np.ndarray:
    """Each column's standard deviation, computed on the column divided by its largest
    magnitude, so that squares neither underflow (codes ~1e-300) nor overflow."""
    spread = np.max(np.abs(centred), axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    return np.std(centred / spread, axis=0) * spread


def explicitness(
    codes_train, factors_train, codes_test, factors_test
) -> dict[str, float]:
    """Explicitness of ``codes`` for integer ``factors``: ``{"train", "test"}``.

    For each factor a ``LogisticRegression()`` on all standardised codes; the score is
    its macro ROC-AUC, averaged over factors (1: every factor linearly readable; 0.5:
    chance). Every factor needs two values on the train split (a classifier) and on the
    test split (a ROC-AUC); else a :class:`lib.errors.ParameterError`.
    """
    ztr, ftr, zte, fte = check_train_test(
        codes_train, factors_train, codes_test, factors_test
    )
    check_two_classes(ftr, "factors_train", "a classifier needs two classes")
    for j in range(ftr.shape[1]):
        n_pos = np.sum(fte[:, j, None] == np.unique(ftr[:, j])[None, :], axis=0)
        if not np.any((n_pos > 0) & (n_pos < fte.shape[0])):
            raise ParameterError(
                f"factor {j} of factors_test: no training class has both positive and "
                "negative samples in the test split, so there is no ROC-AUC (test "
                f"values {np.unique(fte[:, j])[:10]})"
            )
    from sklearn.linear_model import LogisticRegression

    mean = ztr.mean(axis=0)
    std = _std(ztr - mean)
    std = np.where(std > 0, std, 1.0)
    ztr = (ztr - mean) / std  # each column within +-sqrt(n)
    with np.errstate(over="ignore"):
        zte = (zte - mean) / std
    # A test code far outside the training spread (1e25 against a spread of 1e-283)
    # overflows to inf. Beyond a million training deviations the classifier's
    # probability is saturated, so clipping there changes no score.
    zte = np.clip(zte, -_FAR, _FAR)
    train, test = [], []
    for j in range(ftr.shape[1]):
        clf = LogisticRegression().fit(ztr, ftr[:, j])
        train.append(_macro_auc(ftr[:, j], clf.predict_proba(ztr), clf.classes_))
        test.append(_macro_auc(fte[:, j], clf.predict_proba(zte), clf.classes_))
    return {"train": float(np.mean(train)), "test": float(np.mean(test))}
