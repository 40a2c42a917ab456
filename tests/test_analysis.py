import numpy as np
import pytest
import torch

from lib.analysis import linear_fit, per_image_sse


def test_linear_fit_recovers_a_line_and_scores_noise():
    x = np.linspace(0, 1, 50)
    fit = linear_fit(x, 3 * x - 1)
    assert fit.slope == pytest.approx(3) and fit.intercept == pytest.approx(-1) and fit.r2 == pytest.approx(1)
    noisy = linear_fit(x, np.random.default_rng(0).normal(size=50))
    assert noisy.r2 < 0.2
    # a quadratic is fit better against x² than against x
    assert linear_fit(x**2, x**2).r2 > linear_fit(x, x**2).r2
    with pytest.raises(ValueError):
        linear_fit([1.0], [2.0])


def test_per_image_sse():
    x = torch.zeros(2, 1, 2, 2)
    recon = torch.ones(2, 1, 2, 2)
    recon[1] = 0.5
    assert per_image_sse(recon, x).tolist() == [4.0, 1.0]
