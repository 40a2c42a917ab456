"""Tests of the shared measurements (lib.analysis): fits, per-image errors, circular statistics."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert all(t.level == pytest.approx(0.005) for t in result.tests)
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
    assert {
        "Kuiper phi1 + phi2",
        "Kuiper phi1 - phi3",
        "Kuiper phi2 + phi3",
    } <= rejected
    assert result.worst().rejects
    assert result.worst("pair").name in rejected
    with pytest.raises(ValueError, match="no test of kind"):
        result.worst("triple")


def test_only_the_all_angle_test_sees_a_dependence_of_three_angles():
    """phi3 = phi1 + phi2 (+ noise): every angle and every pair is uniform, the triple not."""
    from lib.analysis import torus_uniformity_tests

    rng = np.random.default_rng(3)
    phi = rng.uniform(-np.pi, np.pi, (1000, 3))
    phi[:, 2] = phi[:, 0] + phi[:, 1] + rng.normal(0, 0.3, 1000)
    result = torus_uniformity_tests(phi)
    assert [t.kind for t in result.tests if t.rejects] == ["all"]


def test_kuiper_p_values_match_stephens_critical_values():
    """Stephens (1970): V (sqrt(n) + 0.155 + 0.24 / sqrt(n)) has upper 10, 5, 2.5 and 1 %
    points 1.620, 1.747, 1.862, 2.001; a sample whose V sits there has that p-value."""
    from astropy.stats import kuiper_false_positive_probability

    n = 1000
    for modified, alpha in (
        (1.620, 0.10),
        (1.747, 0.05),
        (1.862, 0.025),
        (2.001, 0.01),
    ):
        v = modified / (np.sqrt(n) + 0.155 + 0.24 / np.sqrt(n))
        assert kuiper_false_positive_probability(v, n) == pytest.approx(alpha, rel=0.02)


def test_kuiper_of_a_known_sample():
    """Equally spaced points have V = 1/n; all points at one place have V close to 1."""
    from lib.analysis import kuiper_uniformity

    n = 200
    spaced = -np.pi + 2 * np.pi * (np.arange(n) + 0.5) / n
    statistic, p = kuiper_uniformity(spaced)
    assert statistic == pytest.approx(1 / n) and p == pytest.approx(1.0)
    statistic, p = kuiper_uniformity(np.full(n, 0.4) + np.linspace(0, 1e-3, n))
    assert statistic > 0.99 and p < 1e-10
    with pytest.raises(ValueError, match="shape"):
        kuiper_uniformity(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        kuiper_uniformity(np.array([0.0, np.nan]))


@settings(max_examples=30, deadline=None)
@given(
    shifts=st.lists(st.floats(-10, 10, allow_nan=False), min_size=3, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_no_statistic_depends_on_where_a_circle_is_cut(shifts, seed):
    """Rotating angles leaves every test of the family unchanged; the KS distance moves."""
    from lib.analysis import torus_uniformity_tests

    rng = np.random.default_rng(seed)
    phi = rng.vonmises(0.5, 1.0, (300, 3))  # not uniform: the statistics are not tiny
    rotated = phi + np.array(shifts)
    before, after = torus_uniformity_tests(phi), torus_uniformity_tests(rotated)
    for a, b in zip(before.tests, after.tests, strict=True):
        assert b.statistic == pytest.approx(a.statistic, rel=1e-6, abs=1e-9), a.name


def test_the_ks_distance_does_depend_on_the_cut():
    """Why the rule uses Kuiper's V: the same angles, cut elsewhere, move KS, not V."""
    from lib.analysis import angle_ks_statistic, kuiper_uniformity

    rng = np.random.default_rng(4)
    phi = rng.vonmises(0.0, 0.5, 1000)
    ks = [angle_ks_statistic((phi + c)[:, None])[0] for c in (0.0, np.pi / 2, np.pi)]
    v = [kuiper_uniformity(phi + c)[0] for c in (0.0, np.pi / 2, np.pi)]
    assert max(ks) - min(ks) > 0.05
    assert max(v) - min(v) < 1e-9


def test_torus_uniformity_tests_hold_their_level():
    """A truly uniform sample is rejected at most about alpha of the time (Bonferroni)."""
    from lib.analysis import marginal_uniformity_tests, torus_uniformity_tests

    rng = np.random.default_rng(1)
    samples = [rng.uniform(-np.pi, np.pi, (500, 3)) for _ in range(200)]
    assert np.mean([not torus_uniformity_tests(s).uniform for s in samples]) < 0.1
    assert np.mean([not marginal_uniformity_tests(s).uniform for s in samples]) < 0.1


def test_torus_uniformity_tests_check_their_input():
    from lib.analysis import marginal_uniformity_tests, torus_uniformity_tests

    with pytest.raises(ValueError, match="d >= 2"):
        torus_uniformity_tests(np.zeros((100, 1)))
    with pytest.raises(ValueError, match="non-finite"):
        torus_uniformity_tests(np.full((400, 2), np.nan))
    with pytest.raises(ValueError, match="too few"):
        torus_uniformity_tests(np.zeros((50, 3)))
    with pytest.raises(ValueError, match="alpha"):
        torus_uniformity_tests(np.zeros((400, 2)), alpha=1.5)
    with pytest.raises(ValueError, match="harmonics"):
        torus_uniformity_tests(np.zeros((400, 2)), harmonics=0)
    with pytest.raises(ValueError, match="too few"):
        marginal_uniformity_tests(np.zeros((10, 3)))


def test_format_p_value_reads_like_prose():
    from lib.analysis import format_p_value

    assert format_p_value(0.0342) == "p = 0.034"
    assert format_p_value(2.1e-5) == "p = 2.1e-05"
    assert format_p_value(0.0) == "p < 1e-15"
    with pytest.raises(ValueError, match="p-value"):
        format_p_value(1.5)


def test_empty_cells_and_nearest_distances():
    from lib.analysis import empty_cell_share, nearest_distance

    rng = np.random.default_rng(5)
    uniform = rng.uniform(-np.pi, np.pi, (4000, 2))
    assert empty_cell_share(uniform, 0, 1) == 0
    curve = uniform.copy()
    curve[:, 1] = curve[:, 0]
    assert empty_cell_share(curve, 0, 1) == pytest.approx(
        56 / 64
    )  # all but the diagonal
    with pytest.raises(ValueError, match="angles a, b"):
        empty_cell_share(uniform, 0, 2)
    reference = torch.rand(50, 1, 4, 4)
    images = reference[[3, 7]] + 0.1
    assert torch.allclose(nearest_distance(images, reference), torch.full((2,), 0.01))
    with pytest.raises(ValueError, match="image shape"):
        nearest_distance(torch.rand(2, 1, 4, 5), reference)


def test_relative_late_change_sees_a_falling_curve_and_a_flat_one():
    from lib.analysis import relative_late_change

    rng = np.random.default_rng(0)
    steps = np.arange(2000)
    flat = 10 + rng.normal(0, 1, 2000)  # noisy but settled: no trend
    falling = 10 + 5 * np.exp(-steps / 1000) + rng.normal(0, 0.1, 2000)
    assert abs(relative_late_change(flat)) < 0.02
    # the last 200 steps against the 200 before: 5 (e^-1.9 - e^-1.7) / 10.9 = -0.0147
    assert relative_late_change(falling) == pytest.approx(-0.0147, abs=0.003)
    assert relative_late_change(falling, fraction=0.5) < -0.1
    for bad in ([1.0] * 5, [[1.0] * 20], [1.0] * 19 + [float("nan")]):
        with pytest.raises(ValueError):
            relative_late_change(bad)
    with pytest.raises(ValueError, match="fraction"):
        relative_late_change(flat, fraction=0.6)
    with pytest.raises(ValueError, match="positive"):
        relative_late_change(-flat)
