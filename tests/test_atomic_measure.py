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
NUMBERS = dict(
    energy_left=0.1,
    match_distance=1.0,
    sigma=3.0,
    block_r2=GOOD,
    best_rho=GOOD,
    reconstruction_rho=GOOD,
)
NO_AMPLITUDE = dict(
    GOOD, amplitude=0.5
)  # the reconstructions do not draw the amplitude


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
        (  # nothing holds, nothing fails: every part's parameters are not drawn
            {
                "match_distance": 5.0,
                "block_r2": dict(amplitude=0.1, x=0.5, y=0.5),
                "best_rho": dict(amplitude=0.1, x=0.3, y=0.3),
                "reconstruction_rho": dict(amplitude=0.2, x=0.5, y=0.5),
            },
            "inconclusive",
        ),
        (  # nothing holds and nothing was checked: not recorded is no failure
            {
                "match_distance": 5.0,
                "block_r2": dict(amplitude=0.1, x=0.5, y=0.5),
                "best_rho": None,
                "reconstruction_rho": None,
            },
            "inconclusive",
        ),
    ],
)
def test_the_verdict_rule_can_say_each_of_its_outcomes(overrides, verdict):
    from lib.atomic import OUTCOMES, VERDICT_PARTS, atomic_claim_verdict

    result = atomic_claim_verdict(**{**NUMBERS, **overrides})
    assert result.verdict == verdict and verdict in OUTCOMES
    assert tuple(result.parts) == VERDICT_PARTS
    assert verdict in result.format()


def test_each_part_can_hold_fail_be_inadequate_or_not_recorded():
    from lib.atomic import PART_OUTCOMES, atomic_claim_verdict

    weak = dict(GOOD, amplitude=0.3)  # block R^2 and best |rho| miss the amplitude
    numbers = dict(NUMBERS, block_r2=weak, best_rho=weak)
    drawn = atomic_claim_verdict(**numbers)
    assert drawn.parts["block knows amplitude"] == "fails"  # drawn, yet not known
    assert drawn.parts["one coordinate per parameter"] == "fails"
    assert drawn.parts["block knows position"] == "holds"
    undrawn = atomic_claim_verdict(**dict(numbers, reconstruction_rho=NO_AMPLITUDE))
    assert undrawn.parts["block knows amplitude"] == "inadequate"  # never drawn
    assert undrawn.parts["one coordinate per parameter"] == "inadequate"
    assert undrawn.verdict == "partly reproduced"
    assert undrawn.named("inadequate") == [
        "block knows amplitude",
        "one coordinate per parameter",
    ]
    # part 4 fails on a parameter that is drawn, whatever the amplitude's check says
    x_missed = dict(weak, x=0.5)
    mixed = atomic_claim_verdict(
        **dict(numbers, best_rho=x_missed, reconstruction_rho=NO_AMPLITUDE)
    )
    assert mixed.parts["one coordinate per parameter"] == "fails"
    # a negative correlation draws the parameter as well (its |rho| counts)
    flipped = atomic_claim_verdict(
        **dict(numbers, reconstruction_rho=dict(GOOD, amplitude=-0.95))
    )
    assert flipped.parts["block knows amplitude"] == "fails"
    unchecked = atomic_claim_verdict(**dict(numbers, reconstruction_rho=None))
    assert unchecked.parts["block knows amplitude"] == "not recorded"
    assert unchecked.parts["block knows position"] == "holds"  # a pass needs no check
    no_spearman = atomic_claim_verdict(**dict(NUMBERS, best_rho=None))
    assert no_spearman.parts["one coordinate per parameter"] == "not recorded"
    assert no_spearman.verdict == "partly reproduced"  # three hold, one not recorded
    # part 1 tests x and y jointly: inadequate when either is not drawn
    far = dict(NUMBERS, match_distance=5.0)
    assert atomic_claim_verdict(**far).parts["one atom per spike"] == "fails"
    no_y = atomic_claim_verdict(**dict(far, reconstruction_rho=dict(GOOD, y=0.2)))
    assert no_y.parts["one atom per spike"] == "inadequate"
    seen = {o for r in (drawn, undrawn, unchecked) for o in r.parts.values()}
    assert seen == set(PART_OUTCOMES)
    with pytest.raises(ValueError, match="outcome"):
        drawn.named("passes")


def test_the_verdict_parts_are_judged_at_their_thresholds():
    from lib.atomic import DRAWN_GOAL, R2_GOAL, RHO_GOAL, atomic_claim_verdict

    at_sigma = atomic_claim_verdict(**dict(NUMBERS, match_distance=3.0))
    assert at_sigma.parts["one atom per spike"] == "fails"
    at_goal = atomic_claim_verdict(
        **dict(NUMBERS, block_r2=dict(GOOD, amplitude=R2_GOAL))
    )
    assert at_goal.parts["block knows amplitude"] == "fails"
    assert at_goal.parts["block knows position"] == "holds"
    at_rho = atomic_claim_verdict(**dict(NUMBERS, best_rho=dict(GOOD, x=RHO_GOAL)))
    assert at_rho.parts["one coordinate per parameter"] == "fails"
    at_drawn = atomic_claim_verdict(
        **dict(
            NUMBERS,
            block_r2=dict(GOOD, amplitude=0.1),
            reconstruction_rho=dict(GOOD, amplitude=DRAWN_GOAL),
        )
    )
    assert (
        at_drawn.parts["block knows amplitude"] == "inadequate"
    )  # not above: not drawn


@pytest.mark.parametrize(
    "bad",
    [
        {"energy_left": float("nan")},
        {"energy_left": "0.1"},
        {"sigma": 0.0},
        {"match_distance": -1.0},
        {"block_r2": {"x": 0.9, "y": 0.9}},
        {"best_rho": dict(GOOD, x=1.5)},
        {"best_rho": dict(GOOD, x=True)},
        {"reconstruction_rho": dict(GOOD, x=-1.5)},
        {"reconstruction_rho": [0.9, 0.9, 0.9]},
    ],
)
def test_the_verdict_refuses_bad_numbers(bad):
    from lib.atomic import atomic_claim_verdict

    with pytest.raises(ValueError, match=next(iter(bad))):
        atomic_claim_verdict(**{**NUMBERS, **bad})


def test_the_shipped_gpu_record_reads_and_is_judged(tmp_path):
    import json

    from lib.atomic import ATOMIC_GPU_RECORD, load_spike_record, record_verdict
    from lib.errors import DataError

    rows = load_spike_record(ATOMIC_GPU_RECORD)
    assert [row["step"] for row in rows] == sorted(row["step"] for row in rows)
    last = rows[-1]
    assert last["args"]["size"] == 128 and last["args"]["spikes"] == 4
    judged = record_verdict(last)
    # it keeps neither Spearman's rho nor the reconstructions' fits; it is under-trained
    assert "best_abs_spearman" not in last and "reconstruction_rho" not in last
    assert judged.parts["one coordinate per parameter"] == "not recorded"
    assert not judged.adequate and judged.verdict == "inconclusive"
    newer = dict(
        last,
        test_mse=0.1 * last["mean_squared_pixel"],
        match_distance_px=1.0,
        block_r2=GOOD,
        best_abs_spearman=dict(GOOD, x=0.5),
        reconstruction_rho=GOOD,
    )
    assert record_verdict(newer).parts["one coordinate per parameter"] == "fails"
    assert record_verdict(newer).verdict == "partly reproduced"
    broken = tmp_path / "r.jsonl"
    broken.write_text('{"step": 1}\n')
    with pytest.raises(DataError, match="r.jsonl:1 lacks"):
        load_spike_record(broken)
    with pytest.raises(FileNotFoundError):
        load_spike_record(tmp_path / "none.jsonl")
    with pytest.raises(ValueError, match="row"):
        record_verdict(json.dumps(last))


def _bracket(radius, beyond, residual0=0.01):
    from lib.atomic import BracketedRadius
    from lib.atomic.measure import FillingCurve

    curve = FillingCurve(*(np.array([value]) for value in (0.0, residual0, 0.0, 0.02)))
    return BracketedRadius(radius, beyond, curve, residual0 + 0.02)


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


def test_radius_order_can_compare_per_coordinate_moved():
    from lib.atomic import radius_order

    twelve, six = [_bracket(2, 3)], [_bracket(1, 1.5)]
    assert radius_order(twelve, six) == "larger"  # at the same |delta|
    # per coordinate moved, 2 / sqrt(2) < 1.5: the brackets overlap
    assert radius_order(twelve, six, scale_first=2**-0.5) == "not separated"
    assert radius_order(twelve, six, scale_first=0.5) == "not separated"
    assert radius_order(twelve, six, scale_first=0.25) == "smaller"
    assert twelve[0].scaled(0.5).radius == 1.0 and twelve[0].radius == 2  # a copy
    with pytest.raises(ValueError, match="factor"):
        radius_order(twelve, six, scale_first=0.0)


def test_the_filling_table_has_one_row_per_model_and_seed():
    from lib.atomic import format_filling_radii

    table = format_filling_radii({"a": [_bracket(8, 16), _bracket(4, 8)]}, (0, 1))
    assert len(table.splitlines()) == 3 and "16" in table.splitlines()[1]
    with pytest.raises(ValueError, match="seeds"):
        format_filling_radii({"a": [_bracket(8, 16)]}, (0, 1))
    with_ideal = format_filling_radii(
        {"a": [_bracket(8, 16)]}, (0,), baselines={"ideal": _bracket(2, 4)}
    )
    rows = with_ideal.splitlines()
    assert len(rows) == 3 and rows[1].split()[:2] == ["ideal", "-"]
    with pytest.raises(ValueError, match="baseline"):
        format_filling_radii({"a": [_bracket(8, 16)]}, (0,), baselines={"ideal": 2.0})


def test_the_ideal_autoencoder_returns_the_true_code_and_draws_exact_spikes(spikes):
    from lib.atomic import IdealAtomicAutoencoder, model_device, reconstruction_mse

    ideal = IdealAtomicAutoencoder(spikes)
    images = spikes.images[[5, 2, 9]]
    codes = ideal.encode(images)
    assert torch.equal(codes, spikes.params[[5, 2, 9]])
    assert torch.allclose(ideal.decode(codes), images, atol=1e-6)
    assert ideal.decode_atoms(codes).shape == (3, 2, 1, SIZE, SIZE)
    assert reconstruction_mse(ideal, spikes.images) < 1e-12
    assert model_device(ideal) == torch.device("cpu")  # buffers only, no parameter
    moved = codes.clone()
    moved[:, 0, 0] = 3.0  # brighter than any spike of the data: still a spike
    assert ideal.decode(moved).amax() > 2.5
    with pytest.raises(ValueError, match="not one of the"):
        ideal.encode(images + 0.01)
    with pytest.raises(ValueError, match="x must be images"):
        ideal.encode(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="z must be codes"):
        ideal.decode(torch.zeros(3, 2, 2))
    with pytest.raises(TypeError, match="SpikeData"):
        IdealAtomicAutoencoder(spikes.images)


def test_reconstruction_correlations_see_what_the_decoder_draws(spikes):
    from lib.atomic import IdealAtomicAutoencoder, reconstruction_correlations

    exact = reconstruction_correlations(
        IdealAtomicAutoencoder(spikes), spikes.images, spikes.params, SIGMA
    )
    assert min(exact.values()) > 0.999

    class Dimmer(IdealAtomicAutoencoder):
        """Draws every spike where it is, at one amplitude: the amplitude is lost."""

        def decode_atoms(self, z):
            z = z.clone()
            z[..., 0] = 0.75
            return super().decode_atoms(z)

    dim = reconstruction_correlations(
        Dimmer(spikes), spikes.images, spikes.params, SIGMA
    )
    assert abs(dim["amplitude"]) < 0.3 and min(dim["x"], dim["y"]) > 0.999
    with pytest.raises(ValueError, match="params"):
        reconstruction_correlations(
            Dimmer(spikes), spikes.images, spikes.params[:5], SIGMA
        )
    with pytest.raises(ValueError, match="separation"):
        reconstruction_correlations(
            Dimmer(spikes), spikes.images, spikes.params, SIGMA, separation=-1
        )
    with pytest.raises(
        ValueError, match="apart"
    ):  # no pair of spikes is that far apart
        reconstruction_correlations(
            Dimmer(spikes), spikes.images, spikes.params, SIGMA, separation=40
        )


def test_a_relative_tolerance_counts_from_the_models_own_residual(spikes):
    from lib.atomic import bracketed_filling_radius

    images = spikes.images[:20]
    blurred = Ghoster(spikes)  # reconstructions already off Sigma (residual > 5 %)
    absolute = bracketed_filling_radius(
        blurred, images, [0.0, 0.5], 2, SIGMA, 0.01, fit_steps=60, bounds=spikes.spec
    )
    assert (absolute.radius, absolute.beyond) == (0.0, 0.0)
    assert absolute.threshold == 0.01
    relative = bracketed_filling_radius(
        blurred,
        images,
        [0.0, 0.5],
        2,
        SIGMA,
        0.01,
        fit_steps=60,
        bounds=spikes.spec,
        relative=True,
    )
    assert relative.threshold == pytest.approx(relative.curve.residual[0] + 0.01)
    assert relative.radius > 0 and relative.bracketed  # room above its own residual
    with pytest.raises(ValueError, match="start at 0"):
        bracketed_filling_radius(
            blurred, images, [0.5, 1.0], 2, SIGMA, 0.01, relative=True
        )


def test_fitted_codes_see_what_the_decoder_can_draw_when_the_encoder_forgets(spikes):
    from lib.atomic import IdealAtomicAutoencoder, reconstruction_correlations

    class Forgetful(IdealAtomicAutoencoder):
        """Encodes every spike at one amplitude; its decoder could draw any amplitude."""

        def encode(self, x):
            z = super().encode(x).clone()
            z[..., 0] = 0.75
            return z

    model = Forgetful(spikes)
    images, params = spikes.images[:60], spikes.params[:60]
    encoded = reconstruction_correlations(model, images, params, SIGMA)
    fitted = reconstruction_correlations(model, images, params, SIGMA, code_steps=100)
    assert abs(encoded["amplitude"]) < 0.3
    assert fitted["amplitude"] > 0.9 and min(fitted["x"], fitted["y"]) > 0.99
    with pytest.raises(ValueError, match="code_steps"):
        reconstruction_correlations(model, images, params, SIGMA, code_steps=-1)
    from lib.atomic import decoder_fitted_codes

    codes = model.encode(images)
    with pytest.raises(ValueError, match="steps"):
        decoder_fitted_codes(model, images, codes, steps=2.5)
    with pytest.raises(ValueError, match="one code per image"):
        decoder_fitted_codes(model, images, codes[:3], steps=2)
