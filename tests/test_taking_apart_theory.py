"""Tests of the Proposition 2 / Appendix A closed forms (lib.taking_apart.theory)."""

from __future__ import annotations

import numpy as np
import pytest

from lib.analysis import fit_scale, radial_profile, relative_l2_error
from lib.data.disks import disks_from_radii
from lib.taking_apart.theory import (
    airy_first_zero,
    airy_k,
    airy_profile,
    decoding_energy,
    optimal_amplitude,
    optimal_profile_numerical,
)

R = 32.0


def test_airy_constants():
    # notes: c ~ 1.986353 and (2/3) c^{3/2} = j_{-1/3,1} ~ 1.866351; k(32) ~ 2.39e-4
    assert abs(airy_first_zero() - 1.986353) < 1e-6
    assert abs(2 / 3 * airy_first_zero() ** 1.5 - 1.866351) < 1e-6
    assert abs(airy_k(32.0) - 2.39e-4) < 1e-6


def test_airy_boundary_conditions():
    assert airy_profile(0.0, R) == pytest.approx(1.0, abs=1e-12)
    assert airy_profile(R, R) == pytest.approx(0.0, abs=1e-10)
    h = 1e-4
    assert abs(airy_profile(h, R) - airy_profile(0.0, R)) / h < 1e-6  # f'(0) ~ 0
    t = np.linspace(0, R, 1001)
    assert np.all(airy_profile(t[:-1], R) > 0)  # R is the FIRST zero


def test_airy_ode_residual():
    k = airy_k(R)
    t = np.linspace(0, R, 20001)
    f = airy_profile(t, R)
    dt = t[1] - t[0]
    f2 = (f[2:] - 2 * f[1:-1] + f[:-2]) / dt**2
    assert np.max(np.abs(f2 + k * t[1:-1] * f[1:-1])) < 1e-8


def test_airy_vectorised_and_beyond_r():
    t = np.linspace(0, 40, 24).reshape(4, 6)
    f = airy_profile(t, R)
    assert f.shape == (4, 6)
    assert np.all(f[t > R] == 0)
    assert np.any(airy_profile(t, R, extend=True)[t > R] != 0)
    with pytest.raises(ValueError, match="R"):
        airy_profile(t, -1.0)


def test_numerical_optimum_matches_closed_form():
    t, f = optimal_profile_numerical(R, n=2000)
    assert np.max(np.abs(f - airy_profile(t, R))) < 1e-3
    t, f = optimal_profile_numerical(18.0, n=300)
    assert np.max(np.abs(f - airy_profile(t, 18.0))) < 1e-3


def test_optimum_has_largest_energy():
    t = np.linspace(0, R, 4001)
    e_opt = decoding_energy(airy_profile(t, R), t)
    assert e_opt == pytest.approx(1 / airy_k(R), rel=1e-4)  # E* = 1/k
    for other in (
        np.cos(np.pi * t / (2 * R)),
        np.ones_like(t),
        1 - t / R,
        1 - (t / R) ** 2,
    ):
        assert decoding_energy(other, t) < e_opt
    # normalisation makes the energy scale-free
    assert decoding_energy(3 * np.ones_like(t), t) == pytest.approx(
        decoding_energy(np.ones_like(t), t)
    )


def test_optimal_amplitude_monotone_and_saturates():
    h = optimal_amplitude(np.array([0.0, 5.0, 10.0, 20.0, R, 40.0]), R)
    assert h[0] == 0 and np.all(np.diff(h[:-1]) > 0) and h[-1] == h[-2]


def test_radial_profile_of_disk():
    images = disks_from_radii([10.0, 20.0], antialias="area")  # (2, 1, 64, 64)
    r, prof = radial_profile(images)
    assert prof.shape == (2, r.size)
    assert np.allclose(prof[0][r < 9], 1.0) and np.allclose(
        prof[0][(r > 11) & (r < 31)], 0.0
    )
    assert np.allclose(prof[1][r < 19], 1.0) and np.allclose(prof[1][r > 21], 0.0)
    r1, p1 = radial_profile(images[1, 0].numpy())  # single (H, W) image
    assert p1.shape == r1.shape and np.allclose(p1, prof[1])
    r2, _ = radial_profile(images, max_radius=31.5)
    assert r2.max() <= 31.5


def test_fit_scale_and_error():
    ref = np.linspace(1, 0, 50)
    assert fit_scale(0.5 * ref, ref) == pytest.approx(2.0)
    assert relative_l2_error(ref, ref) == 0.0
    assert relative_l2_error(1.1 * ref, ref) == pytest.approx(0.1)
