"""Sums of atoms (lib.data.spikes): rendering, sampling, the least-squares way back."""

import math

import pytest
import torch

from lib.data import (
    SpikeSpec,
    fit_spikes,
    make_crosses,
    make_spikes,
    render_crosses,
    render_spikes,
)


def test_render_matches_the_formula_pixel_by_pixel():
    amplitudes = torch.tensor([[0.7, 0.4]])
    centres = torch.tensor([[[10.3, 5.6], [3.0, 12.25]]])  # (x, y)
    image = render_spikes(amplitudes, centres, 16, sigma=1.5)[0, 0]
    y, x = 7, 9
    expected = sum(
        a * math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 1.5**2))
        for a, (cx, cy) in zip([0.7, 0.4], [(10.3, 5.6), (3.0, 12.25)])
    )
    assert image[y, x].item() == pytest.approx(expected, rel=1e-5)
    assert image.shape == (16, 16)
    assert torch.unravel_index(image.argmax(), image.shape) == (
        6,
        10,
    )  # (row y, column x)


def test_make_spikes_is_seeded_and_respects_its_spec():
    spec = SpikeSpec(
        image_size=32, n_spikes=3, sigma=1.2, amplitude=(0.5, 1.0), margin=3
    )
    a, b = make_spikes(50, spec, seed=4), make_spikes(50, spec, seed=4)
    assert torch.equal(a.images, b.images)
    assert not torch.equal(a.images, make_spikes(50, spec, seed=5).images)
    assert a.images.shape == (50, 1, 32, 32) and a.params.shape == (50, 3, 3)
    assert a.amplitudes.min() >= 0.5 and a.amplitudes.max() <= 1.0
    assert a.centres.min() >= 3 and a.centres.max() <= 32 - 1 - 3
    torch.testing.assert_close(
        a.images, render_spikes(a.amplitudes, a.centres, 32, 1.2)
    )


def test_minimum_separation_is_kept():
    spec = SpikeSpec(image_size=32, n_spikes=4, sigma=1.0, min_separation=8.0)
    data = make_spikes(300, spec, seed=0)
    distances = torch.cdist(data.centres, data.centres)
    distances = distances + torch.eye(4) * 1e3
    assert distances.min() >= 8.0
    free = make_spikes(300, SpikeSpec(image_size=32, n_spikes=4, sigma=1.0), seed=0)
    assert (torch.cdist(free.centres, free.centres) + torch.eye(4) * 1e3).min() < 8.0


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(sigma=0), "sigma"),
        (dict(amplitude=(1.0, 0.5)), "amplitude"),
        (dict(margin=40), "margin"),
        (dict(n_spikes=30, min_separation=30), "do not fit"),
        (dict(n_spikes=0), "n_spikes"),
    ],
)
def test_bad_specs_are_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        SpikeSpec(**bad)


def test_fit_recovers_spikes_and_flags_images_off_sigma():
    spec = SpikeSpec(image_size=32, n_spikes=2, sigma=2.0, min_separation=6)
    data = make_spikes(40, spec, seed=1)
    fit = fit_spikes(data.images, 2, 2.0)
    assert fit.residual.median() < 1e-4
    # the fitted spikes are the true ones, up to their order
    d = torch.cdist(fit.centres, data.centres)
    assert d.amin(-1).median() < 0.05
    # a blurred image is not a sum of two spikes of width 2: the fit leaves a residual
    blurred = render_spikes(data.amplitudes, data.centres, 32, sigma=3.5)
    assert fit_spikes(blurred, 2, 2.0).residual.median() > 0.02


def test_separable_crosses_are_a_sum_of_row_and_column_parts():
    centres = torch.tensor([[[10.0, 20.0], [25.0, 5.0]]])
    image = render_crosses(centres, 32, sigma=1.0)[0, 0]
    # psi(x, y) = h(y) + v(x): swapping the pairing of the coordinates gives the same image
    swapped = torch.tensor([[[10.0, 5.0], [25.0, 20.0]]])
    torch.testing.assert_close(render_crosses(swapped, 32, sigma=1.0)[0, 0], image)
    # short arms: the pairing is visible
    short = render_crosses(centres, 32, sigma=1.0, arm=4.0)
    assert (render_crosses(swapped, 32, sigma=1.0, arm=4.0) - short).abs().max() > 0.5
    images, c = make_crosses(8, n_crosses=2, image_size=32, seed=3)
    assert images.shape == (8, 1, 32, 32) and c.shape == (8, 2, 2)
    with pytest.raises(ValueError, match="arm"):
        render_crosses(centres, 32, arm=0.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"sigma": float("inf")},
        {"image_size": 20.5},
        {"n_spikes": 2.0},
        {"image_size": True},
    ],
)
def test_spike_spec_refuses_non_integer_sizes_and_infinite_width(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        SpikeSpec(**bad)
