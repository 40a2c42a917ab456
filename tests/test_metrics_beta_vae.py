"""lib.metrics.beta_vae_score, ported from disentanglement_lib's beta_vae_test.py
(identity data, batch 5, 2000 train / 2000 eval points)."""

from __future__ import annotations

import numpy as np
import pytest
from toy_factors import IdentityData, SmallFactors

from lib.errors import ParameterError
from lib.metrics import beta_vae_score


def test_identity_codes():
    s = beta_vae_score(
        IdentityData(), lambda x: x, np.random.default_rng(0), 5, 2000, 2000
    )
    assert 0.9 <= s["train_accuracy"] <= 1.0
    assert 0.9 <= s["eval_accuracy"] <= 1.0


def test_noise_codes_score_near_chance():
    rng = np.random.default_rng(1)
    s = beta_vae_score(
        IdentityData(),
        lambda x: rng.normal(size=x.shape),
        np.random.default_rng(0),
        batch_size=5,
        num_train=1000,
        num_eval=1000,
    )
    assert s["eval_accuracy"] < 0.25  # chance is 0.1


def test_int_seed_is_accepted():
    a = beta_vae_score(IdentityData(), lambda x: x, 3, 5, 300, 300)
    b = beta_vae_score(IdentityData(), lambda x: x, 3, 5, 300, 300)
    assert a == b


# --- input checks at the door (issue 27) ------------------------------------


def _tiny(encode=lambda x: x, dataset=None, **kwargs):
    sizes = dict(batch_size=4, num_train=30, num_eval=10)
    sizes.update(kwargs)
    rng = sizes.pop("rng", 0)
    return beta_vae_score(dataset or SmallFactors(), encode, rng, **sizes)


def test_tiny_call_is_valid():
    s = _tiny()
    assert 0.0 <= s["eval_accuracy"] <= 1.0


def test_a_nan_encoder_is_refused():
    with pytest.raises(ParameterError, match="encode"):
        _tiny(lambda x: np.full(x.shape, np.nan))


@pytest.mark.parametrize(
    "name, value",
    [
        ("num_train", 1),
        ("num_train", 0),
        ("num_train", True),
        ("num_eval", 0),
        ("num_eval", 2.0),
        ("batch_size", 0),
        ("batch_size", False),
        ("batch_size", "64"),
        ("rng", False),
        ("rng", 1.5),
    ],
)
def test_sizes_are_checked(name, value):
    with pytest.raises(ParameterError, match=name):
        _tiny(**{name: value})


def test_one_factor_cannot_be_told_from_another():
    class One(SmallFactors):
        factor_sizes = (5,)

    with pytest.raises(ParameterError, match="factor_sizes"):
        _tiny(dataset=One())


def test_the_encoder_output_is_checked():
    with pytest.raises(ParameterError, match="encode"):
        _tiny(lambda x: x[:-1])
    with pytest.raises(ParameterError, match="encode"):
        _tiny(lambda x: np.array([["a"] * 2] * len(x)))
