"""Chapter 01's settings and training recipe (lib.taking_apart.recipes)."""

import json
from dataclasses import replace

import pytest
import torch

from lib.checkpoint import PRETRAINED_DIR, pretrained_path
from lib.errors import ParameterError
from lib.notebook import setup
from lib.taking_apart import (
    DiskAEConfig,
    build_run,
    codes_and_errors,
    fit_disk_ae,
    get_config,
    training_disks,
)


def test_training_disks_are_seeded_and_respect_the_hole():
    x, r = training_disks(64, seed=3, hole=(11.0, 18.0))
    x2, r2 = training_disks(64, seed=3, hole=(11.0, 18.0))
    assert x.shape == (64, 1, 64, 64) and torch.equal(x, x2) and torch.equal(r, r2)
    assert not ((r >= 11) & (r <= 18)).any()
    assert not torch.equal(training_disks(64, seed=4)[1], r)


def test_the_built_run_is_deterministic_and_records_the_loss_parts():
    data = training_disks(32, seed=0)
    spec = get_config().run(DiskAEConfig(bias=True), steps=3, reg="type1", seed=5)
    spec = spec.override({"batch_size": 8, "trainer.progress": False, "init_seed": 0})
    histories = []
    for _ in range(2):
        trainer = build_run(spec, data).trainer()
        trainer.fit()
        histories.append(trainer.history)
    assert histories[0] == histories[1]
    assert set(histories[0]) == {"loss", "recon", "reg", "z_abs_mean"}
    assert len(histories[0]["loss"]) == 3
    # init_seed None: the weights come from torch's global generator as it stands
    torch.manual_seed(0)
    global_draw = build_run(spec.override(init_seed=None), data).model
    seeded = build_run(spec, data).model
    for a, b in zip(global_draw.parameters(), seeded.parameters(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ParameterError, match="reg must be one of"):
        spec.override(reg="type4")
    with pytest.raises(ParameterError, match="DiskRun"):
        build_run(get_config(), data)


def test_fit_disk_ae_trains_in_quick_mode_without_writing_a_checkpoint(capsys):
    settings = setup(device="cpu", seed=0, quick=True, train="auto")
    name = "quick_mode_test_never_written"
    chapter = replace(get_config(), quick_steps=3)  # the notebook's edit is obeyed
    model, history = fit_disk_ae(
        settings,
        chapter,
        name,
        DiskAEConfig(),
        training_disks(16, seed=0),
        steps=999,
    )
    assert len(history["loss"]) == 3
    assert not pretrained_path(f"taking_apart/{name}").with_suffix(".pt").exists()
    assert "checkpoint not written" in capsys.readouterr().out
    z, sse, recon = codes_and_errors(model, training_disks(5, seed=1)[0])
    assert z.shape == (5,) and sse.shape == (5,) and recon.shape == (5, 1, 64, 64)


def test_the_shipped_checkpoints_were_trained_with_the_chapter_config():
    """One definition: the budgets and optimiser in get_config() are those of the shipped runs."""
    chapter = get_config()
    budgets = {"ae_bias": chapter.steps, "ae_nobias": chapter.steps}
    budgets["ae_nobias_max18"] = chapter.steps_restricted
    for reg in chapter.hole_regs:
        for seed in chapter.hole_seeds:
            budgets[f"hole_{reg}_seed{seed}"] = chapter.hole_steps
    records = sorted((PRETRAINED_DIR / "taking_apart").glob("*.json"))
    dcgans = [f"dcgan_hole_d{d}" for d in chapter.dcgan_code_sizes]
    assert sorted(p.stem for p in records) == sorted([*budgets, *dcgans])
    for path in records:
        record = json.loads(path.read_text())
        dcgan = path.stem.startswith("dcgan")
        steps = chapter.dcgan_steps if dcgan else budgets[path.stem]
        assert len(record["history"]["loss"]) == steps, path.stem
        assert record["meta"]["lr"] == (chapter.dcgan_lr if dcgan else chapter.lr), (
            path.stem
        )
        assert record["meta"]["batch_size"] == chapter.batch_size, path.stem
