"""Tests of the shared measurements (lib.analysis): fits, per-image errors, circular statistics."""

import math

import numpy as np
import pytest
import torch

from lib.analysis import (
    angle_ks_statistic,
    circular_correlation_matrix,
    linear_fit,
    per_image_sse,
)


def uniform_angles(n: int, d: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=g, dtype=torch.float64) * 2 - 1) * math.pi


def _wrap(phi: torch.Tensor) -> torch.Tensor:
    return torch.atan2(torch.sin(phi), torch.cos(phi))


def test_linear_fit_recovers_a_line_and_scores_noise():
    x = np.linspace(0, 1, 50)
    fit = linear_fit(x, 3 * x - 1)
    assert (
        fit.slope == pytest.approx(3)
        and fit.intercept == pytest.approx(-1)
        and fit.r2 == pytest.approx(1)
    )
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


def test_ks_statistic_uniform_vs_concentrated():
    phi = uniform_angles(5000, 3, seed=7)
    assert (angle_ks_statistic(phi) < 0.03).all()
    conc = _wrap(0.3 * torch.randn(5000, 3, generator=torch.Generator().manual_seed(8)))
    ks = angle_ks_statistic(conc)
    assert ks.shape == (3,) and (ks > 0.3).all()
    assert (
        angle_ks_statistic(phi.numpy()) == angle_ks_statistic(phi)
    ).all()  # numpy input works


def test_circular_correlation_matrix():
    S = 2000
    a = uniform_angles(S, 1, seed=9)[:, 0]
    b = uniform_angles(S, 1, seed=10)[:, 0]
    phi = torch.stack([a, b, _wrap(a + 2.0), _wrap(-a)], dim=1)  # (S, 4)
    rho = circular_correlation_matrix(phi)
    assert rho.shape == (4, 4)
    np.testing.assert_allclose(np.diag(rho), 1.0)
    np.testing.assert_allclose(rho, rho.T)
    assert abs(rho[0, 1]) < 0.1
    assert rho[0, 2] == pytest.approx(1.0) and rho[0, 3] == pytest.approx(-1.0)
    # the O(n) closed form equals the definition averaged over all pairs of samples
    small = uniform_angles(60, 2, seed=11).numpy()
    small[:, 1] = small[:, 0] + 0.8 * np.random.default_rng(0).normal(size=60)
    da = np.sin(small[:, 0][:, None] - small[:, 0][None])
    db = np.sin(small[:, 1][:, None] - small[:, 1][None])
    direct = (da * db).sum() / np.sqrt((da**2).sum() * (db**2).sum())
    assert circular_correlation_matrix(small)[0, 1] == pytest.approx(direct)


def test_torus_uniformity_tests_accept_a_uniform_torus_and_reject_copies():
    from lib.analysis import torus_uniformity_tests

    rng = np.random.default_rng(0)
    uniform = rng.uniform(-np.pi, np.pi, (1000, 3))
    result = torus_uniformity_tests(uniform)
    assert result.uniform and len(result.tests) == 3 + 6 + 1
    assert [t.kind for t in result.tests].count("pair") == 6
    assert "uniform on the torus" in result.format()
    # uniform marginals made of copies: phi2 = -phi1 + c, phi3 = phi1 + c' (+ noise)
    copies = uniform.copy()
    copies[:, 1] = np.mod(-copies[:, 0] + 0.3 + np.pi, 2 * np.pi) - np.pi
    copies[:, 2] = np.mod(
        copies[:, 0] + 1 + rng.normal(0, 0.05, 1000) + np.pi, 2 * np.pi
    )
    copies[:, 2] -= np.pi
    result = torus_uniformity_tests(torch.as_tensor(copies))
    assert not any(t.rejects for t in result.marginal)  # the spring loss's view: fine
    assert not result.uniform
    rejected = {t.name for t in result.tests if t.rejects}
    assert {"KS phi1 + phi2", "KS phi1 - phi3", "KS phi2 + phi3"} <= rejected
    assert result.worst().rejects
    assert result.worst("pair").name == "KS phi2 + phi3"  # the exact copy
    with pytest.raises(ValueError, match="no test of kind"):
        result.worst("triple")
    # independent angles whose pair sums are uniform but that cluster on the torus: the cells
    clustered = rng.uniform(-np.pi, -np.pi / 2, (1000, 3))
    assert not torus_uniformity_tests(clustered).uniform


def test_torus_uniformity_tests_hold_their_level():
    """A truly uniform sample is rejected at most about alpha of the time (Bonferroni)."""
    from lib.analysis import torus_uniformity_tests

    rng = np.random.default_rng(1)
    rejected = [
        not torus_uniformity_tests(rng.uniform(-np.pi, np.pi, (500, 2)), bins=4).uniform
        for _ in range(200)
    ]
    assert np.mean(rejected) < 0.1


def test_torus_uniformity_tests_check_their_input():
    from lib.analysis import torus_uniformity_tests

    with pytest.raises(ValueError, match="d >= 2"):
        torus_uniformity_tests(np.zeros((100, 1)))
    with pytest.raises(ValueError, match="non-finite"):
        torus_uniformity_tests(np.full((400, 2), np.nan))
    with pytest.raises(ValueError, match="too few"):
        torus_uniformity_tests(np.zeros((100, 3)))
    with pytest.raises(ValueError, match="alpha"):
        torus_uniformity_tests(np.zeros((400, 2)), alpha=1.5)
    with pytest.raises(ValueError, match="bins"):
        torus_uniformity_tests(np.zeros((400, 2)), bins=1)
