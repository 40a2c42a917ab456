"""lib.metrics.mig, ported from disentanglement_lib's mig_test.py (identity data:
10 factors with values 1..10, observation = factors, 3000 points)."""

from __future__ import annotations

import numpy as np
import pytest

from lib.metrics import mig


def _identity_factors(n=3000, seed=0):
    return np.random.default_rng(seed).integers(1, 11, size=(n, 10))


def test_identity_codes_score_high():
    f = _identity_factors()
    assert 0.9 <= mig(f.astype(float), f, num_bins=None) <= 1.0
    assert 0.9 <= mig(f.astype(float), f) <= 1.0  # 20 bins keep 10 integer levels apart


def test_zero_codes_score_low():
    f = _identity_factors()
    assert 0.0 <= mig(np.zeros_like(f, dtype=float), f, num_bins=None) <= 0.2
    assert 0.0 <= mig(np.zeros_like(f, dtype=float), f) <= 0.2


def test_duplicated_codes_score_low():
    f = _identity_factors()
    codes = np.hstack([f, f]).astype(float)
    assert 0.0 <= mig(codes, f, num_bins=None) <= 0.1


def test_returns_float_and_validates():
    f = _identity_factors(200)
    assert isinstance(mig(f.astype(float), f), float)
    with pytest.raises(ValueError, match="same number of samples"):
        mig(f[:-1].astype(float), f)
    with pytest.raises(ValueError, match="integer"):
        mig(f.astype(float), f + 0.5)
    with pytest.raises(ValueError, match="two codes"):
        mig(f[:, :1].astype(float), f)


@pytest.mark.parametrize("bins", [2.7, 0, True, "20"])
def test_mig_refuses_a_bin_count_that_is_not_a_positive_integer(bins):
    rng = np.random.default_rng(0)
    codes, factors = rng.normal(size=(50, 3)), rng.integers(0, 3, size=(50, 2))
    with pytest.raises(ValueError, match="num_bins"):
        mig(codes, factors, num_bins=bins)
