"""lib.metrics.utils: disentanglement_lib's utils_test.py ported, and input checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from lib.errors import ParameterError
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


# --- input checks at the door (issue 27) ------------------------------------


def test_check_errors_are_parameter_errors_naming_the_argument():
    from lib.metrics.utils import check_codes, check_factors

    with pytest.raises(ParameterError, match="codes"):
        check_codes(np.zeros((3, 2), dtype=complex))
    with pytest.raises(ParameterError, match="codes"):
        check_codes([[1.0, 2.0], [3.0]])
    with pytest.raises(ParameterError, match="codes"):
        check_codes(np.array([[object()]]))
    with pytest.raises(ParameterError, match="factors"):
        check_factors(np.array([[1e30], [0.0]]))  # not an int64 label
    with pytest.raises(ParameterError, match="factors"):
        check_factors(np.array([[2**63 + 5]], dtype=np.uint64))
    with pytest.raises(ParameterError, match="factors"):
        check_factors([[0, 1], [2]])


@pytest.mark.parametrize("rng", [True, -1, 1.5, "0", np.random.RandomState(0)])
def test_as_generator_refuses_what_is_not_a_seed(rng):
    from lib.metrics.utils import as_generator

    with pytest.raises(ParameterError, match="rng"):
        as_generator(rng)


def test_discrete_helpers_check_their_input():
    with pytest.raises(ParameterError, match="num_bins"):
        histogram_discretize(np.zeros((4, 2)), num_bins=None)
    with pytest.raises(ParameterError, match="codes"):
        histogram_discretize(np.array([[np.nan], [1.0]]))
    with pytest.raises(ParameterError, match="factors"):
        discrete_entropy(np.zeros(4, dtype=int))
    with pytest.raises(ParameterError, match="same number of samples"):
        discrete_mutual_info(np.zeros((4, 2), dtype=int), np.zeros((3, 1), dtype=int))


def test_rank_agreement_checks_every_argument():
    from lib.metrics import rank_agreement

    scores = [{"a": x, "b": x**3} for x in (0.1, 0.4, 0.2, 0.9)]
    with pytest.raises(ParameterError, match="metrics"):
        rank_agreement(scores, "ab")  # a string is not a list of names
    with pytest.raises(ParameterError, match="metrics"):
        rank_agreement(scores, ["a", "a"])
    with pytest.raises(ParameterError, match="scores"):
        rank_agreement([{"a": "x", "b": 1.0}] + scores[1:], ["a", "b"])
    with pytest.raises(ParameterError, match="scores"):
        rank_agreement([{"a": True, "b": 1.0}] + scores[1:], ["a", "b"])
    with pytest.raises(ParameterError, match="scores"):
        rank_agreement([1, 2, 3], ["a", "b"])
    with pytest.raises(ParameterError, match="scores"):
        rank_agreement(None, ["a", "b"])
    agreement = rank_agreement(scores, ["a", "b"])
    with pytest.raises(ParameterError, match="metric"):
        agreement.pair("a", "z")
    with pytest.raises(ParameterError, match="metric"):
        agreement.median_between(["a", "z"])


@pytest.mark.parametrize("value", [1e31, -1e200, np.finfo(np.float64).max])
def test_codes_beyond_1e30_are_refused(value):
    """scikit-learn's trees cast to float32 (max 3.4e38) and liblinear never returns
    above about 1e78: every metric refuses codes beyond 1e30, as scikit-learn does for
    liblinear's logistic regression."""
    from lib.metrics import dci, explicitness, mig, modularity, sap
    from lib.metrics.utils import check_codes, check_encoded

    rng = np.random.default_rng(0)
    f = rng.integers(0, 3, size=(30, 2))
    f[:3] = [[0, 0], [1, 1], [2, 2]]
    codes = rng.normal(size=(30, 3))
    codes[5, 1] = value
    with pytest.raises(ParameterError, match="codes"):
        check_codes(codes)
    with pytest.raises(ParameterError, match="encode"):
        check_encoded(codes, 30)
    for call in (
        lambda: mig(codes, f),
        lambda: modularity(codes, f),
        lambda: sap(codes, f, codes, f),
        lambda: sap(codes, f, codes, f, continuous_factors=True),
        lambda: explicitness(codes, f, codes, f),
        lambda: dci(codes, f, codes, f, n_jobs=1),
    ):
        with pytest.raises(ParameterError, match="codes"):
            call()
    check_codes(np.where(np.abs(codes) > 1e30, 1e30, codes))  # the bound itself is fine


@pytest.mark.parametrize(
    "column",
    [
        np.full(6, 2.81474977e14),  # constant: numpy's bins [v - 0.5, v + 0.5] collapse
        2.81474977e14 + np.arange(6) * 0.03125,  # a range of a few float steps
        np.array([0.0, 5e-324, 0.0, 1e-323, 5e-324, 0.0]),  # a subnormal range
    ],
    ids=["constant-large", "narrow-large", "subnormal"],
)
def test_histogram_discretize_bins_any_accepted_column(column):
    """Equal-width bins do not depend on where the column lies or on its width, so a
    column numpy cannot bin in place is binned as (x - min) / (max - min)."""
    d = histogram_discretize(np.stack([column, np.arange(6.0)], axis=1), num_bins=20)
    ref = histogram_discretize(np.stack([column - column.min(), np.arange(6.0)], 1), 20)
    if np.ptp(column) > 0:
        scaled = (column - column.min()) / np.ptp(column)
        ref = histogram_discretize(np.stack([scaled, np.arange(6.0)], 1), 20)
    np.testing.assert_array_equal(d, ref)
    assert d.min() >= 1 and d.max() <= 20
