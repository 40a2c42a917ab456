"""SAP, the Separated Attribute Predictability score (Kumar et al. 2018, "Variational
Inference of Disentangled Latent Concepts from Unlabeled Observations", ICLR).

A score matrix S (n_codes, n_factors) says how well each single code predicts each
factor; SAP is the mean over factors of the gap between the best and the second-best
code. As disentanglement_lib's ``sap_score.py`` (Locatello et al. 2019), whose study
default is ``continuous_factors=False`` with 10,000 train and 5,000 test points:

- discrete factors: S_ij = test accuracy of ``LinearSVC(C=0.01,
  class_weight="balanced")`` trained on code i alone to predict factor j. A 1-D linear
  classifier cannot separate many classes, so this SAP stays small even for perfect
  codes when factors have many values;
- continuous factors: S_ij = cov(z_i, v_j)² / (var z_i · var v_j) on the train split
  (0 where var z_i ≤ 1e-12); the test split is not used.

We differ only where the reference divides by zero: a factor that is constant on the
train split gets S = 0 in the continuous case (the reference gives NaN).
"""

from __future__ import annotations

import numpy as np

from .utils import check_train_test

__all__ = ["sap", "sap_from_scores", "sap_score_matrix"]


def sap_from_scores(scores) -> float:
    """Mean over the columns of ``scores`` of (largest − second largest) entry."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] < 2:
        raise ValueError(
            f"SAP needs an (n_codes >= 2, n_factors) matrix, got {s.shape}"
        )
    top = np.sort(s, axis=0)
    return float(np.mean(top[-1] - top[-2]))


def sap_score_matrix(
    codes_train, factors_train, codes_test, factors_test, continuous_factors=False
) -> np.ndarray:
    """The (n_codes, n_factors) score matrix S of :func:`sap` (module docstring)."""
    ztr, ftr, zte, fte = check_train_test(
        codes_train, factors_train, codes_test, factors_test
    )
    n_codes, n_factors = ztr.shape[1], ftr.shape[1]
    if continuous_factors:
        if ztr.shape[0] < 2:
            raise ValueError("the continuous SAP needs at least two train samples")
        zc = ztr - ztr.mean(axis=0)
        yc = ftr - ftr.mean(axis=0)
        cov = zc.T @ yc / (ztr.shape[0] - 1)  # (n_codes, n_factors), ddof=1
        var_z = np.sum(zc**2, axis=0) / (ztr.shape[0] - 1)
        var_y = np.sum(yc**2, axis=0) / (ztr.shape[0] - 1)
        denom = var_z[:, None] * var_y[None, :]
        ok = (var_z[:, None] > 1e-12) & (var_y[None, :] > 0)
        return np.where(ok, cov**2 / np.where(ok, denom, 1.0), 0.0)
    from sklearn.svm import LinearSVC

    scores = np.zeros((n_codes, n_factors))
    for j in range(n_factors):
        if np.unique(ftr[:, j]).size < 2:
            continue  # a constant factor: no classifier, score 0 for every code
        for i in range(n_codes):
            clf = LinearSVC(C=0.01, class_weight="balanced")
            clf.fit(ztr[:, i : i + 1], ftr[:, j])
            scores[i, j] = np.mean(clf.predict(zte[:, i : i + 1]) == fte[:, j])
    return scores


def sap(
    codes_train, factors_train, codes_test, factors_test, continuous_factors=False
) -> float:
    """SAP score of ``codes`` (N, n_codes) for integer ``factors`` (N, n_factors).

    ``continuous_factors=False`` (disentanglement_lib's default) scores each code-factor
    pair by a linear SVM's test accuracy; ``True`` by the squared correlation on the
    train split. Returns a float in [0, 1]; needs at least two codes.
    """
    if np.asarray(codes_train).ndim == 2 and np.asarray(codes_train).shape[1] < 2:
        raise ValueError("SAP needs at least two codes")
    return sap_from_scores(
        sap_score_matrix(
            codes_train, factors_train, codes_test, factors_test, continuous_factors
        )
    )
