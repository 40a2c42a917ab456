"""Tests of the disk autoencoders (lib.taking_apart.model) and their losses."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lib.data.disks import make_disks
from lib.taking_apart import (
    DCGANAEConfig,
    DCGANAutoencoder,
    DiskAEConfig,
    DiskAutoencoder,
)
from lib.taking_apart.losses import (
    REG_CHOICES,
    disk_ae_loss,
    pick_neighbours,
    regulariser,
)

LAMBDAS = (0.1, 0.5, 2.0, 7.0)


def _model(bias: bool, seed: int = 0, dtype=torch.float64) -> DiskAutoencoder:
    torch.manual_seed(seed)
    model = DiskAutoencoder(DiskAEConfig(bias=bias)).to(dtype)
    if (
        bias
    ):  # trained biases are non-zero; the zero init alone would not show the effect
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                torch.nn.init.normal_(p, 0.0, 0.1)
    return model


def _batch(n: int = 6, dtype=torch.float64) -> torch.Tensor:
    images, _ = make_disks(
        n, antialias="area", generator=torch.Generator().manual_seed(0)
    )
    return images.to(dtype)


def test_shapes_and_parameter_count():
    model = DiskAutoencoder()
    x = _batch(3, torch.float32)
    recon, z = model(x)
    assert recon.shape == (3, 1, 64, 64) and z.shape == (3, 1)
    assert model.encode(x).shape == (3, 1) and model.decode(z).shape == (3, 1, 64, 64)
    n_bias, n_nobias = (
        model.num_parameters(),
        DiskAutoencoder(DiskAEConfig(bias=False)).num_parameters(),
    )
    print(f"DiskAutoencoder parameters: {n_bias} with biases, {n_nobias} without")
    assert (n_bias, n_nobias) == (1412, 1368)  # 44 biases = 2 * (8+4+4+3+2+1)
    # code_size > 1 and a smaller image (fewer layers)
    m2 = DiskAutoencoder(
        DiskAEConfig(image_size=32, channels=(8, 4, 4, 3), code_size=2)
    )
    recon, z = m2(torch.zeros(2, 1, 32, 32))
    assert recon.shape == (2, 1, 32, 32) and z.shape == (2, 2)


def test_config_round_trip_and_validation():
    cfg = DiskAEConfig(bias=False, negative_slope=0.05)
    assert DiskAEConfig.from_dict(cfg.to_dict()) == cfg
    assert (
        DiskAEConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    )  # lists -> tuples
    dcfg = DCGANAEConfig(code_size=1, base_channels=8)
    assert DCGANAEConfig.from_dict(dcfg.to_dict()) == dcfg
    with pytest.raises(ValueError, match="image_size"):
        DiskAEConfig(image_size=48)
    with pytest.raises(ValueError, match=r"unknown keys \['depth'\]"):
        DiskAEConfig.from_dict({**cfg.to_dict(), "depth": 3})


def test_bias_free_decoder_is_positively_homogeneous():
    model = _model(bias=False)
    z = torch.randn(5, 1, dtype=torch.float64)
    with torch.no_grad():
        base = model.decode(z)
        for lam in LAMBDAS:
            out = model.decode(lam * z)
            assert ((out - lam * base).norm() / (lam * base).norm()).item() < 1e-10


def test_bias_free_encoder_is_positively_homogeneous():
    model = _model(bias=False)
    x = _batch()
    with torch.no_grad():
        base = model.encode(x)
        for lam in LAMBDAS:
            assert (
                (model.encode(lam * x) - lam * base).norm() / (lam * base).norm()
            ).item() < 1e-10


def test_bias_free_homogeneity_float32():
    model = _model(bias=False, dtype=torch.float32)
    z = torch.randn(5, 1)
    with torch.no_grad():
        base = model.decode(z)
        for lam in LAMBDAS:
            assert (
                (model.decode(lam * z) - lam * base).norm() / (lam * base).norm()
            ).item() < 1e-4


def test_biases_break_homogeneity():
    model = _model(bias=True)
    z = torch.randn(5, 1, dtype=torch.float64)
    x = _batch()
    with torch.no_grad():
        for lam in (0.5, 2.0):
            dec_err = (model.decode(lam * z) - lam * model.decode(z)).norm() / (
                lam * model.decode(z)
            ).norm()
            enc_err = (model.encode(lam * x) - lam * model.encode(x)).norm() / (
                lam * model.encode(x)
            ).norm()
            assert dec_err.item() > 1e-2 and enc_err.item() > 1e-2


@pytest.mark.parametrize("code_size", [1, 100])
def test_dcgan_autoencoder_shapes(code_size):
    model = DCGANAutoencoder(DCGANAEConfig(code_size=code_size, base_channels=8))
    x = _batch(4, torch.float32)
    recon, z = model(x)
    assert recon.shape == (4, 1, 64, 64) and z.shape == (4, code_size)
    assert recon.min() >= 0 and recon.max() <= 1  # sigmoid output
    full = DCGANAutoencoder(DCGANAEConfig(code_size=code_size))
    print(
        f"DCGANAutoencoder(code_size={code_size}) parameters: {full.num_parameters()}"
    )


@pytest.mark.parametrize("reg", REG_CHOICES)
def test_losses_finite_scalars(reg):
    model = DiskAutoencoder()
    images, radii = make_disks(8, generator=torch.Generator().manual_seed(1))
    loss, parts = disk_ae_loss(
        model, (images, radii), reg=reg, generator=torch.Generator().manual_seed(2)
    )
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert set(parts) == {"recon", "reg", "z_abs_mean"}  # the total is the loss itself
    assert all(
        v.dim() == 0 and torch.isfinite(v) and not v.requires_grad
        for v in parts.values()
    )
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    if reg != "none":
        assert parts["reg"] > 0


def _reg_grads(reg: str) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    model = DiskAutoencoder()
    x = _batch(6, torch.float32)
    recon, z = model(x)
    regulariser(model, reg, x, z, generator=torch.Generator().manual_seed(0)).backward()
    enc = [
        p.grad if p.grad is not None else torch.zeros_like(p)
        for p in model.encoder.parameters()
    ]
    dec = [
        p.grad if p.grad is not None else torch.zeros_like(p)
        for p in model.decoder.parameters()
    ]
    return enc, dec


def test_type3_touches_only_encoder():
    enc, dec = _reg_grads("type3")
    assert any(g.abs().sum() > 0 for g in enc)
    assert all(g.abs().sum() == 0 for g in dec)


def test_type2_touches_encoder_and_decoder():
    enc, dec = _reg_grads("type2")
    assert any(g.abs().sum() > 0 for g in enc) and any(g.abs().sum() > 0 for g in dec)


def test_type1_touches_only_encoder():
    enc, dec = _reg_grads("type1")
    assert any(g.abs().sum() > 0 for g in enc) and all(g.abs().sum() == 0 for g in dec)


def test_neighbours_never_self():
    x = torch.rand(9, 1, 8, 8)
    for mode in ("random", "nearest"):
        partner = pick_neighbours(x, mode, torch.Generator().manual_seed(0))
        assert partner.shape == (9,) and not (partner == torch.arange(9)).any()


def test_bad_reg_raises():
    with pytest.raises(ValueError, match="reg"):
        disk_ae_loss(DiskAutoencoder(), _batch(2, torch.float32), reg="type4")


def test_disk_panels_show_the_input_beside_each_model():
    from lib.data.disks import disks_from_radii
    from lib.taking_apart import disk_panels

    models = [DiskAutoencoder(DiskAEConfig()).eval() for _ in range(2)]
    radius = torch.tensor([[5.0], [40.0]])  # the second is clamped to the image's 32
    panels = disk_panels(models)(radius)
    assert panels.shape == (2, 1, 64, 3 * 64)
    disks = disks_from_radii([5.0, 32.0], antialias="area")
    assert (panels[..., :64] - disks).abs().max() < 2e-3  # float32 rendering
    with torch.no_grad():
        for i, model in enumerate(models, start=1):
            want = model(disks)[0].clamp(0, 1)
            assert torch.allclose(panels[..., 64 * i : 64 * (i + 1)], want, atol=1e-3)


def test_homogeneity_error_is_rounding_without_biases_and_large_with():
    from lib.taking_apart import homogeneity_error

    torch.manual_seed(0)
    x = make_disks(
        8, radius_range=(4.0, 20.0), generator=torch.Generator().manual_seed(0)
    )[0]
    assert homogeneity_error(DiskAutoencoder(DiskAEConfig(bias=False)), x) < 1e-5
    biased = DiskAutoencoder(DiskAEConfig(bias=True))
    assert homogeneity_error(biased, x) < 1e-5  # biases start at zero
    with torch.no_grad():
        for name, parameter in biased.named_parameters():
            if name.endswith("bias"):
                parameter.fill_(0.1)
    assert homogeneity_error(biased, x) > 1e-2
    with pytest.raises(ValueError, match="lambdas"):
        homogeneity_error(DiskAutoencoder(DiskAEConfig(bias=False)), x, lambdas=(-1.0,))


def test_the_hole_verdict_reaches_every_outcome():
    from lib.taking_apart import HOLE_GOAL, hole_errors, hole_verdict, loss_settled

    good = {"none": True, "type3": True}
    assert hole_verdict([4.0, 3.0, 5.5], good) == "reproduced"
    assert hole_verdict([4.0, 1.2, 1.0], good) == "partly reproduced"
    assert hole_verdict([1.4, 1.0, 2.9], good) == "not reproduced"
    assert (
        hole_verdict([4.0, 4.0, 4.0], [True, False]) == "inconclusive (under-trained)"
    )
    assert hole_verdict([HOLE_GOAL], [True]) == "reproduced"  # the goal itself counts
    for bad in ([], [0.0], [float("inf")]):
        with pytest.raises(ValueError, match="ratios"):
            hole_verdict(bad, good)
    with pytest.raises(ValueError, match="settled"):
        hole_verdict([4.0], [])
    sse = torch.tensor([1.0, 2.0, 6.0, 8.0])
    assert hole_errors(sse, torch.tensor([False, False, True, True])) == (7.0, 1.5)
    with pytest.raises(ValueError, match="some images inside"):
        hole_errors(sse, torch.zeros(4, dtype=torch.bool))
    with pytest.raises(ValueError, match="boolean mask"):
        hole_errors(sse, torch.tensor([0, 0, 1, 1]))
    flat, falling = [5.0, 5.1] * 500, list(np.linspace(10.0, 5.0, 1000))
    assert loss_settled({"loss": flat}) and not loss_settled({"loss": falling})
    with pytest.raises(ValueError, match="no 'recon' curve"):
        loss_settled({"loss": flat}, key="recon")


def test_in_out_figure_colours_seen_and_unseen_radii():
    import matplotlib.pyplot as plt

    from lib.taking_apart import in_out_figure

    x, radii = make_disks(8, radius_range=(0.0, 32.0), generator=torch.Generator())
    seen = radii < 16
    fig = in_out_figure(x, x, radii, seen, "test", every=2)
    colours = [ax.title.get_color() for ax in fig.axes]
    assert len(colours) == 8 and colours[:4] == colours[4:]
    assert colours[:4] == ["green" if s else "red" for s in seen[::2].tolist()]
    plt.close(fig)
    with pytest.raises(ValueError, match="one entry per"):
        in_out_figure(x, x[:3], radii, seen, "test")


def test_the_hole_summary_measures_every_model_and_flags_the_unsettled():
    from types import SimpleNamespace

    from lib.taking_apart import format_hole_table, hole_summary

    x, radii = make_disks(12, radius_range=(0.0, 32.0), generator=torch.Generator())
    in_hole = (radii > 11) & (radii < 18)
    in_hole[0], in_hole[1] = True, False  # both sides present whatever the draw
    net = DiskAutoencoder(DiskAEConfig(bias=True))

    def history(loss):
        n = len(loss)
        return {"loss": loss, "recon": [0.5 * v for v in loss], "z_abs_mean": [1.0] * n}

    settled = SimpleNamespace(model=net, history=history([5.0, 5.1] * 50))
    falling = SimpleNamespace(model=net, history=history(list(np.linspace(9, 5, 100))))
    results = hole_summary({("none", 0): settled, ("type3", 0): falling}, x, in_hole)
    assert results["none", 0].penalty_share == pytest.approx(0.5)
    assert np.isnan(results["none", 0].growth)  # 100 steps: too short for step 1,000
    assert np.isnan(results["none", 0].beside)  # not asked
    assert results["none", 0].settled and not results["type3", 0].settled
    assert results["none", 0].inside == pytest.approx(
        results["none", 0].sse[in_hole].mean().item()
    )
    table = format_hole_table(results).splitlines()
    assert len(table) == 3 and table[1].endswith("yes") and table[2].endswith("NO")
    quick = SimpleNamespace(model=net, history=history([5.0] * 20))  # 2 per window
    (short,) = hole_summary({("none", 1): quick}, x, in_hole).values()
    assert not short.settled and np.isnan(short.late_change)
    assert format_hole_table({("none", 1): short}).endswith("too short | NO")
    with pytest.raises(ValueError, match="at least one"):
        hole_summary({}, x, in_hole)
    beside = ~in_hole
    beside[1] = True
    near = hole_summary({("none", 0): settled}, x, in_hole, beside=beside)["none", 0]
    assert near.beside == pytest.approx(near.sse[beside].mean().item())
    with pytest.raises(ValueError, match="outside the hole"):
        hole_summary({("none", 0): settled}, x, in_hole, beside=in_hole)


def test_code_growth_compares_the_end_with_step_1000():
    from lib.taking_apart import code_growth

    z = np.concatenate([np.full(1100, 2.0), np.full(900, 3.0)])  # 2,000 steps
    assert code_growth(z) == pytest.approx(1.5)  # last 200 at 3 / around 1,000 at 2
    assert np.isnan(code_growth(z[:1050]))
    with pytest.raises(ValueError, match="start"):
        code_growth(z, start=10)


def test_the_profile_rule_tells_airy_from_other_bell_shapes():
    import numpy as np

    from lib.taking_apart import (
        PROFILE_GOAL,
        airy_profile,
        alternative_profiles,
        profile_distances,
        profile_verdict,
    )

    t = np.linspace(0.0, 31.9, 64)
    airy = airy_profile(t, 32.0)
    noisy = airy + 0.01 * np.random.default_rng(0).normal(size=t.shape)
    assert profile_verdict(profile_distances(3.0 * noisy, t, 32.0)) == "reproduced"
    # a parabola is within the goal of the Airy profile, but it is nearer to itself
    parabola = alternative_profiles(t, 32.0)["1 - (t/R)^2"]
    distances = profile_distances(parabola, t, 32.0)
    assert distances["Airy"] < PROFILE_GOAL
    assert profile_verdict(distances) == "partly reproduced"
    linear = alternative_profiles(t, 32.0)["1 - t/R"]
    assert profile_verdict(profile_distances(linear, t, 32.0)) == "not reproduced"
    with pytest.raises(ValueError, match="Airy"):
        profile_verdict({"cosine": 0.01})
    with pytest.raises(ValueError, match="finite"):
        profile_verdict({"Airy": float("nan"), "cosine": 0.2})
    with pytest.raises(ValueError, match="one value per distance"):
        profile_distances(airy[:-1], t, 32.0)


def test_the_figures_show_the_first_seed_whose_models_settled():
    from types import SimpleNamespace

    from lib.taking_apart import shown_seed

    flat = SimpleNamespace(history={"loss": [1.0] * 200})
    falling = SimpleNamespace(history={"loss": list(range(400, 200, -1))})
    runs = {("none", 0): flat, ("type3", 0): falling}
    runs |= {("none", 1): flat, ("type3", 1): flat}
    assert shown_seed(runs, ["none", "type3"], [0, 1]) == (1, True)
    runs["type3", 1] = falling
    assert shown_seed(runs, ["none", "type3"], [0, 1]) == (0, False)
    short = SimpleNamespace(
        history={"loss": [1.0] * 20}
    )  # quick mode: too short to tell
    assert shown_seed({("none", 3): short}, ["none"], [3]) == (3, False)
    with pytest.raises(ValueError, match="no model"):
        shown_seed(runs, ["none", "type2"], [0, 1])


def test_the_default_penalty_weights_are_small_at_initialisation():
    from lib.taking_apart import get_config, initial_penalty_share

    shares = {
        reg: initial_penalty_share(get_config(), reg)
        for reg in ("type1", "type2", "type3")
    }
    assert all(0 < share < 0.05 for share in shares.values()), shares
    assert shares["type2"] > shares["type3"]  # encoder and decoder against encoder only
    with pytest.raises(ValueError, match="reg"):
        initial_penalty_share(get_config(), "none")
    with pytest.raises(ValueError, match="seed"):
        initial_penalty_share(get_config(), "type3", seed=-1)
