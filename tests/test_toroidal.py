"""Tests for the Toroidal AutoEncoder chapter: lib.toroidal.losses and lib.toroidal.model."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from scipy import stats

from lib.analysis import angle_ks_statistic
from lib.toroidal import (
    DigitJudge,
    DigitJudgeConfig,
    DigitJudgeRun,
    TorusAEConfig,
    TorusAutoencoder,
    TorusLossWeights,
    build_run,
    decorrelation_loss,
    normal_quantiles,
    path_shifts,
    quantile_loss,
    sample_torus_prior,
    spring_loss,
    torus_ae_loss,
    torus_objective,
    torus_paths,
    wrap_angle,
)
from lib.trainer import TrainerConfig

TAU = 2 * math.pi


def uniform_angles(n: int, d: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return wrap_angle((torch.rand(n, d, generator=g, dtype=dtype) * 2 - 1) * math.pi)


def equally_spaced(S: int, d: int, offsets=(0.3, -1.0, 2.0)) -> torch.Tensor:
    base = torch.arange(S, dtype=torch.float64) * TAU / S  # (S,)
    return wrap_angle(
        base[:, None] + torch.tensor(offsets[:d], dtype=torch.float64)
    )  # (S, d)


def small_model(**kw) -> TorusAutoencoder:
    torch.manual_seed(0)
    return TorusAutoencoder(
        TorusAEConfig(channels=(4, 8, 8), hidden=16, classifier_hidden=8, **kw)
    )


# ----------------------------------------------------------------------------- spring loss (Eq. 2)


def test_spring_loss_minimal_for_equally_spaced_angles():
    S, d = 64, 3
    phi = equally_spaced(S, d)
    best = spring_loss(phi)
    assert torch.isclose(
        best, torch.tensor(d * TAU**2 / S, dtype=torch.float64)
    )  # the known minimum
    g = torch.Generator().manual_seed(1)
    for seed in range(5):
        assert spring_loss(uniform_angles(S, d, seed)) > best
        perturbed = wrap_angle(
            phi + 0.02 * torch.randn(S, d, generator=g, dtype=torch.float64)
        )
        assert spring_loss(perturbed) > best
    # i.i.d. uniform angles: about twice the minimum on average (2 d tau^2 / (S + 1))
    mean_random = torch.stack(
        [spring_loss(uniform_angles(S, d, s)) for s in range(200)]
    ).mean()
    assert abs(mean_random / (2 * d * TAU**2 / (S + 1)) - 1) < 0.1


def test_spring_loss_collapsed_angles_near_maximum():
    phi = torch.full((32, 2), 0.5, dtype=torch.float64)
    assert torch.isclose(
        spring_loss(phi), torch.tensor(2 * TAU**2, dtype=torch.float64)
    )


def test_spring_loss_invariant_to_rotation_and_batch_order():
    phi = uniform_angles(50, 3, seed=2)
    ref = spring_loss(phi)
    for shift in (0.7, -2.5, math.pi, 10.0):
        assert torch.allclose(spring_loss(wrap_angle(phi + shift)), ref)
    per_dim_shift = torch.tensor([0.1, 2.0, -3.0], dtype=torch.float64)
    assert torch.allclose(spring_loss(wrap_angle(phi + per_dim_shift)), ref)
    assert torch.allclose(spring_loss(phi[torch.randperm(50)]), ref)


def test_spring_loss_gradients_finite_and_spread_points():
    phi = (
        0.3 * torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    ).requires_grad_()
    loss = spring_loss(phi)
    loss.backward()
    assert torch.isfinite(phi.grad).all() and phi.grad.abs().sum() > 0
    # the extreme points feel the long wrap-around spring: a gradient step pushes them outwards
    for i in range(2):
        lo, hi = phi[:, i].argmin(), phi[:, i].argmax()
        assert phi.grad[lo, i] > 0 and phi.grad[hi, i] < 0


def test_spring_loss_rejects_bad_shapes():
    with pytest.raises(ValueError):
        spring_loss(torch.zeros(5))
    with pytest.raises(ValueError):
        spring_loss(torch.zeros(1, 3))


# ----------------------------------------------------------------------------- quantile loss (Eqs. 3-5)


def test_normal_quantiles_match_scipy():
    S = 100
    q = normal_quantiles(S, mu=1.0, sigma=0.1, dtype=torch.float64)
    expected = stats.norm.ppf((np.arange(1, S + 1) - 0.5) / S, loc=1.0, scale=0.1)
    np.testing.assert_allclose(q.numpy(), expected, atol=1e-10)


def test_quantile_loss_zero_at_exact_quantiles_positive_otherwise():
    S, d = 40, 3
    q = normal_quantiles(S, dtype=torch.float64)
    # each column a different permutation of the exact quantiles
    values = torch.stack([q[torch.randperm(S)] for _ in range(d)], dim=1)  # (S, d)
    assert quantile_loss(values).abs() < 1e-20
    assert quantile_loss(values + 0.01) > 0
    assert quantile_loss(torch.ones(S, d, dtype=torch.float64)) > 0
    # a wrong target distribution is penalised
    assert quantile_loss(values, mu=0.0, sigma=0.1) > 0


def test_quantile_loss_is_per_dimension():
    S = 30
    q = normal_quantiles(S, dtype=torch.float64)
    bad = 0.5 + torch.rand(S, dtype=torch.float64)
    both = torch.stack([q.flip(0), bad], dim=1)  # (S, 2): column 0 exact
    assert torch.isclose(quantile_loss(both), quantile_loss(bad[:, None]))
    # the exact value: sorted column against the quantiles
    assert torch.isclose(
        quantile_loss(bad[:, None]), ((bad.sort().values - q) ** 2).sum()
    )


def test_quantile_loss_follows_device_and_dtype_and_backprops():
    v = torch.rand(16, 2, dtype=torch.float32, requires_grad=True)
    loss = quantile_loss(v)
    assert loss.dtype == torch.float32
    loss.backward()
    assert torch.isfinite(v.grad).all()


# ----------------------------------------------------------------------------- decorrelation (beyond paper)


def test_decorrelation_lower_for_independent_angles():
    S = 1000
    indep = uniform_angles(S, 3, seed=3)
    noise = 0.2 * torch.randn(
        S, generator=torch.Generator().manual_seed(4), dtype=torch.float64
    )
    corr = indep.clone()
    corr[:, 1] = wrap_angle(indep[:, 0] + 1.0 + noise)  # phi_1 follows phi_0
    corr[:, 2] = wrap_angle(-indep[:, 0] + noise)  # phi_2 counter-rotates
    low, high = decorrelation_loss(indep), decorrelation_loss(corr)
    assert low < 3 * 3 * 4 / S  # near the noise floor d(d-1)/2 K^2 / S
    assert high > 1.0 and high > 50 * low
    # the paper's single product E[e^{i a} e^{i b}] misses b = a for uniform a; ours does not
    same = torch.stack([indep[:, 0], indep[:, 0]], dim=1)
    assert decorrelation_loss(same) > 0.9


def test_decorrelation_rotation_invariant_and_differentiable():
    phi = uniform_angles(64, 3, seed=5).requires_grad_()
    shifted = wrap_angle(
        phi.detach() + torch.tensor([0.5, -1.0, 3.0], dtype=torch.float64)
    )
    assert torch.allclose(decorrelation_loss(phi), decorrelation_loss(shifted))
    decorrelation_loss(phi).backward()
    assert torch.isfinite(phi.grad).all()
    assert decorrelation_loss(phi[:, :1]) == 0  # d = 1: no pairs


# ----------------------------------------------------------------------------- model


def test_model_shapes_and_polar_ranges():
    model = small_model()
    x = torch.rand(5, 1, 28, 28)
    out = model(x)
    d = model.d
    assert out.recon.shape == (5, 1, 28, 28)
    assert (
        out.z.shape == (5, 2 * d) and out.r2.shape == (5, d) and out.phi.shape == (5, d)
    )
    assert out.logits.shape == (5, 10)
    assert ((out.recon >= 0) & (out.recon <= 1)).all()
    assert (out.r2 >= 0).all()
    assert ((out.phi > -math.pi) & (out.phi <= math.pi)).all()
    assert model.encode(x).shape == (5, 2 * d)
    assert model.classify(out.phi).shape == (5, 10)


@pytest.mark.parametrize("classifier_input", ["cossin", "angle"])
def test_classifier_input_options(classifier_input):
    model = small_model(classifier_input=classifier_input)
    assert model.classify(torch.zeros(3, 3)).shape == (3, 10)


def test_polar_from_polar_round_trip():
    model = small_model()
    z = torch.randn(100, 6, dtype=torch.float64)
    r2, phi = model.polar(z)
    assert torch.allclose(model.from_polar(r2.sqrt(), phi), z, atol=1e-12)
    r = torch.rand(7, 3, dtype=torch.float64) + 0.1
    ang = uniform_angles(7, 3)
    r2b, phib = model.polar(model.from_polar(r, ang))
    assert torch.allclose(r2b, r**2) and torch.allclose(phib, ang, atol=1e-12)


def test_config_round_trip_and_validation():
    cfg = TorusAEConfig(d=4, channels=(8, 16, 16))
    assert TorusAEConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match=r"unknown keys \['latent'\]"):
        TorusAEConfig.from_dict({**cfg.to_dict(), "latent": 6})
    with pytest.raises(ValueError):
        TorusAEConfig(classifier_input="r")
    assert TorusAutoencoder(cfg).encode(torch.rand(2, 1, 28, 28)).shape == (2, 8)


def test_sample_torus_prior():
    z = sample_torus_prior(4000, d=3, generator=torch.Generator().manual_seed(0))
    assert z.shape == (4000, 6)
    r2, phi = TorusAutoencoder().polar(z)
    assert abs(float(r2.mean()) - 1) < 0.01 and abs(float(r2.std()) - 0.1) < 0.01
    assert (angle_ks_statistic(phi) < 0.04).all()


# ----------------------------------------------------------------------------- full loss


def test_full_loss_finite_and_backprops():
    model = small_model()
    x, y = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    out = model(x)
    loss, parts = torus_objective(x, out.recon, out.r2, out.phi, out.logits, y)
    assert torch.isfinite(loss)
    assert set(parts) == {"recon", "classifier", "spring", "quantile", "decorrelation"}
    assert all(
        not p.requires_grad and p.dim() == 0 and torch.isfinite(p)
        for p in parts.values()
    )
    w = TorusLossWeights()
    expected = (
        w.recon * parts["recon"]
        + w.classifier * parts["classifier"]
        + w.spring * parts["spring"]
        + w.quantile * parts["quantile"]
    )
    assert torch.isclose(loss.detach(), expected, rtol=1e-5)
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_plain_ae_weights_and_missing_labels():
    model = small_model()
    x = torch.rand(8, 1, 28, 28)
    out = model(x)
    loss, parts = torus_objective(
        x, out.recon, out.r2, out.phi, weights=TorusLossWeights.plain()
    )
    assert (
        "classifier" not in parts and "spring" in parts and "quantile" in parts
    )  # still monitored
    assert torch.isclose(loss.detach(), parts["recon"])
    loss.backward()
    assert all(
        p.grad is None for p in model.classifier.parameters()
    )  # classifier not in the graph


def test_training_loss_follows_the_book_convention():
    """torus_ae_loss(model, batch) -> (total, parts), the objective on the model's own output."""
    model = small_model()
    x, y = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    weights = TorusLossWeights(decorrelation=5.0)
    loss, parts = torus_ae_loss(model, (x, y), weights=weights)
    out = model(x)
    expected, expected_parts = torus_objective(
        x, out.recon, out.r2, out.phi, out.logits, y, weights=weights
    )
    assert torch.allclose(loss, expected) and parts.keys() == expected_parts.keys()
    _, unlabelled = torus_ae_loss(model, x, weights=weights)
    assert "classifier" not in unlabelled


# ----------------------------------------------------------------------------- morphing (Eq. 6)


def test_wrap_angle_range():
    x = torch.tensor(
        [-math.pi, math.pi, 3 * math.pi, -3 * math.pi, 0.0, -1e-20, 7.0],
        dtype=torch.float64,
    )
    w = wrap_angle(x)
    assert ((w > -math.pi) & (w <= math.pi)).all()
    assert torch.allclose(torch.cos(w), torch.cos(x)) and torch.allclose(
        torch.sin(w), torch.sin(x), atol=1e-12
    )


@pytest.mark.parametrize("seed", range(4))
def test_torus_paths(seed):
    d, T = 3, 12
    g = torch.Generator().manual_seed(seed)
    phi_a, phi_b = uniform_angles(2, d, seed=seed + 10)
    r_a, r_b = torch.rand(2, d, generator=g, dtype=torch.float64) + 0.5
    phi, r = torus_paths(phi_a, phi_b, r_a, r_b, n_steps=T)
    assert phi.shape == r.shape == (2**d, T, d)
    assert ((phi > -math.pi) & (phi <= math.pi)).all()

    def same_angle(u, v):
        return torch.allclose(torch.cos(u), torch.cos(v)) and torch.allclose(
            torch.sin(u), torch.sin(v)
        )

    assert same_angle(phi[:, 0], phi_a.expand(2**d, d)) and same_angle(
        phi[:, -1], phi_b.expand(2**d, d)
    )
    assert torch.allclose(r[:, 0], r_a.expand(2**d, d)) and torch.allclose(
        r[:, -1], r_b.expand(2**d, d)
    )
    assert torch.allclose(r[:, T // 2], r[0, T // 2])  # radii do not depend on the path

    k = path_shifts(phi_a, phi_b)
    assert (
        k.shape == (2**d, d) and len({tuple(row.tolist()) for row in k}) == 2**d
    )  # all distinct
    assert (k[0] == 0).all()  # row 0: plain linear interpolation
    lengths = (phi_b + 2 * math.pi * k - phi_a).abs()  # (P, d) angular length per dim
    direct, other = lengths[0], lengths[-1]  # k = 0 vs through the edge
    assert torch.allclose(direct + other, torch.full((d,), TAU, dtype=torch.float64))
    inside = (phi_b - phi_a).abs() < math.pi  # where the direct arc is the short one
    assert (direct[inside] < other[inside]).all() and (
        direct[~inside] > other[~inside]
    ).all()
    # constant angular speed along each path: steps between samples all equal the length / (T - 1)
    unwrapped_step = wrap_angle(phi[:, 1:] - phi[:, :-1]).abs()  # (P, T-1, d)
    assert torch.allclose(
        unwrapped_step, (lengths / (T - 1))[:, None, :].expand_as(unwrapped_step)
    )


def test_torus_paths_equal_angles_give_full_turn():
    phi_a = torch.tensor([0.5, -1.0], dtype=torch.float64)
    k = path_shifts(phi_a, phi_a.clone())
    assert k.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]


# ----------------------------------------------------------------------------- diagnostics


def test_polar_decoder_reads_angles_then_radii():
    from lib.toroidal import polar_decoder

    model = TorusAutoencoder(TorusAEConfig(d=3)).eval()
    phi, r = torch.rand(5, 3) * 6 - 3, torch.rand(5, 3) + 0.5
    with torch.no_grad():
        want = model.decode(model.from_polar(r, phi))
    assert torch.allclose(polar_decoder(model)(torch.cat([phi, r], dim=1)), want)


def test_digit_judge_learns_separable_classes_and_reports_confidence():
    # two "digits": a bright left half or a bright right half, with noise
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (256,), generator=g)
    images = 0.2 * torch.rand(256, 1, 28, 28, generator=g)
    images[labels == 0, :, :, :14] += 0.8
    images[labels == 1, :, :, 14:] += 0.8
    spec = DigitJudgeRun(
        model=DigitJudgeConfig(channels=4, hidden=16),
        trainer=TrainerConfig(steps=60, lr=3e-3, progress=False),
        batch_size=32,
    )
    parts = build_run(spec, images, labels)
    judge = parts.model
    assert isinstance(judge, DigitJudge)
    chance = judge.confidence(images).mean().item()
    trainer = parts.trainer()
    trainer.fit()
    assert trainer.history["accuracy"][-1] == 1.0
    conf = judge.confidence(images, batch_size=50)  # several chunks
    assert conf.shape == (256,) and conf.min() >= 0.1 - 1e-6 and conf.max() <= 1
    assert conf.mean() > 0.95 > chance
    blank = torch.zeros(8, 1, 28, 28)
    assert judge.confidence(blank).mean() < conf.mean()
    for bad in ({"channels": 0}, {"hidden": True}, {"n_classes": 2.0}):
        with pytest.raises(ValueError, match="positive integer|must be an integer"):
            DigitJudgeConfig(**bad)
    assert DigitJudgeConfig.from_dict(
        DigitJudgeConfig(hidden=8).to_dict()
    ) == DigitJudgeConfig(hidden=8)
    with pytest.raises(ValueError, match="differ in length"):
        build_run(spec, images, labels[:5])


def test_decode_paths_gives_every_path_and_labels_name_them():
    from lib.toroidal import (
        TorusAEConfig,
        TorusAutoencoder,
        decode_paths,
        interior_linear_images,
        interior_path_images,
        path_labels,
    )

    torch.manual_seed(0)
    model = TorusAutoencoder(TorusAEConfig(channels=(4, 4, 4), hidden=8)).eval()
    out = model(torch.rand(5, 1, 28, 28))
    images = decode_paths(model, out.phi, out.r2, 0, 3, n_steps=6)
    assert images.shape == (8 * 6, 1, 28, 28)
    with torch.no_grad():  # the first point of every path is code 0 itself
        start = model.decode(out.z[:1])
    torch.testing.assert_close(
        images[::6], start.expand(8, -1, -1, -1), atol=1e-5, rtol=0
    )
    labels = path_labels(out.phi[0], out.phi[3])
    assert len(labels) == 8 and labels[0].startswith("k=(+0, +0, +0), length ")
    inner = interior_path_images(model, out.phi, out.r2, [(0, 3), (1, 2)], n_steps=6)
    assert inner.shape == (2 * 8 * 4, 1, 28, 28)
    line = interior_linear_images(model.decode, out.z, [(0, 3)], n_steps=6)
    assert line.shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match="must index"):
        decode_paths(model, out.phi, out.r2, 0, 5)
