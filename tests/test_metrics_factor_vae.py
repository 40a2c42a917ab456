"""lib.metrics.factor_vae_score, ported from disentanglement_lib's factor_vae_test.py
(identity data, batch 5, 3000 train / 2000 eval votes, 2500 points for the
variances)."""

from __future__ import annotations

import numpy as np
import pytest

from lib.metrics import factor_vae_score


class IdentityData:
    """10 factors with values 1..10; the observation is the factor vector itself."""

    factor_sizes = (10,) * 10

    def sample_factors(self, n, rng):
        return rng.integers(1, 11, size=(n, len(self.factor_sizes)))

    def render(self, factors):
        return np.asarray(factors, dtype=np.float32)


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
