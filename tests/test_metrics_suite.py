"""lib.metrics.suite: MetricSizes and score_all check their input (issue 27)."""

from __future__ import annotations

import numpy as np
import pytest

from lib.errors import ParameterError
from lib.metrics import MetricSizes, factor_accuracies, score_all


class Grid:
    """Two factors, rendered as their own values: a perfect code."""

    factor_sizes = (3, 4)

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(0, s, n) for s in self.factor_sizes], 1)

    def render(self, factors):
        return factors.astype(np.float32)


TINY = MetricSizes(n_train=60, n_test=30, votes_train=10, votes_eval=5, batch_size=4)


@pytest.mark.parametrize(
    "field, value",
    [
        ("n_train", True),
        ("n_train", 1),
        ("n_train", 0),
        ("n_train", 2.0),
        ("n_test", 1),
        ("n_test", -5),
        ("votes_train", 1),
        ("votes_train", None),
        ("votes_eval", 0),
        ("votes_eval", "5"),
        ("batch_size", 1),
        ("batch_size", False),
    ],
)
def test_metric_sizes_refuse_what_a_metric_cannot_use(field, value):
    with pytest.raises(ParameterError, match=f"MetricSizes.{field}"):
        MetricSizes(**{field: value})


def test_metric_sizes_keep_numpy_integers_as_ints_and_accept_the_minima():
    s = MetricSizes(np.int64(2), 2, 2, 1, 2)
    assert type(s.n_train) is int and s.n_train == 2
    assert s == MetricSizes(2, 2, 2, 1, 2)


def test_score_all_on_a_perfect_code_is_in_range():
    out = score_all(Grid(), lambda x: x, TINY, seed=0)
    assert all(np.isfinite(v) and -1e-9 <= v <= 1 + 1e-9 for v in out.values())


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(sizes={"n_train": 60}), "sizes"),
        (dict(seed=-1), "seed"),
        (dict(seed=True), "seed"),
        (dict(encode=lambda x: np.full(x.shape, np.nan)), "encode"),
        (dict(encode=lambda x: x[:-1]), "encode"),
        (dict(encode=lambda x: x[:, 0]), "encode"),
        (dict(encode=None), "encode"),
        (dict(dataset=object()), "dataset"),
    ],
)
def test_score_all_checks_its_arguments(kwargs, name):
    args = dict(dataset=Grid(), encode=lambda x: x, sizes=TINY, seed=0) | kwargs
    with pytest.raises(ParameterError, match=name):
        score_all(**args)


def test_factor_accuracies_checks_its_arguments():
    with pytest.raises(ParameterError, match="sizes"):
        factor_accuracies(Grid(), lambda x: x, (60, 30, 10, 5, 4))
    with pytest.raises(ParameterError, match="factors"):
        factor_accuracies(Grid(), lambda x: x, TINY, factors=(5,))
    with pytest.raises(ParameterError, match="encode"):
        factor_accuracies(Grid(), lambda x: np.full(x.shape, np.inf), TINY)
