"""Factor data sets whose observation is the factor vector itself: the metric tests' inputs.

Each has what :mod:`lib.metrics` asks of a data set: ``factor_sizes``,
``sample_factors(n, rng)`` and ``render(factors)``.
"""

from __future__ import annotations

import numpy as np


class IdentityData:
    """10 factors with values 1..10; the observation is the factor vector itself (the
    reference's test data for the BetaVAE and FactorVAE scores)."""

    factor_sizes = (10,) * 10

    def sample_factors(self, n, rng):
        return rng.integers(1, 11, size=(n, len(self.factor_sizes)))

    def render(self, factors):
        return np.asarray(factors, dtype=np.float32)


class SmallFactors:
    """Two factors of 3 and 4 values; the observation is the factor vector itself."""

    factor_sizes = (3, 4)

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(0, s, n) for s in self.factor_sizes], 1)

    def render(self, factors):
        return np.asarray(factors, dtype=np.float32)
