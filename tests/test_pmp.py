"""Chapter 05's model, losses and measures (lib.pmp): shapes, the sparsity-to-product argument,
the schedule, the pair terms, Ada-GVAE, and the support measures."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from lib.pmp import (
    AdaGVAE,
    GaussianPosterior,
    PairBatch,
    PMPAutoencoder,
    PMPConfig,
    PMPObjective,
    Projectors,
    adagvae_loss,
    average_shared,
    consistency_loss,
    distance_loss,
    distribution_loss,
    gaussian_kl,
    loss_ramps,
    product_residual,
    shared_mask,
    sparsity_loss,
    subspace_factor_information,
    support_matrix,
    support_overlap,
    swap_hybrids,
)


# ---------------------------------------------------------------------------------- model
def test_projectors_equal_k_separate_linear_stacks():
    proj = Projectors(dim=4, count=3)
    z = torch.randn(5, 4)
    out = proj(z)  # (5, 3, 4)
    for i in range(3):
        first, second = nn.Linear(4, 4), nn.Linear(4, 4)
        with torch.no_grad():
            first.weight.copy_(proj.weight1[i])
            first.bias.copy_(proj.bias1[i])
            second.weight.copy_(proj.weight2[i])
            second.bias.copy_(proj.bias2[i])
        torch.testing.assert_close(out[:, i], second(torch.relu(first(z))))


def test_projectors_are_initialised_independently_like_nn_linear():
    proj = Projectors(dim=10, count=10)
    bound = 1 / math.sqrt(10)
    assert proj.weight1.abs().max() <= bound + 1e-6
    assert not torch.allclose(proj.weight1[0], proj.weight1[1])


def test_pmp_shapes_and_the_code_is_the_sum_of_the_subspaces():
    model = PMPAutoencoder(PMPConfig(latent_dim=6, n_projectors=4))
    x = torch.rand(3, 1, 64, 64)
    out = model(x)
    assert out.logits.shape == (3, 1, 64, 64)
    assert out.s.shape == (3, 4, 6)
    torch.testing.assert_close(out.z, out.s.sum(1))
    torch.testing.assert_close(model.encode(x), out.z)


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="n_projectors"):
        PMPConfig(n_projectors=0)
    from lib.pmp import AdaGVAEConfig

    with pytest.raises(ValueError, match="beta"):
        AdaGVAEConfig(beta=0.0)


# ----------------------------------------------------------------- the sparsity argument
def test_sparsity_is_zero_for_disjoint_supports_and_the_sum_is_the_concatenation():
    s = torch.zeros(2, 3, 5)
    s[:, 0, :2] = torch.randn(2, 2)  # projector 0 owns coordinates 0, 1
    s[:, 1, 2:4] = torch.randn(2, 2)
    s[:, 2, 4] = torch.randn(2)
    assert sparsity_loss(s) == 0
    concat = torch.cat([s[:, 0, :2], s[:, 1, 2:4], s[:, 2, 4:]], dim=1)
    torch.testing.assert_close(s.sum(1), concat)
    assert product_residual(s) == pytest.approx(0.0)


def test_sparsity_pays_for_a_shared_coordinate():
    s = torch.zeros(1, 2, 3)
    s[0, 0, 1], s[0, 1, 1] = 2.0, -3.0  # both projectors on coordinate 1
    # sum_i |s_i * sum_{j != i} s_j| = |2 * -3| + |-3 * 2| = 12
    assert sparsity_loss(s).item() == pytest.approx(12.0)


def test_sparsity_matches_the_authors_per_coordinate_form():
    s = torch.randn(7, 10, 10)
    all_z = s.permute(0, 2, 1)  # (B, d, k)
    eye = torch.eye(10)
    authors = (all_z @ (1 - eye) * all_z).abs().sum(-1).mean()
    torch.testing.assert_close(sparsity_loss(s) / 10, authors)


def test_two_equal_entries_are_not_stationary():
    # two projectors equal and non-zero on one coordinate: the gradient does not vanish
    # (case 2.2 itself needs k >= 3: test_own_term_and_full_gradient_of_the_sparsity)
    s = torch.zeros(1, 2, 1)
    s[0, :, 0] = 0.7
    s.requires_grad_(True)
    sparsity_loss(s).backward()
    assert (s.grad.abs() > 0.5).all()


def test_sparsity_needs_three_dimensions():
    with pytest.raises(ValueError, match=r"\(B, k, d\)"):
        sparsity_loss(torch.zeros(3, 4))


# --------------------------------------------------------------------------- schedule
def test_ramps_follow_the_authors_schedule_for_30_epochs():
    ramps = [loss_ramps(e, 30) for e in range(30)]
    assert [r.regularise for r in ramps] == [e > 7.5 for e in range(30)]
    assert ramps[11].beta1 < 1 and ramps[12].beta1 == 1.0
    assert ramps[14].beta2 < 1 and ramps[15].beta2 == 1.0
    for r in ramps:
        assert r.beta3 == pytest.approx(1 - r.beta1)
    # the consistency term starts once beta2 > 0.01: epoch 10 (0.316 E)
    assert [e for e in range(30) if ramps[e].beta2 > 1e-2][0] == 10
    with pytest.raises(ValueError):
        loss_ramps(-1, 30)


def test_objective_maps_steps_onto_virtual_epochs():
    objective = PMPObjective(steps=300, max_epochs=30)
    assert objective.epoch_of(0) == 0 and objective.epoch_of(299) == 29
    assert objective.epoch_of(150) == 15


def test_objective_is_reconstruction_only_in_the_first_phase():
    model = PMPAutoencoder(PMPConfig(latent_dim=4, n_projectors=3))
    x1, x2 = torch.rand(4, 1, 64, 64), torch.rand(4, 1, 64, 64)
    objective = PMPObjective(steps=30, max_epochs=30)
    total, parts = objective(model, PairBatch(x1, x2), step=2)
    assert parts["sparsity"] == 0 and parts["consistency"] == 0
    torch.testing.assert_close(total, parts["recon"])
    total, parts = objective(model, PairBatch(x1, x2), step=20)
    assert parts["sparsity"] > 0 and parts["distance"] > 0
    assert total > parts["recon"]
    total.backward()
    assert model.projectors.weight1.grad.abs().sum() > 0


# --------------------------------------------------------------------------- pair terms
def test_distance_loss_is_low_when_one_projector_changes_and_the_rest_hold():
    torch.manual_seed(0)
    s1 = torch.randn(8, 4, 3)
    one = s1.clone()
    one[:, 2] += 3.0  # projector 2 changes a lot, the others not at all
    none = s1.clone()  # nothing changes: the "changed" one is pushed out to the margin
    everything = s1 + 3.0 * torch.randn_like(s1)  # all change: the others are pulled
    # the push term counts the k - 1 unchanged projectors as 0.05 each: a constant floor
    # of 10 * 0.05 * (k - 1) / k with no gradient, as in the authors' code
    floor = 10 * 0.05 * 3 / 4
    assert distance_loss(s1, one).item() == pytest.approx(floor, abs=1e-4)
    # nothing changed: every projector is "a quarter changed", each pushed to the margin
    assert distance_loss(s1, none) == pytest.approx(10 * 0.05, rel=1e-4)
    assert distance_loss(s1, everything) > 1.0


def test_distribution_loss_is_zero_when_the_changes_are_spread_evenly():
    s1 = torch.zeros(4, 4, 2)
    s2 = s1.clone()
    for b in range(4):
        s2[b, b, 0] = 1.0  # pair b changes projector b
    assert distribution_loss(s1, s2).item() == pytest.approx(0.0, abs=1e-9)
    s2 = s1.clone()
    s2[:, 0, 0] = 1.0  # always projector 0
    assert distribution_loss(s1, s2) > 1.0


def test_hybrids_take_one_projector_from_x1_and_the_rest_from_x2():
    s1, s2 = torch.randn(5, 3, 4), torch.randn(5, 3, 4)
    hybrid = swap_hybrids(s1, s2, 10, torch.Generator().manual_seed(0))
    assert hybrid.shape == (10, 3, 4)
    seen = set()
    for h in hybrid:
        matches = [
            (b, i)
            for b in range(5)
            for i in range(3)
            if torch.equal(h[i], s1[b, i])
            and all(torch.equal(h[j], s2[b, j]) for j in range(3) if j != i)
        ]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) == 10  # distinct (pair, projector) choices


def test_consistency_gradients_reach_both_sides():
    model = PMPAutoencoder(PMPConfig(latent_dim=4, n_projectors=3))
    hybrid = torch.randn(6, 3, 4, requires_grad=True)
    loss = consistency_loss(model, hybrid)
    loss.backward()
    assert loss > 0 and hybrid.grad.abs().sum() > 0
    assert model.encoder.net[0].weight.grad.abs().sum() > 0


# ---------------------------------------------------------------------------- Ada-GVAE
def test_gaussian_kl_matches_torch_distributions():
    p = GaussianPosterior(torch.randn(3, 4), torch.randn(3, 4))
    q = GaussianPosterior(torch.randn(3, 4), torch.randn(3, 4))
    normal = torch.distributions.Normal
    expected = torch.distributions.kl_divergence(
        normal(p.mean, (0.5 * p.logvar).exp()), normal(q.mean, (0.5 * q.logvar).exp())
    )
    torch.testing.assert_close(gaussian_kl(p, q), expected)


def test_adaptive_averaging_shares_the_unchanged_coordinates():
    mean1 = torch.zeros(1, 4)
    mean2 = torch.tensor([[0.0, 0.01, 3.0, 0.02]])  # coordinate 2 changed
    logvar = torch.zeros(1, 4)
    q1, q2 = GaussianPosterior(mean1, logvar), GaussianPosterior(mean2, logvar)
    shared = shared_mask(q1, q2)
    assert shared.tolist() == [[True, True, False, True]]
    a1, a2 = average_shared(q1, q2, shared)
    torch.testing.assert_close(a1.mean[0, [0, 1, 3]], a2.mean[0, [0, 1, 3]])
    torch.testing.assert_close(a1.mean[0, 1], torch.tensor(0.005))
    assert a1.mean[0, 2] == 0 and a2.mean[0, 2] == 3.0


def test_adagvae_loss_is_finite_and_trains_the_encoder():
    model = AdaGVAE()
    x1, x2 = torch.rand(4, 1, 64, 64).round(), torch.rand(4, 1, 64, 64).round()
    total, parts = adagvae_loss(model, PairBatch(x1, x2))
    assert torch.isfinite(total) and parts["kl"] >= 0
    assert 0 <= parts["shared"] <= 10
    total.backward()
    assert model.encoder.net[0].weight.grad.abs().sum() > 0
    assert model.encode(x1).shape == (4, 10)


# ----------------------------------------------------------------------------- measures
def test_support_overlap_of_a_permuted_diagonal_is_zero():
    m = np.zeros((4, 4))
    m[[2, 0, 3, 1], [0, 1, 2, 3]] = [1.0, 2.0, 0.5, 3.0]
    overlap = support_overlap(m)
    assert overlap.owner.tolist() == [2, 0, 3, 1]
    assert overlap.largest_foreign_share == 0.0


def test_one_projector_may_own_several_coordinates():
    m = np.zeros((3, 4))
    m[0, :3] = 1.0  # projector 0: a 3-dimensional subspace
    m[2, 3] = 1.0
    overlap = support_overlap(m)
    assert overlap.owner.tolist() == [0, 0, 0, 2]
    assert overlap.largest_foreign_share == 0.0


def test_support_overlap_reports_the_largest_foreign_share():
    m = np.eye(3)
    m[1, 0] = 1.0  # coordinate 0 split evenly between projectors 0 and 1
    overlap = support_overlap(m)
    assert overlap.largest_foreign_share == pytest.approx(0.5)
    assert overlap.mean_foreign_share == pytest.approx(0.5 / 3)


def test_product_residual_grows_with_overlap():
    s = torch.zeros(10, 2, 2)
    s[:, 0, 0], s[:, 1, 1] = torch.randn(10), torch.randn(10)
    assert product_residual(s) == pytest.approx(0.0)
    s[:, 1, 0] = 0.5 * torch.randn(10)  # projector 1 leaks onto coordinate 0
    assert product_residual(s) > 0.1
    assert support_matrix(s).shape == (2, 2)


def test_subspace_information_finds_the_factor_a_projector_copies():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 5, size=(2000, 2))
    s = np.zeros((2000, 3, 4))
    s[:, 0, 0] = factors[:, 1] + 0.01 * rng.normal(size=2000)  # projector 0: factor 1
    s[:, 1, 2] = rng.normal(size=2000)  # projector 1: noise
    info = subspace_factor_information(s, factors)  # projector 2 constant
    assert info.shape == (3, 2)
    assert info[0, 1] > 0.9 and info[0, 0] < 0.05
    assert info[1].max() < 0.05 and info[2].max() == 0.0


# ------------------------------------------------------------------------------ theory
def test_sparsity_by_coordinate_sums_to_the_loss_and_finds_the_shared_one():
    from lib.pmp import sparsity_by_coordinate

    s = torch.zeros(1, 3, 4)
    s[0, 0, 0], s[0, 1, 1], s[0, 2, 1] = 1.0, 2.0, 0.5  # coordinate 1 shared
    per = sparsity_by_coordinate(s)
    assert per.tolist() == [0.0, 2.0, 0.0, 0.0]
    torch.testing.assert_close(per.sum(), sparsity_loss(s))


def test_descending_sparsity_at_fixed_norms_separates_the_supports():
    from lib.pmp import descend_sparsity

    torch.manual_seed(0)
    s0 = torch.randn(3, 4)
    run = descend_sparsity(s0, steps=400)
    assert run.losses[-1] < 0.02 * run.losses[0]
    final = run.snapshots[-1]
    torch.testing.assert_close(final.norm(dim=1), s0.norm(dim=1))
    assert product_residual(final[None]) < 0.01
    assert run.steps[0] == 0 and run.steps[-1] == 400


def test_subspace_decoder_moves_the_code_along_the_directions():
    model = PMPAutoencoder()
    from lib.pmp import subspace_decoder

    z_base = torch.randn(10)
    directions = np.eye(10)[[3, 7]]
    calls = []
    model.decode = lambda z: calls.append(z) or torch.zeros(len(z), 1, 64, 64)
    images = subspace_decoder(model, z_base, directions)(torch.tensor([[1.0, -2.0]]))
    assert images.shape == (1, 1, 64, 64) and images.max() == 0.5  # sigmoid(0)
    expected = z_base.clone()
    expected[3] += 1.0
    expected[7] -= 2.0
    torch.testing.assert_close(calls[0][0], expected)


def test_own_term_and_full_gradient_of_the_sparsity():
    from lib.pmp import own_term_gradient

    # k = 2, both 0.7: own term 0.7, the full gradient adds the other's term (1.4)
    s = torch.full((1, 2, 1), 0.7, requires_grad=True)
    sparsity_loss(s).backward()
    assert own_term_gradient(s.detach()).flatten().tolist() == pytest.approx([0.7, 0.7])
    assert s.grad.flatten().tolist() == pytest.approx([1.4, 1.4])
    # case 2.2 needs k >= 3: (1, 1, -1) cancels for projectors 0 and 1, not for 2
    s = torch.tensor([1.0, 1.0, -1.0]).reshape(1, 3, 1).requires_grad_(True)
    sparsity_loss(s).backward()
    assert own_term_gradient(s.detach()).flatten().tolist() == [0.0, 0.0, -2.0]
    assert s.grad.flatten().tolist() == [1.0, 1.0, -2.0]
    with pytest.raises(ValueError, match="B, k, d"):
        own_term_gradient(torch.zeros(3, 4))


def test_scale_free_sparsity_ignores_scale_and_needs_one_owner_per_coordinate():
    from lib.pmp import scale_free_sparsity_loss

    torch.manual_seed(0)
    s = torch.randn(8, 4, 6)
    loss = scale_free_sparsity_loss(s)
    assert 0 < loss <= 1 - 1 / 4
    for c in (1e-3, 0.5, 30.0):  # Eq. 1 scales by c^2; this does not move
        torch.testing.assert_close(scale_free_sparsity_loss(c * s), loss)
        torch.testing.assert_close(sparsity_loss(c * s), c**2 * sparsity_loss(s))
    owned = torch.zeros(8, 4, 6)  # coordinate r owned by projector r % 4 on every image
    owned[:, torch.arange(6) % 4, torch.arange(6)] = torch.randn(8, 6)
    assert scale_free_sparsity_loss(owned) == 0
    even = torch.ones(2, 4, 6)  # four projectors sharing every coordinate evenly
    assert scale_free_sparsity_loss(even).item() == pytest.approx(1 - 1 / 4)
    # per-image disjoint but with the owner changing between images: not zero
    swap = torch.zeros(2, 2, 1)
    swap[0, 0, 0] = swap[1, 1, 0] = 1.0
    assert sparsity_loss(swap) == 0 and scale_free_sparsity_loss(swap) == 0.5
    # an unused coordinate costs nothing and has a finite gradient
    unused = torch.zeros(3, 2, 2)
    unused[:, 0, 0] = 1.0
    unused.requires_grad_(True)
    scale_free_sparsity_loss(unused).backward()
    assert torch.isfinite(unused.grad).all()


def test_the_ablation_objectives_change_one_term_each():
    from lib.pmp import pmp_objective

    torch.manual_seed(0)
    model = PMPAutoencoder(PMPConfig())
    x = torch.rand(4, 1, 64, 64)
    batch = PairBatch(x, x.flip(0))  # at step 95: the regularisation phase of 100 steps
    totals = {}
    for kind in ("pmp", "pmp_nospar", "pmp_scalefree"):
        objective = pmp_objective(kind, 100, 30)
        torch.manual_seed(1)  # the same hybrids
        totals[kind], parts = objective(model, batch, step=95)
    nospar_gap = totals["pmp"] - totals["pmp_nospar"]
    paper_parts = pmp_objective("pmp", 100, 30)
    torch.manual_seed(1)
    _, parts = paper_parts(model, batch, step=95)
    assert nospar_gap.item() == pytest.approx(0.1 * parts["sparsity"].item(), rel=1e-4)
    assert totals["pmp_scalefree"] != totals["pmp"]
    with pytest.raises(ValueError, match="Ada-GVAE"):
        pmp_objective("adagvae", 100, 30)
    with pytest.raises(ValueError, match="sparsity must be one of"):
        PMPObjective(100, sparsity="l0")


def test_support_shares_are_columns_that_sum_to_one():
    from lib.pmp import support_shares

    m = np.array(
        [[[2.0, 0.0, 0.0], [2.0, 1.0, 0.0]], [[0.2, 0.0, 0.0], [0.2, 0.1, 0.0]]]
    )
    shares = support_shares(m)  # (T=2, k=2, d=3): the second is the first shrunk 10x
    np.testing.assert_allclose(shares[0], shares[1])
    np.testing.assert_allclose(shares[0], [[0.5, 0.0, 0.0], [0.5, 1.0, 0.0]])
    with pytest.raises(ValueError, match="negative"):
        support_shares(-m)
    with pytest.raises(ValueError, match="shape"):
        support_shares(np.zeros(3))


# ------------------------------------------------ the rule of 2026-12-07 over every seed

_SCORES = {
    "pmp": {"DCI D": [0.3, 0.4, 0.5], "MIG": [0.2, 0.3, 0.4]},
    "adagvae": {"DCI D": [0.1, 0.15, 0.2], "MIG": [0.05, 0.1, 0.15]},
}
_ALL = {"pmp": [True] * 3, "adagvae": [True] * 3}


def test_the_seed_permutation_test_is_exact():
    from lib.pmp.measure import seed_permutation_p

    assert seed_permutation_p([3, 4, 5], [0, 1, 2]) == pytest.approx(1 / 20)
    assert seed_permutation_p(range(5, 10), range(5)) == pytest.approx(1 / 252)
    assert seed_permutation_p([0, 1, 2], [3, 4, 5]) == pytest.approx(1.0)
    assert seed_permutation_p([1, 2, 3], [1, 2, 3]) == pytest.approx(
        14 / 20
    )  # ties count
    with pytest.raises(ValueError, match="at least 2"):
        seed_permutation_p([1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="non-finite"):
        seed_permutation_p([1.0, float("nan")], [0.0, 1.0])


@pytest.mark.parametrize(
    "scores, adequate, outcome",
    [
        (_SCORES, _ALL, "reproduced"),
        (
            {"pmp": _SCORES["adagvae"], "adagvae": _SCORES["pmp"]},
            _ALL,
            "not reproduced",
        ),
        (
            _SCORES,
            {"pmp": [True, False, True], "adagvae": [True] * 3},
            "PMP under-trained where Ada-GVAE is not",
        ),
        (_SCORES, {"pmp": [True] * 3, "adagvae": [False] * 3}, "inconclusive"),
        (
            {
                "pmp": {"DCI D": [0.3, 0.1, 0.5], "MIG": [0.2, 0.3, 0.4]},
                "adagvae": _SCORES["adagvae"],
            },
            _ALL,
            "inconclusive",
        ),
    ],
)
def test_the_pmp_rule_can_come_out_every_way(scores, adequate, outcome):
    from lib.pmp.measure import PMP_OUTCOMES, PMP_VERDICT_RULE, seeds_verdict

    verdict, reason = seeds_verdict(scores, adequate)
    assert verdict == outcome and verdict in PMP_OUTCOMES and reason
    assert (
        "1/20 = 0.05" in PMP_VERDICT_RULE
        and "written on 2026-12-07" in PMP_VERDICT_RULE
    )


def test_the_rule_says_which_images_the_judge_reads_and_that_its_wording_was_corrected():
    from lib.pmp.measure import N_JUDGE, PMP_VERDICT_RULE

    rule, note = PMP_VERDICT_RULE.split("(Wording of step 1 corrected after review")
    assert "held-out" not in rule and "not held out" in rule
    assert f"{N_JUDGE:,} fixed images" in rule and "lib.pmp.judge_images" in rule
    assert "substance is unchanged" in note


def test_the_pmp_rule_refuses_scores_that_do_not_match_the_seeds():
    from lib.pmp.measure import seeds_verdict

    with pytest.raises(ValueError, match="one score per seed"):
        seeds_verdict(_SCORES, {"pmp": [True] * 2, "adagvae": [True] * 3})
    with pytest.raises(ValueError, match="adagvae"):
        seeds_verdict({"pmp": _SCORES["pmp"]}, _ALL)


def test_the_judge_adequacy_reads_a_records_judge_field():
    from lib.pmp.measure import ADEQUACY_FRACTION, judge_adequate

    good = {
        f: {"ratio": 0.9} for f in ("shape", "scale", "orientation", "posX", "posY")
    }
    assert judge_adequate(good)
    low = {**good, "orientation": {"ratio": ADEQUACY_FRACTION - 0.01}}
    assert not judge_adequate(low)
    assert judge_adequate({**good, "posX": {"ratio": 0.0}})  # position is not asked
    with pytest.raises(ValueError, match="lacks the factors"):
        judge_adequate({"shape": {"ratio": 1.0}})


def test_judge_report_on_a_model_that_copies_its_input_is_adequate():
    """A model whose reconstructions are the images themselves passes; one that draws
    nothing fails: the check can come out both ways."""
    from lib.checkpoint import load_pretrained
    from lib.data import DSprites
    from lib.pmp.measure import judge_report

    judge, _ = load_pretrained("judges/dsprites_factor_judge")

    class Copy(torch.nn.Module):
        def encode(self, x):
            return x

        def decode(self, z):
            return torch.logit(z.clamp(1e-4, 1 - 1e-4))

    class Blank(Copy):
        def decode(self, z):
            return torch.full_like(z, -10.0)

    data = DSprites()
    assert judge_report(Copy(), judge, data)["judge_adequate"]
    report = judge_report(Blank(), judge, data)
    assert not report["judge_adequate"]
    assert report["judge"]["orientation"]["ratio"] < 0.2


def test_gaussian_blur_keeps_mass_spreads_a_point_and_refuses_a_bad_sigma():
    from lib.pmp import gaussian_blur

    images = torch.rand(3, 1, 16, 16)
    assert torch.equal(gaussian_blur(images, 0.0), images)  # sigma 0: the identity
    point = torch.zeros(1, 1, 21, 21)
    point[0, 0, 10, 10] = 1.0
    blurred = gaussian_blur(point, 1.5)
    assert blurred.shape == point.shape
    assert float(blurred.sum()) == pytest.approx(1.0, abs=1e-5)  # kernel sums to 1
    assert torch.allclose(blurred, blurred.flip(2)) and torch.allclose(
        blurred, blurred.transpose(2, 3)
    )  # symmetric
    assert blurred.max() < 0.1 and blurred[0, 0, 10, 10] == blurred.max()
    wider = gaussian_blur(point, 3.0)
    assert wider.max() < blurred.max()
    for bad in (-1.0, float("nan"), "2"):
        with pytest.raises(ValueError):
            gaussian_blur(images, bad)
    with pytest.raises(ValueError, match="images"):
        gaussian_blur(torch.rand(16, 16), 1.0)


def test_blurred_judge_report_reads_sharp_originals_fully_and_blurred_ones_less():
    from lib.checkpoint import load_pretrained
    from lib.data import DSprites
    from lib.pmp import ADEQUACY_FACTORS, blurred_judge_report

    judge, _ = load_pretrained("judges/dsprites_factor_judge")
    reports = blurred_judge_report(judge, DSprites(), sigmas=(0.0, 3.0), n=300)
    assert list(reports) == [0.0, 3.0]
    for factor in ADEQUACY_FACTORS:
        assert reports[0.0][factor]["ratio"] == pytest.approx(1.0)  # no blur: the same
        assert 0.0 <= reports[3.0][factor]["ratio"] <= 1.05
        assert reports[3.0][factor]["originals"] == reports[0.0][factor]["originals"]
    assert reports[3.0]["scale"]["ratio"] < 0.75  # a strong blur loses the scale
    with pytest.raises(ValueError):
        blurred_judge_report(judge, DSprites(), sigmas=(-1.0,), n=10)
    with pytest.raises(ValueError, match="at least one"):
        blurred_judge_report(judge, DSprites(), sigmas=(), n=10)


def test_settled_from_finds_where_a_falling_curve_goes_flat():
    from lib.pmp import settled_from

    values = np.concatenate([np.linspace(1.0, 0.1, 100), np.full(400, 0.1)])
    plateau = settled_from(values, width=1)
    assert plateau.level == pytest.approx(0.1)
    # within 10 % of 0.1 (at most 0.11) from step 98 of the ramp on (0.109; step 97: 0.118)
    assert plateau.step == 98
    # running mean of 3, read at its last step: steps 97-99 average 0.109, 96-98 0.118
    assert settled_from(values, width=3).step == 99
    # until: only the first 60 steps count; a flat curve is settled from its first window
    assert settled_from(values, until=60, width=1).level > 0.1
    assert settled_from(np.full(20, 2.0)).step == 19
    with pytest.raises(ValueError, match="until"):
        settled_from(values, until=501)
    with pytest.raises(ValueError):
        settled_from(values, within=0.0)


def test_the_pmp_outcomes_are_verdicts_the_landing_page_accepts():
    from lib.notebook import CLAIM_VERDICTS
    from lib.pmp.measure import PMP_OUTCOMES

    assert set(PMP_OUTCOMES) <= set(CLAIM_VERDICTS)


def test_the_smallest_p_the_seeds_allow():
    from lib.pmp.measure import seed_permutation_p, smallest_seed_p

    assert smallest_seed_p(3, 3) == pytest.approx(1 / 20)
    assert smallest_seed_p(5, 5) == pytest.approx(1 / 252)
    assert smallest_seed_p(2, 3) == smallest_seed_p(3, 2) == pytest.approx(1 / 10)
    # it is what the test gives when every seed of one group is above the other's
    assert seed_permutation_p([7, 8], [1, 2, 3]) == pytest.approx(smallest_seed_p(2, 3))
    with pytest.raises(ValueError, match="n_lower"):
        smallest_seed_p(3, 1)


@pytest.mark.parametrize(
    "values, reference, outcome, side",
    [
        ([5.0, 6.0, 7.0], [1.0, 2.0, 3.0], "higher", "above"),
        ([1.0, 2.0, 3.0], [5.0, 6.0, 7.0], "lower", "below"),
        ([1.0, 5.0, 3.0], [2.0, 4.0, 6.0], "not separated", ""),
        ([8.0, 9.0], [1.0, 2.0, 3.0], "undecidable", "above"),  # 2 + 3 seeds: p >= 0.1
    ],
)
def test_compare_seeds_reaches_each_outcome(values, reference, outcome, side):
    from lib.pmp.measure import SEED_OUTCOMES, compare_seeds

    result = compare_seeds(values, reference)
    assert result.outcome == outcome and outcome in SEED_OUTCOMES
    assert result.separated == side
    assert result.median == np.median(values)
    assert result.reference_median == np.median(reference)
    with pytest.raises(ValueError, match="alpha"):
        compare_seeds(values, reference, alpha=0.0)


def test_late_change_reads_the_trend_of_the_last_quarter():
    from lib.pmp.measure import has_converged, late_change

    steps = np.arange(0, 10_001, 400)
    falling = 0.8 - 0.3 * steps / 10_000  # still falling at the end
    flat_end = np.minimum(0.8, 0.5 + 0.3 * (1 - steps / 5_000).clip(0))  # settles at 5k
    # the last quarter spans the snapshots 7,600 ... 10,000: a fall of 0.3 * 2,400 / 10,000
    assert late_change(steps, falling) == pytest.approx(-0.3 * 0.24)
    assert late_change(steps, flat_end) == pytest.approx(0.0, abs=1e-12)
    assert not has_converged(steps, falling)
    assert has_converged(steps, flat_end)
    noisy = flat_end + np.where(np.arange(len(steps)) == 22, 0.05, 0.0)  # one outlier
    assert has_converged(steps, noisy)  # a line through the quarter, not two end points
    with pytest.raises(ValueError, match="one entry each"):
        late_change(steps, falling[:-1])
    with pytest.raises(ValueError, match="at least 2"):
        late_change([0, 1], [0.5, 0.4], fraction=0.1)
    with pytest.raises(ValueError, match="fraction"):
        late_change(steps, falling, fraction=0.0)
    with pytest.raises(ValueError, match="values"):
        late_change(steps, falling * np.nan)


def test_smooth_is_a_running_mean():
    from lib.pmp.measure import smooth

    np.testing.assert_allclose(smooth([1, 2, 3, 4], width=2), [1.5, 2.5, 3.5])
    np.testing.assert_allclose(smooth([1, 2, 3], width=50), [2.0])  # cut to the length
    with pytest.raises(ValueError, match="width"):
        smooth([1, 2, 3], width=0)
    with pytest.raises(ValueError, match="values"):
        smooth([])


def _snapshots(matrices, sparsity):
    return {
        "support_steps": list(range(0, 400 * len(matrices), 400)),
        "support_matrices": [np.asarray(m).tolist() for m in matrices],
        "support_sparsity": list(sparsity),
    }


def test_support_fall_tells_shrinking_from_separating():
    from lib.pmp.measure import support_fall

    shared = np.full((2, 3), 0.5)  # both projectors on every coordinate
    scales = [1.0, 1.0, 0.5, 0.1]  # the same overlap, shrinking
    shrinking = _snapshots([c * shared for c in scales], [c**2 for c in scales])
    fall = support_fall(shrinking, start=400)
    assert fall.on == 1 and fall.sparsity_fall == pytest.approx(100)
    assert fall.explained == pytest.approx(1.0) and fall.route == "shrinkage"
    np.testing.assert_allclose(fall.foreign, 0.5)
    end = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])  # one owner per coordinate
    apart = [shared, shared, np.array([[0.9, 0.1, 0.5], [0.1, 0.9, 0.5]]), end]
    separating = _snapshots(apart, [1.0, 1.0, 0.1, 0.01])
    fall = support_fall(separating, start=400)
    assert fall.route == "separation" and fall.foreign[-1] == 0.0
    assert fall.mass2_fall == pytest.approx(1.0)  # the mass did not fall at all
    with pytest.raises(ValueError, match="support_sparsity"):
        support_fall({"support_steps": [0]}, start=0)
    with pytest.raises(ValueError, match="start"):
        support_fall(shrinking, start=-1)


def test_regularised_from_is_the_objectives_first_regularised_step():
    from lib.pmp.losses import PMPObjective, loss_ramps, regularised_from

    for steps in (7, 16, 10_000, 33_500):
        first = regularised_from(steps)
        epoch = PMPObjective(steps).epoch_of
        assert loss_ramps(epoch(first), 30).regularise
        assert not loss_ramps(epoch(first - 1), 30).regularise
    with pytest.raises(ValueError, match="steps"):
        regularised_from(0)


def test_the_chapters_figures_draw_and_refuse_bad_input():
    import matplotlib.pyplot as plt

    from lib.pmp.measure import (
        plot_reconstructions,
        plot_subspace_information,
        plot_support_fall,
        plot_training_curves,
        support_fall,
    )
    from lib.pmp.theory import descend_sparsity, plot_descent

    history = {k: list(np.linspace(1, 0.1, 80)) for k in ("recon", "sparsity", "kl")}
    history.update(distance=[0.0] * 80, consistency=[0.5] * 80)
    fig = plot_training_curves(history, history, start=20, width=10)
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="ada_history lacks"):
        plot_training_curves(history, {"recon": [1.0]}, start=20)
    model = PMPAutoencoder(PMPConfig(latent_dim=4, n_projectors=2))
    fig = plot_reconstructions(torch.rand(3, 1, 64, 64), {"PMP": model})
    assert len(fig.axes) == 6  # data and one model, three images each
    sharp = plot_reconstructions(torch.rand(3, 1, 64, 64), {"PMP": model}, dpi=150)
    assert sharp.dpi == 150
    with pytest.raises(ValueError, match="dpi"):
        plot_reconstructions(torch.rand(3, 1, 64, 64), {"PMP": model}, dpi=0)
    with pytest.raises(ValueError, match="models"):
        plot_reconstructions(torch.rand(3, 1, 64, 64), {})
    meta = _snapshots([np.full((2, 3), c) for c in (1.0, 0.5, 0.2)], [1.0, 0.3, 0.1])
    assert len(plot_support_fall(support_fall(meta, 0), 0).axes) == 2
    info = np.random.default_rng(0).random((4, 5))
    plot_subspace_information(info, info, ["a", "b", "c", "d", "e"])
    with pytest.raises(ValueError, match="info_ada"):
        plot_subspace_information(info, info[:, :3], ["a", "b", "c", "d", "e"])
    s0 = torch.randn(3, 4)
    run = descend_sparsity(s0, steps=5)
    assert len(plot_descent(s0, run, run).axes) == 5  # four panels and a colour bar
    with pytest.raises(ValueError, match="held"):
        plot_descent(s0, "run", run)
    plt.close("all")


# ------------------------------------------------------------- the review's measures
def test_the_information_bias_of_an_independent_code_grows_with_the_factors_values():
    from lib.pmp import information_bias

    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, 3, 512), rng.integers(0, 32, 512)], 1)
    bias = information_bias(factors, seed=1)
    assert bias.mean.shape == bias.high.shape == (10, 2)
    assert (bias.high >= bias.mean).all() and (bias.mean > 0).all()
    assert bias.mean[:, 1].mean() > 2 * bias.mean[:, 0].mean()  # 32 values vs 3
    np.testing.assert_array_equal(
        information_bias(factors, seed=1).mean, bias.mean
    )  # seeded
    # the permutation baseline of a code that copies factor 0: far below its own value
    codes = np.stack([factors[:, 0] + 0.01 * rng.normal(size=512)], 1)
    shuffled = information_bias(factors, codes=codes, repeats=30)
    assert shuffled.mean.shape == (1, 2) and shuffled.high[0, 0] < 0.1
    assert subspace_factor_information(codes[:, :, None], factors)[0, 0] > 0.9
    from lib.pmp import carried_factors

    info = subspace_factor_information(codes[:, :, None], factors)
    name, value, chance = carried_factors(info, shuffled, ["a", "b"])[0][0]
    assert name == "a" and value > 0.9 and chance < 0.1  # first: the largest excess
    nothing = shuffled._replace(high=np.ones((1, 2)))
    assert carried_factors(info, nothing, ["a", "b"]) == [[]]
    with pytest.raises(ValueError, match="InformationBias"):
        carried_factors(info, bias, ["a", "b"])  # a (10, 2) bias for one row
    with pytest.raises(ValueError, match="codes"):
        information_bias(factors, codes=codes[:10])
    with pytest.raises(ValueError, match="factors"):
        information_bias(factors[:, 0])
    with pytest.raises(ValueError, match="repeats"):
        information_bias(factors, repeats=0)


def test_seeds_needed_is_the_fewest_seeds_whose_smallest_p_reaches_alpha():
    from lib.pmp.measure import seeds_needed, smallest_seed_p

    assert seeds_needed(2) == 5 and smallest_seed_p(5, 2) == pytest.approx(1 / 21)
    assert smallest_seed_p(4, 2) > 0.05  # one fewer is not enough
    assert seeds_needed(3) == 3  # 1/20 = 0.05: p <= alpha admits it
    assert seeds_needed(3, strict=True) == 4  # 1/35
    assert seeds_needed(5, alpha=0.01) == 4  # 1/126; 3 + 5 give only 1/56
    with pytest.raises(ValueError, match="n_other"):
        seeds_needed(1)
    with pytest.raises(ValueError, match="no group"):
        seeds_needed(2, alpha=1e-9, most=10)


def _blob(t: torch.Tensor) -> torch.Tensor:
    """A square sprite moved right by t[:, 0] pixels and grown by t[:, 1]: a decoder."""
    images = torch.zeros(len(t), 1, 64, 64)
    for n, (dx, grow) in enumerate(t.tolist()):
        half = int(4 + grow)
        x = int(32 + dx)
        images[n, 0, 32 - half : 32 + half, x - half : x + half] = 1.0
    return images


def test_sweep_effects_measure_how_the_sprite_moves_and_grows():
    from lib.pmp import sweep_effects, sweep_labels

    effects = sweep_effects(_blob, [-10.0, 0.0], [10.0, 4.0])
    assert effects.dx == pytest.approx([20.0, 0.0])
    assert effects.dy == pytest.approx([0.0, 0.0])
    assert effects.area == pytest.approx([1.0, 4.0])  # side 8 -> 16 pixels
    labels = sweep_labels(effects, ["P1", "P2"])
    assert labels == ["P1: right 20 px", "P2: area x4.00"]
    still = effects._replace(dx=np.array([0.5, 0.0]), area=np.array([1.05, 1.0]))
    assert sweep_labels(still, ["a", "b"]) == ["a: little change", "b: little change"]
    blank = sweep_effects(lambda t: torch.zeros(len(t), 1, 8, 8), [0.0], [1.0])
    assert np.isnan(blank.dx[0])
    assert "no sprite" in sweep_labels(blank, ["P"])[0]
    with pytest.raises(ValueError, match="low below its high"):
        sweep_effects(_blob, [1.0], [0.0])
    with pytest.raises(ValueError, match="name the 2 sliders"):
        sweep_labels(effects, ["P1"])
    with pytest.raises(ValueError, match="SweepEffect"):
        sweep_labels((1, 2, 3), ["P1"])


def test_gradient_sizes_find_a_module_the_loss_does_not_reach():
    from lib.pmp import gradient_sizes

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(3, 1), nn.Linear(3, 1)

    model = Two()
    batch = torch.ones(4, 3)

    def loss(m, x, step=None):
        return 2.0 * m.used(x).sum(), {}

    sizes = gradient_sizes(model, loss, batch, weight_decay=0.1)
    # d/dw of 2 * sum_b (w . x_b + b) = 2 * 4 * 1 for every weight and the bias
    assert sizes["used"].rms == pytest.approx(8.0) and sizes["used"].zero == 0.0
    assert sizes["unused"].zero == 1.0 and sizes["unused"].rms == 0.0
    w = torch.cat([p.detach().flatten() for p in model.used.parameters()])
    assert sizes["used"].decay == pytest.approx(0.1 * w.pow(2).mean().sqrt().item())
    assert all(p.grad is None for p in model.parameters())  # cleared afterwards
    assert gradient_sizes(model, loss, batch, step=3)["used"].rms == pytest.approx(8.0)
    with pytest.raises(ValueError, match="scalar"):
        gradient_sizes(model, lambda m, x: (m.used(x), {}), batch)
    with pytest.raises(ValueError, match="weight_decay"):
        gradient_sizes(model, loss, batch, weight_decay=-1.0)


def test_consistency_enters_where_the_objective_first_computes_it():
    from lib.pmp.losses import (
        CONSISTENCY_ON,
        PMPObjective,
        consistency_from,
        loss_ramps,
    )

    assert (
        consistency_from(10_000) == 3334 and consistency_from(10_000, full=True) == 5000
    )
    for steps in (16, 10_000, 33_500):
        objective = PMPObjective(steps)
        for full in (False, True):
            first = consistency_from(steps, full=full)
            ramps = loss_ramps(objective.epoch_of(first), 30)
            before = loss_ramps(objective.epoch_of(first - 1), 30)
            if full:
                assert ramps.beta2 == 1.0 and before.beta2 < 1.0
            else:
                assert ramps.regularise and ramps.beta2 > CONSISTENCY_ON
                assert before.beta2 <= CONSISTENCY_ON or not before.regularise
    with pytest.raises(ValueError, match="max_epochs"):
        consistency_from(100, max_epochs=0)


def test_the_judge_adequacy_at_another_threshold():
    from lib.pmp.measure import judge_adequate

    judge = {f: {"ratio": 0.3} for f in ("shape", "scale", "orientation")}
    assert not judge_adequate(judge) and judge_adequate(judge, fraction=0.3)
    with pytest.raises(ValueError, match="fraction"):
        judge_adequate(judge, fraction=float("nan"))
