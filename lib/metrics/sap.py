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

We differ only where the reference divides by zero or hangs: a factor that is constant on
the train split gets S = 0 in the continuous case (the reference gives NaN), and code values
below 1e-150 in magnitude are set to 0 before the SVM (liblinear never returns once a
value's square underflows, |x| < about 1e-162, cjlin1/liblinear#27; such a value moves the
regularised SVM's decision by less than rounding).

Checked at the door (a :class:`lib.errors.ParameterError` naming the argument): both
splits finite real codes (at least two codes) and integer factors of matching rows and
columns, ``continuous_factors`` a bool; the discrete case needs two values of every factor
in the training split (an SVM needs two classes), the continuous one two training points.
"""

from __future__ import annotations

import numpy as np

from lib.errors import ParameterError

from .utils import check_matrix, check_train_test, check_two_classes

__all__ = ["sap", "sap_from_scores", "sap_score_matrix"]

_TINY = 1e-150  # below it a square underflows towards 0, and liblinear hangs


def sap_from_scores(scores) -> float:
    """Mean over the columns of ``scores`` of (largest − second largest) entry."""
    s = check_matrix(scores, "scores", "(n_codes, n_factors)", min_rows=2)
    top = np.sort(s, axis=0)
    return float(np.mean(top[-1] - top[-2]))


def sap_score_matrix(
    codes_train, factors_train, codes_test, factors_test, continuous_factors=False
) -> np.ndarray:
    """The (n_codes, n_factors) score matrix S of :func:`sap` (module docstring), with
    entries in [0, 1]."""
    ztr, ftr, zte, fte = check_train_test(
        codes_train, factors_train, codes_test, factors_test
    )
    if not isinstance(continuous_factors, (bool, np.bool_)):
        raise ParameterError(
            f"continuous_factors must be True or False, got {continuous_factors!r}"
        )
    n_codes, n_factors = ztr.shape[1], ftr.shape[1]
    if continuous_factors:
        if ztr.shape[0] < 2:
            raise ParameterError(
                "the continuous SAP needs at least two training samples, got "
                f"codes_train of shape {ztr.shape}"
            )
        zc = ztr - ztr.mean(axis=0)
        yc = ftr - ftr.mean(axis=0)
        cov = zc.T @ yc / (ztr.shape[0] - 1)  # (n_codes, n_factors), ddof=1
        var_z = np.sum(zc**2, axis=0) / (ztr.shape[0] - 1)
        var_y = np.sum(yc**2, axis=0) / (ztr.shape[0] - 1)
        denom = var_z[:, None] * var_y[None, :]
        ok = (var_z[:, None] > 1e-12) & (var_y[None, :] > 0)
        r2 = np.where(ok, cov**2 / np.where(ok, denom, 1.0), 0.0)
        return np.clip(r2, 0.0, 1.0)  # a squared correlation, up to rounding
    check_two_classes(ftr, "factors_train", "a linear SVM needs two classes")
    from sklearn.svm import LinearSVC

    ztr = np.where(
        np.abs(ztr) < _TINY, 0.0, ztr
    )  # liblinear hangs on these (docstring)
    zte = np.where(np.abs(zte) < _TINY, 0.0, zte)

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
    ztr, ftr, zte, fte = check_train_test(
        codes_train, factors_train, codes_test, factors_test
    )
    if ztr.shape[1] < 2:
        raise ParameterError(
            f"SAP needs at least two codes, got codes_train of shape {ztr.shape}"
        )
    return sap_from_scores(sap_score_matrix(ztr, ftr, zte, fte, continuous_factors))
