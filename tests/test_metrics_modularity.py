"""lib.metrics.modularity and explicitness, ported from disentanglement_lib's
modularity_explicitness_test.py (identity data, observation = factors)."""

from __future__ import annotations

import numpy as np
import pytest

from lib.errors import ParameterError
from lib.metrics import explicitness, modularity, modularity_from_mi

DIAG = np.diag(5.0 * np.ones(5))


@pytest.mark.parametrize(
    "m, expected",
    [
        (DIAG, 1.0),
        (np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), 2.0 / 3.0),  # empty code
        (np.zeros((10, 10)), 0.0),
        (np.vstack([DIAG, DIAG]), 1.0),  # redundant codes
        (DIAG[:2, :], 1.0),  # missed factors
        (np.hstack([DIAG, DIAG]), 1.0 - 1.0 / 9),  # one code for two factors
    ],
    ids=["diagonal", "empty-code", "zero", "redundant", "missed", "one-code-two"],
)
def test_modularity_from_mi(m, expected):
    np.testing.assert_allclose(modularity_from_mi(m), expected)


def _identity(n, seed):
    return np.random.default_rng(seed).integers(1, 11, size=(n, 10))


def test_identity_codes():
    f = _identity(3000, 0)
    assert 0.9 <= modularity(f.astype(float), f, num_bins=None) <= 1.0
    assert 0.9 <= modularity(f.astype(float), f) <= 1.0


def test_permuted_codes():
    f = _identity(20000, 0)
    codes = np.random.default_rng(1).permuted(f, axis=1).astype(float)
    assert 0.0 <= modularity(codes, f, num_bins=None) <= 0.2


def test_duplicated_codes():
    f = _identity(3000, 0)
    assert 0.9 <= modularity(np.hstack([f, f]).astype(float), f, num_bins=None) <= 1.0


def test_explicitness():
    rng = np.random.default_rng(0)
    f = rng.integers(0, 3, size=(600, 2))
    good = f + 0.05 * rng.normal(size=f.shape)
    e = explicitness(good[:400], f[:400], good[400:], f[400:])
    assert set(e) == {"train", "test"}
    assert e["train"] > 0.95 and e["test"] > 0.95
    noise = rng.normal(size=(600, 2))
    e = explicitness(noise[:400], f[:400], noise[400:], f[400:])
    assert 0.4 < e["test"] < 0.6
    const = np.zeros((600, 2))  # constant codes: no division by a zero std
    e = explicitness(const[:400], f[:400], const[400:], f[400:])
    assert e["test"] == pytest.approx(0.5)


def test_explicitness_auc_matches_sklearn():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import label_binarize

    rng = np.random.default_rng(3)
    f = rng.integers(0, 4, size=(300, 1))
    codes = f + rng.normal(size=(300, 2))
    e = explicitness(codes, f, codes, f)
    z = (codes - codes.mean(0)) / codes.std(0)
    clf = LogisticRegression().fit(z, f[:, 0])
    y = label_binarize(f[:, 0], classes=clf.classes_)
    ref = roc_auc_score(y, clf.predict_proba(z), average="macro")
    assert e["train"] == pytest.approx(ref, abs=1e-12)


def test_validation():
    f = _identity(30, 0)
    with pytest.raises(ValueError, match="same number of samples"):
        modularity(f[:-1].astype(float), f)
    with pytest.raises(ValueError, match="integer"):
        modularity(f.astype(float), f * 0.5 + 0.25)


# --- input checks at the door (issue 27) ------------------------------------


@pytest.mark.parametrize(
    "m",
    [
        np.array([[0.5, np.nan], [0.1, 0.2]]),
        np.array([[0.5, -0.1], [0.1, 0.2]]),
        np.ones(3),
        np.zeros((2, 0)),
        [["a"]],
    ],
    ids=["nan", "negative", "1-D", "empty", "strings"],
)
def test_modularity_from_mi_checks_its_matrix(m):
    with pytest.raises(ParameterError, match="m "):
        modularity_from_mi(m)


def test_modularity_inputs_are_checked():
    f = _identity(30, 0)
    codes = f.astype(float)
    codes[0, 0] = np.inf
    with pytest.raises(ParameterError, match="codes"):
        modularity(codes, f)
    with pytest.raises(ParameterError, match="num_bins"):
        modularity(f.astype(float), f, num_bins=-2)
    with pytest.raises(ParameterError, match="factors"):
        modularity(f.astype(float), f[:, 0])


def test_explicitness_refuses_what_it_cannot_score_instead_of_nan():
    rng = np.random.default_rng(0)
    f = rng.integers(0, 3, size=(60, 2))
    f[:3] = [[0, 0], [1, 1], [2, 2]]
    codes = f + 0.1 * rng.normal(size=f.shape)
    const = f.copy()
    const[:, 1] = 0
    with pytest.raises(ParameterError, match="factors_train"):
        explicitness(codes, const, codes, f)
    with pytest.raises(ParameterError, match="factors_test"):  # no ROC-AUC on one class
        explicitness(codes, f, codes, const)
    with pytest.raises(ParameterError, match="factors_test"):  # unseen classes only
        explicitness(codes, f, codes[:5], f[:5] + 10)
    bad = codes.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ParameterError, match="codes_test"):
        explicitness(codes, f, bad, f)


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e25])
def test_explicitness_standardises_codes_of_any_scale(scale):
    """The codes are standardised, so the score does not depend on their scale; a
    standard deviation whose squares underflow or overflow must not count as zero."""
    rng = np.random.default_rng(0)
    f = rng.integers(0, 3, size=(200, 2))
    codes = f + 0.1 * rng.normal(size=f.shape)
    ref = explicitness(codes[:150], f[:150], codes[150:], f[150:])
    got = explicitness(codes[:150] * scale, f[:150], codes[150:] * scale, f[150:])
    assert got["test"] == pytest.approx(ref["test"], abs=1e-6)
    assert got["train"] == pytest.approx(ref["train"], abs=1e-6)
