"""Chapter 03's settings, data streams and training recipe."""

import json
from dataclasses import replace

import pytest
import torch

import lib.notebook
from lib.atomic import (
    AtomicAEConfig,
    AtomicRun,
    build_run,
    cross_batches,
    cross_test_set,
    fit_atomic_ae,
    get_config,
    mnist_batches,
    reconstruction_mse,
    spike_batches,
    spike_run,
    spike_settings,
    spike_test_set,
)
from lib.data import SpikeSpec, upsample
from lib.errors import ParameterError
from lib.notebook import setup
from lib.trainer import TrainerConfig


def test_chapter_config_is_consistent():
    chapter = get_config()
    size = chapter.image_size
    for name in ("mnist", "mnist_plain", "spikes_model", "spikes_plain"):
        assert getattr(chapter, name).image_size == size
    # same code size for the atomic and the plain autoencoders
    assert chapter.mnist.code_size == chapter.mnist_plain.code_size == 96
    assert chapter.spikes_model.code_size == chapter.spikes_plain.code_size
    assert chapter.spikes_wide.code_size == chapter.spikes_plain_wide.code_size
    assert chapter.spikes_wide.code_size == 2 * chapter.spikes_model.code_size
    assert chapter.spikes_model.n_atoms == chapter.spikes.n_spikes
    assert chapter.spikes_model.atom_dim == 3  # (amplitude, x, y)
    assert chapter.crosses_model.atom_dim == 2
    assert chapter.separable.arm is None and chapter.short_armed.arm is not None
    assert chapter.crosses_model.image_size == chapter.separable.image_size


def test_streams_are_seeded_and_fresh_every_step():
    spec = SpikeSpec(image_size=16, n_spikes=2, sigma=1.5, margin=2)
    stream = spike_batches(spec, 4, seed=0)
    assert stream(3).shape == (4, 1, 16, 16)
    assert torch.equal(stream(3), spike_batches(spec, 4, seed=0)(3))
    assert not torch.equal(stream(3), stream(4))
    assert not torch.equal(stream(3), spike_batches(spec, 4, seed=1)(3))
    with pytest.raises(ValueError, match="seed"):
        spike_batches(spec, 4, seed=5000)  # would reach the test set's seed
    test = spike_test_set(spec, 8)
    assert not any(torch.equal(test.images[:4], stream(s)) for s in range(5))
    chapter = get_config()
    crosses = cross_batches(chapter.separable, 4)(0)
    assert crosses.shape == (4, 1, 32, 32)
    images, centres = cross_test_set(chapter.short_armed, 6)
    assert images.shape == (6, 1, 32, 32) and centres.shape == (6, 2, 2)


def test_mnist_batches_upsample_per_batch():
    digits = torch.rand(20, 1, 28, 28)
    batch = mnist_batches(digits, 64, 8)(0)
    assert batch.shape == (8, 1, 64, 64)
    assert 0.0 <= batch.min() and batch.max() <= 1.0


def test_upsample_is_bilinear_and_checks_its_input():
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 10:18, 10:18] = 1.0
    y = upsample(x, 56)
    assert y.shape == (1, 1, 56, 56)
    assert 0 < y[0, 0, 19, 28] < 1  # a soft edge, not nearest-neighbour blocks
    assert y[0, 0, 28, 28] == 1.0
    with pytest.raises(ValueError, match="smaller"):
        upsample(x, 14)
    with pytest.raises(ValueError, match="N, 1, H, W"):
        upsample(x[0], 56)


@pytest.mark.parametrize("channels_last", [False, True])
def test_the_built_run_learns_spikes_and_schedules_the_learning_rate(channels_last):
    spec = AtomicRun(
        model=AtomicAEConfig(image_size=16, n_atoms=1, atom_dim=3),
        spikes=SpikeSpec(image_size=16, n_spikes=1, sigma=2.0, margin=3),
        trainer=TrainerConfig(
            steps=150, lr=3e-3, warmup_steps=10, schedule="cosine", progress=False
        ),
        batch_size=16,
        channels_last=channels_last,
    )
    parts = build_run(spec, "cpu")
    test = spike_test_set(spec.spikes, 64)
    before = reconstruction_mse(parts.model, test.images)
    trainer = parts.trainer()
    trainer.fit(75)
    trainer.fit()  # a run in two fits trains in one layout throughout
    layout = torch.channels_last if channels_last else torch.contiguous_format
    weight = next(p for p in parts.model.parameters() if p.dim() == 4)
    assert weight.is_contiguous(memory_format=layout)
    after = reconstruction_mse(parts.model, test.images)
    assert after < 0.5 * before
    assert (
        trainer.optimizer.param_groups[0]["lr"] < 1e-4
    )  # cosine decay reached the end


def test_a_spike_run_is_strict_and_its_model_follows_the_spikes():
    spec = spike_run({"size": 32, "spikes": 3, "steps": 40, "margin": 4})
    assert (spec.model.image_size, spec.model.n_atoms, spec.model.atom_dim) == (
        32,
        3,
        3,
    )
    assert spec.trainer.warmup_steps == 40  # at most the budget
    assert spike_settings(spec)["size"] == 32
    assert AtomicRun.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    with pytest.raises(ParameterError, match="unknown settings"):
        spike_run({"sise": 32})
    with pytest.raises(ParameterError, match="AtomicRun"):
        build_run(get_config(), "cpu")


def test_fit_in_quick_mode_trains_but_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(lib.notebook, "pretrained_path", lambda name: tmp_path / name)
    settings = setup(device="cpu", seed=0, quick=True, train="auto")
    spec = SpikeSpec(image_size=16, n_spikes=1, sigma=2.0, margin=3)
    config = AtomicAEConfig(image_size=16, n_atoms=1, atom_dim=3)
    chapter = replace(get_config(), quick_steps=2)  # the notebook's edit is obeyed
    model, history = fit_atomic_ae(
        settings, chapter, "tiny", config, spike_batches(spec, 8), 999
    )
    assert len(history["loss"]) == 2
    assert not list(tmp_path.rglob("*.pt"))
    # back to the default layout (a 1-channel conv weight is contiguous in both layouts)
    assert all(p.is_contiguous() for p in model.parameters())


def test_filling_models_are_one_per_seed_named_by_seed(tmp_path, monkeypatch):
    from lib.atomic import FILLING_MODELS, fit_filling_models, seeded_name

    assert seeded_name("spikes_atomic", 0) == "spikes_atomic"
    assert seeded_name("spikes_atomic", 2) == "spikes_atomic_seed2"
    import dataclasses

    tiny = AtomicAEConfig(image_size=16, n_atoms=1, atom_dim=3)
    chapter = dataclasses.replace(
        get_config(),
        spikes=SpikeSpec(image_size=16, n_spikes=1, sigma=2.0, margin=3),
        quick_steps=2,
        batch_size=4,
        **{field: tiny for _, field in FILLING_MODELS.values()},
    )
    monkeypatch.setattr(lib.notebook, "pretrained_path", lambda name: tmp_path / name)
    settings = setup(device="cpu", seed=0, quick=True, train="auto")
    models = fit_filling_models(settings, chapter, (3, 4))  # the tiny chapter is obeyed
    assert list(models) == list(FILLING_MODELS)
    first, second = models["atomic, code 6"]
    # different seeds give different initial weights (and streams)
    assert not torch.equal(next(first.parameters()), next(second.parameters()))
    again = fit_filling_models(
        settings, chapter, (3,), reuse={"spikes_plain_seed3": second}
    )
    assert again["plain, code 6"][0] is second
    assert again["atomic, code 6"][0] is not first  # trained again: not reused
    with pytest.raises(ValueError, match="distinct"):
        fit_filling_models(settings, chapter, (1, 1))


@pytest.mark.slow  # several seconds: left out of make test-fast
def test_the_spikes_experiment_script_trains_and_records(tmp_path, run_script):
    import json
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "experiments" / "atomic_spikes.py"
    out = tmp_path / "runs.jsonl"
    argv = [
        "--size", "16", "--spikes", "1", "--sigma", "2", "--margin", "3",
        "--steps", "6", "--evaluate-every", "3", "--n-test", "40",
        "--device", "cpu", "--out", str(out),
    ]  # fmt: skip
    run_script(script, *argv)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["step"] for line in lines] == [3, 6]
    assert set(lines[-1]["best_abs_rho"]) == {"amplitude", "x", "y"}
    assert set(lines[-1]["best_abs_spearman"]) == {"amplitude", "x", "y"}
    assert set(lines[-1]["reconstruction_rho"]) == {"amplitude", "x", "y"}
    assert lines[-1]["args"]["spikes"] == 1
