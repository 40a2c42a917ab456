"""lib.metrics.utils: disentanglement_lib's utils_test.py ported, and input checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from lib.metrics import discrete_entropy, discrete_mutual_info, histogram_discretize
from lib.metrics.utils import check_pair


def test_histogram_discretize():
    target = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]])
    result = histogram_discretize(target.T, num_bins=3)
    expected = np.array([[1, 1, 2, 2, 3, 3], [3, 3, 2, 2, 1, 1]]).T
    np.testing.assert_array_equal(result, expected)


def test_histogram_discretize_default_bins_1_to_20():
    x = np.random.default_rng(0).normal(size=(500, 3))
    d = histogram_discretize(x)
    assert d.min() == 1 and d.max() == 20
    for i in range(3):
        ref = np.digitize(x[:, i], np.histogram(x[:, i], 20)[1][:-1])
        np.testing.assert_array_equal(d[:, i], ref)


def test_discrete_entropy():
    target = np.array([[1, 1, 2, 2, 3, 3], [3, 3, 2, 2, 1, 1]]).T
    np.testing.assert_allclose(discrete_entropy(target), [np.log(3), np.log(3)])


def test_discrete_mutual_info():
    xs = np.array([[1, 2, 1, 2], [1, 1, 2, 2]]).T
    ys = np.array([[1, 2, 1, 2], [2, 2, 1, 1]]).T
    expected = np.array([[np.log(2), 0.0], [0.0, np.log(2)]])
    np.testing.assert_allclose(discrete_mutual_info(xs, ys), expected, atol=1e-15)


def test_discrete_mutual_info_matches_sklearn():
    rng = np.random.default_rng(1)
    factors = rng.integers(0, 7, size=(400, 3))
    codes = histogram_discretize(
        factors[:, [0, 0, 1, 2]] + rng.normal(size=(400, 4)) * [0.1, 2, 0.5, 5]
    )
    codes = np.hstack([codes, np.zeros((400, 1), dtype=int)])  # a constant code
    m = discrete_mutual_info(codes, factors)
    ref = np.array(
        [
            [mutual_info_score(factors[:, j], codes[:, i]) for j in range(3)]
            for i in range(5)
        ]
    )
    np.testing.assert_allclose(m, ref, rtol=0, atol=1e-10)
    h = [mutual_info_score(factors[:, j], factors[:, j]) for j in range(3)]
    np.testing.assert_allclose(discrete_entropy(factors), h, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    "codes, factors, match",
    [
        (np.zeros((5, 2)), np.zeros((4, 2), dtype=int), "same number of samples"),
        (np.zeros(5), np.zeros((5, 2), dtype=int), "2-D"),
        (np.zeros((5, 2)), np.zeros(5, dtype=int), "2-D"),
        (np.zeros((5, 2)), np.full((5, 2), 0.5), "integer"),
        (np.zeros((5, 2)), np.array([["a", "b"]] * 5), "integer"),
    ],
)
def test_check_pair_errors(codes, factors, match):
    with pytest.raises(ValueError, match=match):
        check_pair(codes, factors)


def test_whole_float_factors_are_accepted():
    _, f = check_pair(np.zeros((3, 2)), np.array([[0.0], [1.0], [2.0]]))
    assert f.dtype == np.int64


def test_rank_agreement_is_spearman_and_checks_its_input():
    from lib.metrics import rank_agreement

    scores = [{"a": x, "b": x**3, "c": -x} for x in (0.1, 0.4, 0.2, 0.9)]
    agreement = rank_agreement(scores, ["a", "b", "c"])
    assert agreement.pair("a", "b") == pytest.approx(1.0)  # monotone: same ranks
    assert agreement.pair("a", "c") == pytest.approx(-1.0)
    assert agreement.median_between(["a", "b"], ["c"]) == pytest.approx(-1.0)
    assert "a" in agreement.format() and agreement.n_models == 4
    with pytest.raises(ValueError, match="at least 3 models"):
        rank_agreement(scores[:2], ["a", "b"])
    with pytest.raises(ValueError, match="no score"):
        rank_agreement(scores, ["a", "d"])
    with pytest.raises(ValueError, match="no rank order"):
        rank_agreement([{"a": x, "b": 1.0} for x in (1, 2, 3)], ["a", "b"])
    with pytest.raises(ValueError, match="two metrics"):
        rank_agreement(scores, ["a"])
    with pytest.raises(ValueError, match="no pair"):
        agreement.median_between(["a"])
