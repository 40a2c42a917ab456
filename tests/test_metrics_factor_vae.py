"""lib.metrics.factor_vae_score, ported from disentanglement_lib's factor_vae_test.py
(identity data, batch 5, 3000 train / 2000 eval votes, 2500 points for the
variances)."""

from __future__ import annotations

import numpy as np
import pytest
from toy_factors import IdentityData, SmallFactors

from lib.errors import ParameterError
from lib.metrics import factor_vae_score


def _score(encode, **kwargs):
    return factor_vae_score(
        IdentityData(),
        encode,
        np.random.default_rng(0),
        batch_size=5,
        num_train=3000,
        num_eval=2000,
        num_variance_estimate=2500,
        **kwargs,
    )


def test_identity_codes():
    s = _score(lambda x: x)
    assert 0.9 <= s["train_accuracy"] <= 1.0
    assert 0.9 <= s["eval_accuracy"] <= 1.0
    assert s["num_active_dims"] == 10


def test_zero_codes():
    s = _score(np.zeros_like)
    assert 0.0 <= s["train_accuracy"] <= 0.2
    assert 0.0 <= s["eval_accuracy"] <= 0.2
    assert s["num_active_dims"] == 0


def test_pruned_code_and_permuted_codes():
    # A collapsed code (std < 0.05) is pruned; a fixed permutation of the codes is fine.
    perm = np.array([3, 1, 4, 0, 2, 9, 8, 7, 6, 5])
    s = _score(lambda x: np.hstack([x[:, perm], 0.01 * x[:, :1]]))
    assert s["num_active_dims"] == 10
    assert s["eval_accuracy"] >= 0.9


def test_bad_encoder_output():
    with pytest.raises(ValueError, match="n_codes"):
        _score(lambda x: x[:-1])


# --- input checks at the door (issue 27) ------------------------------------


def _tiny(encode=lambda x: x, dataset=None, **kwargs):
    sizes = dict(batch_size=4, num_train=20, num_eval=10, num_variance_estimate=50)
    sizes.update(kwargs)
    rng = sizes.pop("rng", 0)
    return factor_vae_score(dataset or SmallFactors(), encode, rng, **sizes)


def test_tiny_call_is_valid():
    s = _tiny()
    assert 0.0 <= s["eval_accuracy"] <= 1.0 and s["num_active_dims"] == 2


def test_a_nan_encoder_is_refused_not_scored_zero():
    with pytest.raises(ParameterError, match="encode"):
        _tiny(lambda x: np.full(x.shape, np.nan))
    with pytest.raises(ParameterError, match="encode"):
        _tiny(lambda x: np.where(x > 2, np.inf, x))


@pytest.mark.parametrize(
    "name, value",
    [
        ("num_train", 0),
        ("num_train", -3),
        ("num_train", True),
        ("num_train", 10.0),
        ("num_eval", 0),
        ("num_eval", "5"),
        ("num_variance_estimate", 1),
        ("num_variance_estimate", 0),
        ("batch_size", 1),
        ("batch_size", True),
        ("batch_size", 2.5),
        ("prune_threshold", float("nan")),
        ("prune_threshold", -0.1),
        ("prune_threshold", True),
        ("rng", True),
        ("rng", -1),
        ("rng", "seed"),
    ],
)
def test_sizes_and_settings_are_checked(name, value):
    with pytest.raises(ParameterError, match=name):
        _tiny(**{name: value})


def test_the_dataset_and_the_encoder_are_checked():
    class NoRender:
        factor_sizes = (3, 4)

        def sample_factors(self, n, rng):
            return np.zeros((n, 2), dtype=int)

    class WrongColumns(SmallFactors):
        def sample_factors(self, n, rng):
            return np.zeros((n, 3), dtype=int)

    class BadSizes(SmallFactors):
        factor_sizes = (3, 0)

    with pytest.raises(ParameterError, match="dataset"):
        _tiny(dataset=NoRender())
    with pytest.raises(ParameterError, match="sample_factors"):
        _tiny(dataset=WrongColumns())
    with pytest.raises(ParameterError, match="factor_sizes"):
        _tiny(dataset=BadSizes())
    with pytest.raises(ParameterError, match="encode"):
        _tiny("not callable")
    with pytest.raises(ParameterError, match="encode"):
        _tiny(lambda x: x[:, 0])  # 1-D codes


def test_an_encoder_that_changes_its_width_is_refused():
    calls = []

    def encode(x):
        calls.append(1)
        return x if len(calls) == 1 else np.hstack([x, x])

    with pytest.raises(ParameterError, match="encode"):
        _tiny(encode)
