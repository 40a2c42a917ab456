"""DCI: Disentanglement, Completeness and Informativeness (Eastwood & Williams 2018, "A
Framework for the Quantitative Evaluation of Disentangled Representations", ICLR).

One classifier per factor predicts it from all codes; its feature importances fill
column j of the importance matrix R (n_codes, n_factors). Then

- disentanglement D = Σ_i ρ_i (1 − H_K(R_i· / Σ_j R_ij)), with ρ_i = Σ_j R_ij / Σ R, the
  entropy taken in base K = n_factors (each code should matter for one factor);
- completeness C = Σ_j (Σ_i R_ij / Σ R)(1 − H_L(R_·j / Σ_i R_ij)), base L = n_codes
  (each factor should be captured by one code);
- informativeness: the classifiers' mean accuracy on the train and the test split.

As disentanglement_lib's ``dci.py`` (Locatello et al. 2019):
``GradientBoostingClassifier`` with sklearn's defaults (100 trees of depth 3, learning
rate 0.1) on the raw codes, R = |``feature_importances_``|, 1e-11 added before the
entropies, R replaced by ones when it is all zero (then D = C = 0), and informativeness
as **accuracy** (the reference names it ``train_err``/``test_err``, but it is the
accuracy). Default sizes there: 10,000 train and 5,000 test points.

Where we differ:

- the trees are seeded (``random_state=seed``; the reference does not seed them, and
  re-runs of it move the scores by up to about 0.003) and the factors' classifiers are
  fitted in parallel processes (``n_jobs``). Otherwise it is the reference, to within
  0.0006 at the reference's sizes (``bench/dci_speed.py``). At 10,000/5,000 points that
  costs about two minutes on two cores: use fewer points for a quick look.
- Faster estimators were tried and dropped because they do not match: sklearn's
  ``HistGradientBoostingClassifier`` (splits by a Hessian-weighted gain: 0.04 off in D and
  C on the bench's input) and a histogram version of the same boosting (up to 0.014 off).

Checked at the door (a :class:`lib.errors.ParameterError` naming the argument): both
splits finite real codes and integer factors of matching rows and columns, every factor
with at least two values in the training split (a classifier needs two classes, so the
training split has at least two points), ``seed`` an integer in [0, 2**32), ``n_jobs``
as scikit-learn's (-1: all cores); an importance matrix 2-D, finite and non-negative.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from lib.errors import ParameterError, is_integer

from .utils import (
    check_matrix,
    check_seed,
    check_train_test,
    check_two_classes,
    resolve_n_jobs,
)

__all__ = [
    "completeness_from_importance",
    "dci",
    "dci_importance",
    "disentanglement_from_importance",
    "factor_accuracy",
]


def _check_importance(importance) -> np.ndarray:
    return check_matrix(
        importance, "importance", "(n_codes, n_factors)", non_negative=True
    )


def _one_minus_entropy(p: np.ndarray, base: int) -> np.ndarray:
    """1 − H_base of each column of ``p`` (normalised by scipy), with 1e-11 added."""
    if base == 1:  # one outcome only: the normalised entropy is 0 by convention
        return np.ones(p.shape[1])
    return 1.0 - scipy.stats.entropy(p + 1e-11, base=base)


def disentanglement_from_importance(importance) -> float:
    """Disentanglement D of an (n_codes, n_factors) importance matrix ``R``.

    D = Σ_i ρ_i D_i, D_i = 1 − H_{n_factors}(R_i· / Σ_j R_ij), ρ_i = Σ_j R_ij / Σ R
    (uniform weights when R is all zero). With a single factor every D_i is 1 (the
    reference divides by log 1 there).
    """
    r = _check_importance(importance)
    per_code = _one_minus_entropy(r.T, r.shape[1])
    if r.sum() == 0.0:
        r = np.ones_like(r)
    weights = r.sum(axis=1) / r.sum()
    return float(np.sum(per_code * weights))


def completeness_from_importance(importance) -> float:
    """Completeness C of an (n_codes, n_factors) importance matrix ``R``.

    C = Σ_j w_j C_j, C_j = 1 − H_{n_codes}(R_·j / Σ_i R_ij), w_j = Σ_i R_ij / Σ R.
    """
    r = _check_importance(importance)
    per_factor = _one_minus_entropy(r, r.shape[0])
    if r.sum() == 0.0:
        r = np.ones_like(r)
    weights = r.sum(axis=0) / r.sum()
    return float(np.sum(per_factor * weights))


# --- one factor's classifier ------------------------


def _check_columns(factors, n_factors: int) -> list[int]:
    """``factors`` (None: all) as a non-empty list of column indices in [0, n_factors)."""
    if factors is None:
        return list(range(n_factors))
    if isinstance(factors, (str, bytes)) or not hasattr(factors, "__iter__"):
        raise ParameterError(
            f"factors must be a list of column indices in [0, {n_factors}), got "
            f"{factors!r}"
        )
    columns = list(factors)
    if not columns:
        raise ParameterError(
            f"factors must name at least one column in [0, {n_factors}), got none"
        )
    for j in columns:
        if not is_integer(j) or not 0 <= j < n_factors:
            raise ParameterError(
                f"factors must be column indices in [0, {n_factors}), got {j!r}"
            )
    return [int(j) for j in columns]


def _fit_gbt(x_train, y_train, x_test, y_test, seed):
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(random_state=seed).fit(x_train, y_train)
    importance = np.abs(model.feature_importances_)
    acc_train = float(np.mean(model.predict(x_train) == y_train))
    acc_test = float(np.mean(model.predict(x_test) == y_test))
    return importance, acc_train, acc_test


def dci_importance(
    codes_train,
    factors_train,
    codes_test,
    factors_test,
    *,
    seed: int = 0,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, float, float]:
    """Importance matrix R (n_codes, n_factors) and the mean train and test accuracy.

    One ``GradientBoostingClassifier(random_state=seed)`` per factor, as the reference.
    ``n_jobs``: processes for the per-factor fits, at most one per factor, as
    scikit-learn's convention (``None`` or -1: all cores, -2: all but one, a positive
    integer: that many; 0 is refused).
    """
    xtr, ftr, xte, fte = check_train_test(
        codes_train, factors_train, codes_test, factors_test
    )
    seed = check_seed(seed)
    n_factors = ftr.shape[1]
    jobs = resolve_n_jobs(n_jobs, n_factors)
    check_two_classes(
        ftr, "factors_train", "DCI needs two classes per factor to fit a classifier"
    )
    fit = _fit_gbt
    args = [(xtr, ftr[:, j], xte, fte[:, j], seed) for j in range(n_factors)]
    if jobs == 1:
        results = [fit(*a) for a in args]
    else:
        from sklearn.utils.parallel import Parallel, delayed

        # Most classes (most trees) first, so that the pool stays balanced.
        order = np.argsort([-np.unique(a[1]).size for a in args], kind="stable")
        done = Parallel(n_jobs=jobs)(delayed(fit)(*args[j]) for j in order)
        results = [None] * n_factors
        for j, res in zip(order, done):
            results[j] = res
    importance = np.stack([r[0] for r in results], axis=1)
    acc_train = float(np.mean([r[1] for r in results]))
    acc_test = float(np.mean([r[2] for r in results]))
    return importance, acc_train, acc_test


def dci(
    codes_train,
    factors_train,
    codes_test,
    factors_test,
    *,
    seed: int = 0,
    n_jobs: int | None = None,
) -> dict[str, float]:
    """DCI scores of ``codes`` (N, n_codes) for integer ``factors`` (N, n_factors).

    Fits one classifier per factor on the train split (disentanglement_lib uses 10,000
    train and 5,000 test points) and returns ``{"disentanglement", "completeness",
    "informativeness_train", "informativeness_test"}``, the last two being mean
    accuracies. ``seed`` seeds the trees; ``n_jobs`` as in
    :func:`dci_importance`.
    """
    importance, acc_train, acc_test = dci_importance(
        codes_train,
        factors_train,
        codes_test,
        factors_test,
        seed=seed,
        n_jobs=n_jobs,
    )
    return {
        "disentanglement": disentanglement_from_importance(importance),
        "completeness": completeness_from_importance(importance),
        "informativeness_train": acc_train,
        "informativeness_test": acc_test,
    }


def factor_accuracy(
    codes_train,
    factors_train,
    codes_test,
    factors_test,
    *,
    factors: list[int] | tuple[int, ...] | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-factor informativeness: DCI's classifier for each factor, its test accuracy alone.

    ``factors``: the factor columns to fit (default all). Returns ``(accuracy, chance)``, each
    (len(factors),): the test accuracy of one ``GradientBoostingClassifier(random_state=seed)``
    per factor (the classifier of :func:`dci_importance`, so on the same split the mean over
    all factors is DCI's informativeness), and the chance level, the test frequency of the
    factor's most frequent training class (what predicting that class always scores).
    """
    xtr, ftr, xte, fte = check_train_test(
        codes_train, factors_train, codes_test, factors_test
    )
    seed = check_seed(seed)
    columns = _check_columns(factors, ftr.shape[1])
    check_two_classes(ftr, "factors_train", "a classifier needs two classes", columns)
    accuracy, chance = [], []
    for j in columns:
        accuracy.append(_fit_gbt(xtr, ftr[:, j], xte, fte[:, j], seed)[2])
        values, counts = np.unique(ftr[:, j], return_counts=True)
        chance.append(float(np.mean(fte[:, j] == values[counts.argmax()])))
    return np.array(accuracy), np.array(chance)
