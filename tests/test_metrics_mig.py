"""lib.metrics.mig, ported from disentanglement_lib's mig_test.py (identity data:
10 factors with values 1..10, observation = factors, 3000 points)."""

from __future__ import annotations

import numpy as np
import pytest

from lib.errors import ParameterError
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


# --- input checks at the door (issue 27) ------------------------------------


def _small():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 3)), rng.integers(0, 3, size=(30, 2))


@pytest.mark.parametrize(
    "codes, name",
    [
        (np.array([[np.nan, 0.0, 1.0]] * 30), "codes"),
        (np.array([[np.inf, 0.0, 1.0]] * 30), "codes"),
        (np.zeros(30), "codes"),
        (np.zeros((30, 3), dtype=complex), "codes"),
        (np.zeros((0, 3)), "codes"),
        ([[0.0, 1.0]] * 29 + [[0.0]], "codes"),
    ],
    ids=["nan", "inf", "1-D", "complex", "empty", "ragged"],
)
def test_mig_refuses_bad_codes(codes, name):
    _, factors = _small()
    with pytest.raises(ParameterError, match=name):
        mig(codes, factors)


def test_mig_refuses_a_constant_factor_instead_of_nan():
    codes, factors = _small()
    factors[:, 1] = 4
    with pytest.raises(ParameterError, match="factors"):
        mig(codes, factors)


def test_mig_from_mi_checks_its_matrices():
    from lib.metrics import mig_from_mi

    m = np.array([[0.5, 0.1], [0.2, 0.4]])
    assert 0.0 <= mig_from_mi(m, [1.0, 1.0]) <= 1.0
    with pytest.raises(ParameterError, match="entropy"):
        mig_from_mi(m, [1.0, 0.0])  # NaN before
    with pytest.raises(ParameterError, match="entropy"):
        mig_from_mi(m, [1.0, np.nan])
    with pytest.raises(ParameterError, match="m "):
        mig_from_mi(np.array([[0.5, np.nan], [0.2, 0.4]]), [1.0, 1.0])
    with pytest.raises(ParameterError, match="m "):
        mig_from_mi(-m, [1.0, 1.0])
    with pytest.raises(ParameterError, match="m "):
        mig_from_mi(m[:1], [1.0, 1.0])
    with pytest.raises(ParameterError, match="entropy"):
        mig_from_mi(m, [1.0])
