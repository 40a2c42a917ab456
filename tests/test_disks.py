"""Tests of the disk generator (lib.data.disks)."""

from __future__ import annotations

import math

import pytest
import torch

from lib.data.disks import disks_from_radii, make_disks, sample_radii


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("antialias", ["none", "supersample", "area"])
def test_shapes_dtype_range(antialias):
    images, radii = make_disks(17, antialias=antialias, generator=_gen())
    assert images.shape == (17, 1, 64, 64) and images.dtype == torch.float32
    assert radii.shape == (17,) and radii.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    if antialias == "none":
        assert set(images.unique().tolist()) <= {0.0, 1.0}


def test_binary_area_within_perimeter_tolerance():
    radii = torch.linspace(0.5, 31.5, 40)
    area = disks_from_radii(radii).sum((1, 2, 3)).double()
    exact = math.pi * radii.double() ** 2
    assert torch.all((area - exact).abs() <= 2 * math.pi * radii * 0.5 + 1)


def test_antialiased_area_is_tight():
    radii = torch.linspace(0.0, 32.0, 33)
    exact = math.pi * radii.double() ** 2
    area = disks_from_radii(radii, antialias="area").sum((1, 2, 3)).double()
    assert (area - exact).abs().max() < 1e-2  # exact up to float32 summation
    sup = disks_from_radii(radii, antialias="supersample", k=8).sum((1, 2, 3)).double()
    assert torch.all((sup - exact).abs() <= 0.05 * (2 * math.pi * radii + 1))
    # area is the k -> infinity limit of supersampling
    fine = disks_from_radii([10.3], antialias="supersample", k=32)
    assert (fine - disks_from_radii([10.3], antialias="area")).abs().max() < 5e-3


def test_centred_and_symmetric():
    x = disks_from_radii([7.3], antialias="area")[0, 0]
    assert (
        torch.allclose(x, x.flip(0))
        and torch.allclose(x, x.flip(1))
        and torch.allclose(x, x.T, atol=1e-6)
    )
    assert x[31, 31] == 1 and x[0, 0] == 0


def test_radius_range_and_hole():
    radii = sample_radii(20000, radius_range=(0, 32), hole=(11, 18), generator=_gen())
    assert not ((radii >= 11) & (radii <= 18)).any()
    assert radii.min() >= 0 and radii.max() <= 32
    # uniform on the remaining 25 px: 11/25 of the mass below the hole
    assert abs((radii < 11).float().mean().item() - 11 / 25) < 0.02
    _, r = make_disks(500, radius_range=(0, 18), generator=_gen())
    assert r.min() >= 0 and r.max() <= 18


def test_deterministic_with_generator():
    a = make_disks(8, antialias="area", generator=_gen(3))
    b = make_disks(8, antialias="area", generator=_gen(3))
    c = make_disks(8, antialias="area", generator=_gen(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(radius_range=(-1, 32)), "radius_range"),
        (dict(radius_range=(5, 5)), "radius_range"),
        (dict(hole=(30, 40)), "hole"),
        (dict(hole=(0, 32)), "hole"),
        (dict(hole=(18, 11)), "hole"),
        (dict(antialias="bilinear"), "antialias"),
        (dict(antialias="supersample", k=0), "k"),
        (dict(image_size=0), "image_size"),
    ],
)
def test_bad_params_raise(kwargs, word):
    with pytest.raises(ValueError, match=word):
        make_disks(4, **kwargs)


def test_negative_radius_raises():
    with pytest.raises(ValueError, match="radii"):
        disks_from_radii([1.0, -0.5])


def test_throughput_is_vectorised():
    import time

    t0 = time.perf_counter()
    make_disks(2000, antialias="none", generator=_gen())
    assert time.perf_counter() - t0 < 5.0  # ~0.5 s on one busy core
