"""lib.metrics.sap, ported from disentanglement_lib's sap_score_test.py (identity data,
3000 train / 3000 test points, continuous factors) plus the discrete (default) case."""

from __future__ import annotations

import numpy as np
import pytest

from lib.metrics import sap, sap_from_scores


def _identity(n, seed):
    return np.random.default_rng(seed).integers(1, 11, size=(n, 10))


@pytest.fixture(scope="module")
def splits():
    return _identity(3000, 0), _identity(3000, 1)


def test_identity_codes(splits):
    ftr, fte = splits
    s = sap(ftr.astype(float), ftr, fte.astype(float), fte, continuous_factors=True)
    assert 0.9 <= s <= 1.0


def test_zero_codes(splits):
    ftr, fte = splits
    z = np.zeros((3000, 10))
    assert 0.0 <= sap(z, ftr, z, fte, continuous_factors=True) <= 0.2


def test_duplicated_codes(splits):
    ftr, fte = splits
    ctr, cte = np.hstack([ftr, ftr]).astype(float), np.hstack([fte, fte]).astype(float)
    assert 0.0 <= sap(ctr, ftr, cte, fte, continuous_factors=True) <= 0.2


def test_discrete_default():
    rng = np.random.default_rng(0)
    f = rng.integers(0, 2, size=(400, 2))
    codes = np.hstack([f + 0.1 * rng.normal(size=f.shape), rng.normal(size=(400, 1))])
    good = sap(codes[:300], f[:300], codes[300:], f[300:])
    assert 0.4 <= good <= 0.6  # SVM accuracy ~1 for the right code, ~0.5 otherwise
    z = np.zeros((400, 3))
    assert sap(z[:300], f[:300], z[300:], f[300:]) == pytest.approx(0.0, abs=0.05)


def test_from_scores_and_validation():
    assert sap_from_scores(np.array([[0.9, 0.1], [0.2, 0.5], [0.1, 0.4]])) == (
        pytest.approx(((0.9 - 0.2) + (0.5 - 0.4)) / 2)
    )
    f = _identity(20, 0)
    with pytest.raises(ValueError, match="same number of samples"):
        sap(f[:-1].astype(float), f, f.astype(float), f)
    with pytest.raises(ValueError, match="two codes"):
        sap(f[:, :1].astype(float), f, f[:, :1].astype(float), f)
