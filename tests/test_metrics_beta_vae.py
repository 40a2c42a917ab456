"""lib.metrics.beta_vae_score, ported from disentanglement_lib's beta_vae_test.py
(identity data, batch 5, 2000 train / 2000 eval points)."""

from __future__ import annotations

import numpy as np

from lib.metrics import beta_vae_score


class IdentityData:
    """10 factors with values 1..10; the observation is the factor vector itself."""

    factor_sizes = (10,) * 10

    def sample_factors(self, n, rng):
        return rng.integers(1, 11, size=(n, len(self.factor_sizes)))

    def render(self, factors):
        return np.asarray(factors, dtype=np.float32)


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
