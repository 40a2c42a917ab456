"""lib.metrics.sap, ported from disentanglement_lib's sap_score_test.py (identity data,
3000 train / 3000 test points, continuous factors) plus the discrete (default) case."""

from __future__ import annotations

import numpy as np
import pytest

from lib.errors import ParameterError
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


# --- input checks at the door (issue 27) ------------------------------------


def _small(n=30, seed=0):
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 2, size=(n, 2))
    f[:2] = [[0, 0], [1, 1]]
    return rng.normal(size=(n, 3)), f


@pytest.mark.parametrize("flag", ["yes", 1, None, np.array([True, False])])
def test_continuous_factors_must_be_a_bool(flag):
    (ctr, ftr), (cte, fte) = _small(), _small(20, 1)
    with pytest.raises(ParameterError, match="continuous_factors"):
        sap(ctr, ftr, cte, fte, continuous_factors=flag)


def test_sap_inputs_are_checked():
    (ctr, ftr), (cte, fte) = _small(), _small(20, 1)
    bad = ctr.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ParameterError, match="codes_train"):
        sap(bad, ftr, cte, fte)
    with pytest.raises(ParameterError, match="codes_train"):
        sap(ctr[:, 0], ftr, cte, fte)
    with pytest.raises(ParameterError, match="factors_train"):  # one class: no SVM
        sap(ctr, np.zeros_like(ftr), cte, fte)
    with pytest.raises(ParameterError, match="codes_train"):
        sap(ctr[:1], ftr[:1], cte, fte, continuous_factors=True)


def test_sap_from_scores_checks_its_matrix():
    with pytest.raises(ParameterError, match="scores"):
        sap_from_scores(np.array([[0.5, np.nan], [0.1, 0.2]]))
    with pytest.raises(ParameterError, match="scores"):
        sap_from_scores(np.ones(3))
    with pytest.raises(ParameterError, match="scores"):
        sap_from_scores([["a", "b"], ["c", "d"]])


def test_tiny_code_values_do_not_hang_the_svm():
    """liblinear never returns when a value's square underflows (about |x| < 1e-162):
    a hang found by tests/test_metrics_properties.py. Run apart, under a time limit,
    because the C loop cannot be interrupted from Python."""
    import subprocess
    import sys

    script = (
        "import numpy as np\n"
        "from lib.metrics import sap\n"
        "x = np.full((8, 2), 1.6e-238)\n"
        "x[3, 0] = 0.0\n"
        "x[1, 1], x[2, 1] = -1.8, 7.3\n"
        "f = np.array([[0, 1, 0, 1, 0, 0, 0, 0]]).T\n"
        "print(sap(x, f, x, f))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert 0.0 <= float(done.stdout) <= 1.0


@pytest.mark.parametrize("scale", [1e-200, 1e25])
def test_sap_continuous_is_scale_free_within_the_code_range(scale):
    (ctr, ftr), (cte, fte) = _small(), _small(20, 1)
    ctr[:, 0] += 3 * ftr[:, 0]
    ref = sap(ctr, ftr, cte, fte, continuous_factors=True)
    if scale < 1:  # variance below the reference's 1e-12: the code counts as constant
        assert sap(ctr * scale, ftr, cte, fte, continuous_factors=True) == 0.0
    else:
        got = sap(ctr * scale, ftr, cte * scale, fte, continuous_factors=True)
        assert got == pytest.approx(ref, abs=1e-9)
