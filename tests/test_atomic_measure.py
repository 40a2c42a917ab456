"""The chapter's measurements, checked on oracle models whose answers are known."""

import numpy as np
import pytest
import torch
from torch import nn

from lib.atomic import (
    atom_centroids,
    coordinate_correlations,
    cross_pairing,
    filling_curve,
    filling_radius,
    match_atoms,
)
from lib.data import (
    SpikeSpec,
    fit_spikes,
    make_crosses,
    make_spikes,
    render_crosses,
    render_spikes,
)

SIZE, SIGMA = 32, 2.0


class SpikeOracle(nn.Module):
    """encode = the true (amplitude, x, y) of each spike; g = the spike renderer itself."""

    def __init__(self, data, mix: bool = False):
        super().__init__()
        self.images, self.params = data.images.flatten(1), data.params
        self.anchor = nn.Parameter(torch.zeros(()))
        self.mix = mix

    def encode(self, x):
        params = self.params[torch.cdist(x.flatten(1), self.images).argmin(1)]
        if self.mix:  # rotate (x, y) inside each block: the block still knows them
            px, py = params[..., 1], params[..., 2]
            params = torch.stack([params[..., 0], px + py, px - py], -1)
        return params.clone()

    def decode_atoms(self, z):
        if self.mix:
            sx, dy = z[..., 1], z[..., 2]
            z = torch.stack([z[..., 0], (sx + dy) / 2, (sx - dy) / 2], -1)
        b, k, _ = z.shape
        flat = render_spikes(
            z[..., 0].reshape(-1, 1), z[..., 1:].reshape(-1, 1, 2), SIZE, SIGMA
        )
        return flat.view(b, k, 1, SIZE, SIZE)

    def decode(self, z):
        return self.decode_atoms(z).sum(1)


class Ghoster(SpikeOracle):
    """Adds a mirrored ghost of every spike: four blobs, never a sum of two spikes."""

    def decode(self, z):
        ghost = z.clone()
        ghost[..., 1:] = SIZE - 1 - ghost[..., 1:]
        return self.decode_atoms(z).sum(1) + 0.5 * self.decode_atoms(ghost).sum(1)


@pytest.fixture(scope="module")
def spikes():
    spec = SpikeSpec(image_size=SIZE, n_spikes=2, sigma=SIGMA, min_separation=6)
    return make_spikes(120, spec, seed=0)


def test_centroids_and_matching_find_the_spikes(spikes):
    atoms = render_spikes(
        spikes.amplitudes.reshape(-1, 1), spikes.centres.reshape(-1, 1, 2), SIZE, SIGMA
    ).view(len(spikes), 2, SIZE, SIZE)
    centre, mass = atom_centroids(atoms)
    assert (centre - spikes.centres).norm(
        dim=-1
    ).max() < 0.6  # the border clips a little
    assert (mass > 0).all()
    swapped = spikes.centres.flip(1)
    index = match_atoms(centre, swapped)
    assert torch.equal(index, torch.tensor([[1, 0]]).expand(len(spikes), 2))
    empty, _ = atom_centroids(torch.zeros(1, 1, 8, 8))
    assert empty.tolist() == [[[3.5, 3.5]]]


def test_an_aligned_oracle_scores_one_and_a_rotated_one_scores_on_the_block(spikes):
    aligned = coordinate_correlations(SpikeOracle(spikes), spikes.images, spikes.params)
    assert min(aligned.best.values()) > 0.99
    assert aligned.best_coordinate == {"amplitude": 0, "x": 1, "y": 2}
    assert aligned.match_distance < 0.6
    assert aligned.block_r2.min() > 0.9
    rotated = coordinate_correlations(
        SpikeOracle(spikes, mix=True), spikes.images, spikes.params
    )
    assert (
        rotated.best["x"] < 0.85 and rotated.best["y"] < 0.85
    )  # axes are rotated by 45 deg
    assert rotated.block_r2[1:].min() > 0.9  # yet the block still determines x and y
    assert min(aligned.best_spearman.values()) > 0.99
    assert rotated.best_spearman["x"] < 0.85  # ranks cannot undo a rotation either


def test_spearman_scores_a_monotone_but_curved_coordinate_fully(spikes):
    class Cubed(SpikeOracle):
        def encode(self, x):
            return super().encode(x) ** 3

        def decode_atoms(self, z):
            return super().decode_atoms(z.sign() * z.abs() ** (1 / 3))

    report = coordinate_correlations(Cubed(spikes), spikes.images, spikes.params)
    assert min(report.best_spearman.values()) > 0.99
    assert report.best["x"] < report.best_spearman["x"] - 0.02  # Pearson sees the curve


def test_filling_curve_stays_in_sigma_for_the_oracle_and_leaves_it_for_a_blurrer(
    spikes,
):
    deltas = [0.0, 0.3, 1.0]
    images = spikes.images[:30]
    exact = filling_curve(SpikeOracle(spikes), images, deltas, 2, SIGMA, fit_steps=60)
    assert exact.residual.max() < 1e-3
    assert filling_radius(exact, 0.01) == 1.0
    ghosts = filling_curve(Ghoster(spikes), images, deltas, 2, SIGMA, fit_steps=60)
    assert ghosts.residual.min() > 0.05
    assert (ghosts.low <= ghosts.residual).all()
    assert (ghosts.residual <= ghosts.high).all()
    assert filling_radius(ghosts, 0.01) == 0.0


class CrossOracle(nn.Module):
    """Atoms = crosses through (x, y) pairs; ``swap`` pairs x of one cross with y of the other."""

    def __init__(self, centres, swap: bool):
        super().__init__()
        self.centres, self.swap = centres, swap
        self.anchor = nn.Parameter(torch.zeros(()))

    def encode(self, x):
        c = self.centres[: len(x)].clone()
        if self.swap:
            c[:, :, 1] = c[:, :, 1].flip(1)
        return c

    def decode_atoms(self, z):
        b, k, _ = z.shape
        return render_crosses(z.reshape(-1, 1, 2), 32).view(b, k, 1, 32, 32)


def test_cross_pairing_tells_mixed_atoms_from_whole_crosses():
    images, centres = make_crosses(50, n_crosses=2, image_size=32, seed=2)
    whole = cross_pairing(CrossOracle(centres, swap=False), images, centres)
    mixed = cross_pairing(CrossOracle(centres, swap=True), images, centres)
    assert whole.mixed_fraction == 0.0 == whole.mixed_fraction_apart
    assert mixed.mixed_fraction > 0.95 and mixed.mixed_fraction_apart == 1.0
    gaps = (centres[:, 0] - centres[:, 1]).abs().amin(-1)  # (N,) smaller of |dx|, |dy|
    assert whole.apart_fraction == pytest.approx(float((gaps >= 4).float().mean()))
    assert whole.line_error <= 0.5 and mixed.line_error <= 0.5
    assert np.isfinite(whole.line_error)


def test_a_fit_confined_to_sigma_brackets_the_oracles_radius(spikes):
    """The ideal autoencoder decodes every code to a sum of spikes; only Sigma's parameter
    ranges (amplitude, margin) bound how far a code can move. A free fit never sees the edge."""
    from lib.atomic import bracketed_filling_radius

    images = spikes.images[:20]
    oracle = SpikeOracle(spikes)
    bracket = bracketed_filling_radius(
        oracle, images, [0.0, 0.5], 2, SIGMA, 0.01, fit_steps=60, bounds=spikes.spec
    )
    assert 0 < bracket.radius < bracket.beyond  # a bracket, not the grid's end
    assert (
        bracket.curve.residual[-1] > 0.01 and bracket.beyond == bracket.curve.deltas[-1]
    )
    assert bracket.bracketed and "fails at" in bracket.format()
    free = bracketed_filling_radius(  # the unconstrained fit never sees an edge
        oracle, images, [0.0, 0.5], 2, SIGMA, 0.01, fit_steps=60, max_delta=4.0
    )
    assert not free.bracketed and free.radius == 4.0
    assert "not bracketed" in free.format()
    blurred = bracketed_filling_radius(  # reconstructions already off Sigma
        Ghoster(spikes), images, [0.0, 0.5], 2, SIGMA, 0.01, fit_steps=60
    )
    assert (blurred.radius, blurred.beyond) == (0.0, 0.0)
    with pytest.raises(ValueError, match="increase"):
        bracketed_filling_radius(oracle, images, [1.0, 0.5], 2, SIGMA, 0.01)


def test_decode_along_direction_shows_the_curves_perturbations(spikes):
    from lib.atomic import decode_along_direction

    oracle = SpikeOracle(spikes)
    images = spikes.images[:10]
    path = decode_along_direction(oracle, images, [0.0, 1.0, 2.0], seed=3, index=4)
    assert path.shape == (3, 1, SIZE, SIZE)
    assert torch.allclose(path[0], oracle.decode(oracle.encode(images[4:5]))[0])
    assert not torch.allclose(path[1], path[2])
    ghosts = Ghoster(spikes)  # off Sigma: residuals well above the optimiser's noise
    curve = filling_curve(ghosts, images, [1.0], 2, SIGMA, seed=3, fit_steps=60)
    moved = torch.cat(
        [decode_along_direction(ghosts, images, [1.0], 3, i) for i in range(10)]
    )  # the curve's ten perturbed codes, one at a time: the same median residual
    fit = fit_spikes(moved, 2, SIGMA, steps=60)
    median = float(torch.quantile(fit.residual, 0.5))
    assert median > 0.01 and median == pytest.approx(curve.residual[0], rel=1e-4)
    with pytest.raises(ValueError, match="index"):
        decode_along_direction(oracle, images, [0.0], index=10)


def test_fit_spikes_within_bounds_stays_in_sigmas_ranges():
    from lib.data import fit_spikes

    spec = SpikeSpec(image_size=SIZE, n_spikes=2, sigma=SIGMA, margin=3.0)
    data = make_spikes(10, spec, seed=1)
    fit = fit_spikes(data.images, 2, SIGMA, bounds=spec)
    # the data are in Sigma (a value at the edge of its range converges slowly, as a sigmoid)
    assert fit.residual.median() < 1e-6 and fit.residual.max() < 0.02
    assert fit.amplitudes.min() >= spec.amplitude[0] - 1e-6
    assert fit.centres.min() >= spec.margin - 1e-6
    assert fit.centres.max() <= SIZE - 1 - spec.margin + 1e-6
    flipped = fit_spikes(-data.images, 2, SIGMA, bounds=spec)  # no positive spike fits
    assert flipped.residual.min() > 1.0
    with pytest.raises(ValueError, match="bounds are for"):
        fit_spikes(data.images, 2, SIGMA, bounds=SpikeSpec(image_size=64))


GOOD = dict(amplitude=0.95, x=0.95, y=0.95)


@pytest.mark.parametrize(
    "overrides, verdict",
    [
        ({}, "reproduced"),
        ({"best_rho": dict(GOOD, amplitude=0.2)}, "partly reproduced"),
        ({"block_r2": dict(GOOD, x=0.5)}, "partly reproduced"),
        (
            {
                "match_distance": 5.0,
                "block_r2": dict(amplitude=0.1, x=0.5, y=0.9),
                "best_rho": dict(GOOD, y=0.3),
            },
            "not reproduced",
        ),
        ({"energy_left": 0.35}, "inconclusive"),  # every part holds, yet under-trained
    ],
)
def test_the_verdict_rule_can_say_each_of_its_outcomes(overrides, verdict):
    from lib.atomic import VERDICT_PARTS, atomic_claim_verdict

    numbers = dict(
        energy_left=0.1, match_distance=1.0, sigma=3.0, block_r2=GOOD, best_rho=GOOD
    )
    result = atomic_claim_verdict(**{**numbers, **overrides})
    assert result.verdict == verdict
    assert tuple(result.parts) == VERDICT_PARTS
    assert verdict in result.format()


def test_the_verdict_parts_are_judged_at_their_thresholds():
    from lib.atomic import R2_GOAL, atomic_claim_verdict

    numbers = dict(energy_left=0.1, sigma=3.0, best_rho=GOOD)
    at_sigma = atomic_claim_verdict(match_distance=3.0, block_r2=GOOD, **numbers)
    assert not at_sigma.parts["one atom per spike"]
    at_goal = atomic_claim_verdict(
        match_distance=1.0, block_r2=dict(GOOD, amplitude=R2_GOAL), **numbers
    )
    assert not at_goal.parts["block knows amplitude"]
    assert at_goal.parts["block knows position"]


@pytest.mark.parametrize(
    "bad",
    [
        {"energy_left": float("nan")},
        {"sigma": 0.0},
        {"match_distance": -1.0},
        {"block_r2": {"x": 0.9, "y": 0.9}},
        {"best_rho": dict(GOOD, x=1.5)},
    ],
)
def test_the_verdict_refuses_bad_numbers(bad):
    from lib.atomic import atomic_claim_verdict

    numbers = dict(
        energy_left=0.1, match_distance=1.0, sigma=3.0, block_r2=GOOD, best_rho=GOOD
    )
    with pytest.raises(ValueError):
        atomic_claim_verdict(**{**numbers, **bad})


def test_the_shipped_gpu_record_reads_and_is_judged(tmp_path):
    from lib.atomic import ATOMIC_GPU_RECORD, load_spike_record, record_verdict
    from lib.errors import DataError

    rows = load_spike_record(ATOMIC_GPU_RECORD)
    assert [row["step"] for row in rows] == sorted(row["step"] for row in rows)
    assert rows[-1]["args"]["size"] == 128
    assert record_verdict(rows[-1]).verdict in {
        "reproduced", "partly reproduced", "not reproduced", "inconclusive"
    }  # fmt: skip
    broken = tmp_path / "r.jsonl"
    broken.write_text('{"step": 1}\n')
    with pytest.raises(DataError, match="r.jsonl:1 lacks"):
        load_spike_record(broken)
    with pytest.raises(FileNotFoundError):
        load_spike_record(tmp_path / "none.jsonl")


def _bracket(radius, beyond, residual0=0.01):
    from lib.atomic import BracketedRadius
    from lib.atomic.measure import FillingCurve

    curve = FillingCurve(*(np.array([value]) for value in (0.0, residual0, 0.0, 0.02)))
    return BracketedRadius(radius, beyond, curve)


def test_radius_order_compares_brackets_over_seeds():
    from lib.atomic import radius_order

    wide = [_bracket(8, 16), _bracket(16, 32)]
    narrow = [_bracket(1, 2), _bracket(2, 4)]
    assert radius_order(wide, narrow) == "larger"
    assert radius_order(narrow, wide) == "smaller"
    assert (
        radius_order(wide, [_bracket(4, 16)]) == "not separated"
    )  # overlapping brackets
    assert radius_order(wide, [_bracket(8, 16)]) == "not separated"  # same bracket
    off = [_bracket(0, 0)]  # reconstructions already off Sigma
    assert radius_order(off, off) == "not separated"
    assert radius_order(narrow, off) == "larger"
    with pytest.raises(ValueError):
        radius_order([], wide)


def test_the_filling_table_has_one_row_per_model_and_seed():
    from lib.atomic import format_filling_radii

    table = format_filling_radii({"a": [_bracket(8, 16), _bracket(4, 8)]}, (0, 1))
    assert len(table.splitlines()) == 3 and "16" in table.splitlines()[1]
    with pytest.raises(ValueError, match="seeds"):
        format_filling_radii({"a": [_bracket(8, 16)]}, (0, 1))
