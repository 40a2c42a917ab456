"""lib.metrics.dci, ported from disentanglement_lib's dci_test.py.

The end-to-end cases run the reference estimator (sklearn's GradientBoostingClassifier,
seeded) on smaller identity data than the reference's test (500 / 500 points, 5 factors
of 10 values instead of 1000 / 1000 and 10 factors), to keep CI fast.
"""

from __future__ import annotations

import numpy as np
import pytest

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
