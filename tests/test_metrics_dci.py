"""lib.metrics.dci, ported from disentanglement_lib's dci_test.py.

The end-to-end cases run the reference estimator (sklearn's GradientBoostingClassifier,
seeded) on smaller identity data than the reference's test (500 / 500 points, 5 factors
of 10 values instead of 1000 / 1000 and 10 factors), to keep CI fast.
"""

from __future__ import annotations

import numpy as np
import pytest

from lib.errors import ParameterError
from lib.metrics import (
    completeness_from_importance,
    dci,
    dci_importance,
    disentanglement_from_importance,
)

DIAG = np.diag(5.0 * np.ones(5))
EMPTY = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
ZERO = np.zeros((10, 10))
ONE_MINUS = 1.0 - np.log(2) / np.log(10)


@pytest.mark.parametrize(
    "importance, expected",
    [
        (DIAG, 1.0),
        (EMPTY, 1.0),
        (ZERO, 0.0),
        (np.vstack([DIAG, DIAG]), 1.0),  # redundant codes
        (DIAG[:2, :], 1.0),  # missed factors
        (np.hstack([DIAG, DIAG]), ONE_MINUS),  # one code for two factors
    ],
    ids=["diagonal", "empty-code", "zero", "redundant", "missed", "one-code-two"],
)
def test_disentanglement(importance, expected):
    result = disentanglement_from_importance(importance)
    np.testing.assert_allclose(result, expected, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize(
    "importance, expected",
    [
        (DIAG, 1.0),
        (EMPTY, 1.0),
        (ZERO, 0.0),
        (np.vstack([DIAG, DIAG]), ONE_MINUS),
        (DIAG[:2, :], 1.0),
        (np.hstack([DIAG, DIAG]), 1.0),
    ],
    ids=["diagonal", "empty-code", "zero", "redundant", "missed", "one-code-two"],
)
def test_completeness(importance, expected):
    result = completeness_from_importance(importance)
    np.testing.assert_allclose(result, expected, rtol=1e-7, atol=1e-7)


def _identity(n, seed, n_factors=5):
    return np.random.default_rng(seed).integers(1, 11, size=(n, n_factors))


@pytest.fixture(scope="module")
def splits():
    return _identity(500, 0), _identity(500, 1)


def test_identity_codes(splits):
    ftr, fte = splits
    s = dci(ftr.astype(float), ftr, fte.astype(float), fte)
    assert 0.9 <= s["disentanglement"] <= 1.0
    assert 0.9 <= s["completeness"] <= 1.0
    assert s["informativeness_test"] > 0.99  # accuracy, not error


def test_permuted_codes(splits):
    ftr, fte = splits
    rng = np.random.default_rng(0)
    perm = rng.permuted  # each sample's factor values shuffled across the codes

    ctr, cte = perm(ftr, axis=1).astype(float), perm(fte, axis=1).astype(float)
    s = dci(ctr, ftr, cte, fte)
    assert 0.0 <= s["disentanglement"] <= 0.2
    assert 0.0 <= s["completeness"] <= 0.2


def test_duplicated_codes(splits):
    ftr, fte = splits
    ctr, cte = np.hstack([ftr, ftr]).astype(float), np.hstack([fte, fte]).astype(float)
    s = dci(ctr, ftr, cte, fte)
    assert 0.9 <= s["disentanglement"] <= 1.0
    assert ONE_MINUS - 0.1 <= s["completeness"] <= ONE_MINUS + 0.1


def test_seeded_fits_repeat_in_parallel_and_importances_are_normalised():
    rng = np.random.default_rng(2)
    f = rng.integers(0, 3, size=(400, 2))
    codes = np.hstack([f + 0.3 * rng.normal(size=f.shape), rng.normal(size=(400, 1))])
    args = (codes[:300], f[:300], codes[300:], f[300:])
    ref = dci(*args, seed=0, n_jobs=1)
    par = dci(*args, seed=0, n_jobs=2)
    assert ref == par  # seeded: parallel fits give the same numbers
    assert ref["disentanglement"] > 0.5  # the pure-noise code matters little
    assert ref != dci(*args, seed=1, n_jobs=1)  # the seed reaches the trees
    r, acc_train, acc_test = dci_importance(*args, n_jobs=1)
    assert r.shape == (3, 2) and np.allclose(r.sum(axis=0), 1.0)
    assert acc_train == ref["informativeness_train"]


def test_validation():
    f = _identity(50, 0)
    with pytest.raises(ValueError, match="same number of samples"):
        dci(f[:-1].astype(float), f, f.astype(float), f)
    with pytest.raises(ValueError, match="single value"):
        dci(f.astype(float), np.zeros_like(f), f.astype(float), f)


def test_factor_accuracy_reads_a_copied_factor_and_not_a_missing_one():
    from lib.metrics import factor_accuracy

    rng = np.random.default_rng(3)
    f = rng.integers(0, 4, size=(600, 2))
    codes = np.hstack(
        [f[:, :1] + 0.1 * rng.normal(size=(600, 1)), rng.normal(size=(600, 1))]
    )
    accuracy, chance = factor_accuracy(codes[:400], f[:400], codes[400:], f[400:])
    assert accuracy[0] > 0.95  # factor 0 is in the code
    assert accuracy[1] < 0.45  # factor 1 is not: near chance (0.25)
    assert np.allclose(chance, 0.25, atol=0.08)
    # the same classifiers as DCI: over all factors the mean is its informativeness
    d = dci(codes[:400], f[:400], codes[400:], f[400:], n_jobs=1)
    assert accuracy.mean() == pytest.approx(d["informativeness_test"])
    one, _ = factor_accuracy(codes[:400], f[:400], codes[400:], f[400:], factors=[1])
    assert one == pytest.approx(accuracy[1:])
    with pytest.raises(ValueError, match="column indices"):
        factor_accuracy(codes[:400], f[:400], codes[400:], f[400:], factors=[2])


def test_factor_accuracies_use_score_alls_split():
    from lib.metrics import MetricSizes, factor_accuracies

    class Grid:  # two factors, rendered as their own values: a perfect code
        factor_sizes = (3, 5)

        def sample_factors(self, n, rng):
            return np.stack([rng.integers(0, s, n) for s in self.factor_sizes], 1)

        def render(self, factors):
            return factors.astype(np.float32)

    sizes = MetricSizes(200, 100, 10, 10, 8)
    out = factor_accuracies(Grid(), lambda x: x, sizes, seed=0, factors=(1,))
    assert out["accuracy"].shape == (1,) and out["accuracy"][0] == 1.0
    assert 0.1 < out["chance"][0] < 0.4  # five values


# --- input checks at the door (issue 27) ------------------------------------


def _small(n=40, seed=0):
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 3, size=(n, 2))
    f[:3] = [[0, 0], [1, 1], [2, 2]]  # every value present in every split
    return f + 0.2 * rng.normal(size=f.shape), f


@pytest.fixture(scope="module")
def small():
    (ctr, ftr), (cte, fte) = _small(40, 0), _small(20, 1)
    return ctr, ftr, cte, fte


def test_n_jobs_minus_one_means_all_cores_as_scikit_learn(monkeypatch):
    from lib.metrics.utils import resolve_n_jobs

    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert resolve_n_jobs(-1, 10) == 4
    assert resolve_n_jobs(-2, 10) == 3
    assert resolve_n_jobs(-1, 2) == 2  # at most one per factor
    assert resolve_n_jobs(-9, 10) == 1  # joblib: max(cpus + 1 + n_jobs, 1)
    assert resolve_n_jobs(None, 3) == 3
    assert resolve_n_jobs(1, 3) == 1
    for bad in (0, True, 1.5, "all"):
        with pytest.raises(ParameterError, match="n_jobs"):
            resolve_n_jobs(bad, 3)


def test_n_jobs_minus_one_gives_the_same_scores(small):
    assert dci(*small, n_jobs=-1) == dci(*small, n_jobs=1)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_jobs=0), "n_jobs"),
        (dict(n_jobs=True), "n_jobs"),
        (dict(n_jobs=2.0), "n_jobs"),
        (dict(seed=-1), "seed"),
        (dict(seed=True), "seed"),
        (dict(seed=1.5), "seed"),
        (dict(seed=2**32), "seed"),
    ],
)
def test_dci_settings_are_checked(small, kwargs, name):
    with pytest.raises(ParameterError, match=name):
        dci(*small, **kwargs)


def test_dci_inputs_are_checked(small):
    ctr, ftr, cte, fte = small
    bad = ctr.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ParameterError, match="codes_train"):
        dci(bad, ftr, cte, fte)
    with pytest.raises(ParameterError, match="codes_test"):
        dci(ctr, ftr, cte[:, 0], fte)
    with pytest.raises(ParameterError, match="factors_test"):
        dci(ctr, ftr, cte, fte[:-1])
    with pytest.raises(ParameterError, match="factors_train"):
        dci(ctr, ftr + 0.5, cte, fte)
    with pytest.raises(ParameterError, match="columns"):
        dci(ctr, ftr, cte[:, :1], fte)
    with pytest.raises(ParameterError, match="factors_train"):
        dci(ctr, np.zeros_like(ftr), cte, fte)


@pytest.mark.parametrize(
    "importance",
    [
        np.ones(3),
        np.zeros((0, 2)),
        np.array([[1.0, np.nan], [0.0, 1.0]]),
        np.array([[1.0, -0.5], [0.0, 1.0]]),
        np.array([["a", "b"], ["c", "d"]]),
        [[1.0, 2.0], [3.0]],
    ],
    ids=["1-D", "empty", "nan", "negative", "strings", "ragged"],
)
def test_importance_is_checked(importance):
    with pytest.raises(ParameterError, match="importance"):
        disentanglement_from_importance(importance)
    with pytest.raises(ParameterError, match="importance"):
        completeness_from_importance(importance)


@pytest.mark.parametrize("factors", [[True], [], 1, [0.0], ["0"], [-1]])
def test_factor_accuracy_columns_are_checked(small, factors):
    from lib.metrics import factor_accuracy

    with pytest.raises(ParameterError, match="factors"):
        factor_accuracy(*small, factors=factors)
