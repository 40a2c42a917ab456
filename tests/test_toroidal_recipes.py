"""Tests for lib.toroidal.recipes, .measure and .record (chapter 02: recipes, measures, sweep record, script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lib.errors import DataError
from lib.toroidal import (
    TORUS_SWEEP,
    TorusAEConfig,
    TorusAutoencoder,
    TorusLossWeights,
    evaluate_torus_ae,
    get_config,
    load_sweep,
    torus_trainer,
    train_torus_ae,
)

ROOT = Path(__file__).resolve().parents[1]


def tiny_data(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(
        0, 10, (n,), generator=g
    )


def tiny_model(seed: int = 0) -> TorusAutoencoder:
    torch.manual_seed(seed)
    return TorusAutoencoder(
        TorusAEConfig(channels=(4, 8, 8), hidden=16, classifier_hidden=8)
    )


def test_train_torus_ae_runs_records_terms_and_is_deterministic():
    x, y = tiny_data()
    weights = TorusLossWeights(spring=100.0, quantile=1000.0, decorrelation=1.0)
    runs = []
    for _ in range(2):
        model = tiny_model()
        before = [p.detach().clone() for p in model.parameters()]
        trainer = train_torus_ae(
            model, x, y, weights, steps=5, batch_size=16, seed=3, progress=False
        )
        assert trainer.step == 5
        assert set(trainer.history) >= {
            "loss",
            "recon",
            "spring",
            "quantile",
            "classifier",
            "decorrelation",
        }
        assert all(len(v) == 5 for v in trainer.history.values())
        assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
        runs.append(trainer.history["loss"])
    assert runs[0] == runs[1]  # same seed, same data: the same losses, step by step


def test_torus_trainer_can_stop_and_go_on():
    x, y = tiny_data()
    weights = TorusLossWeights()
    model_a, model_b = tiny_model(), tiny_model()
    trainer_a = torus_trainer(
        model_a, x, y, weights, steps=6, batch_size=16, progress=False
    )
    trainer_a.fit(2)
    trainer_a.fit()
    train_torus_ae(model_b, x, y, weights, steps=6, batch_size=16, progress=False)
    for a, b in zip(model_a.parameters(), model_b.parameters()):
        assert torch.equal(a, b)


def test_train_torus_ae_rejects_mismatched_labels():
    x, y = tiny_data()
    with pytest.raises(ValueError, match="differ in length"):
        train_torus_ae(tiny_model(), x, y[:10], TorusLossWeights(), steps=1)


def test_evaluate_torus_ae_shapes_and_ranges():
    x, y = tiny_data(n=50)
    model = tiny_model()
    model.train()
    ev = evaluate_torus_ae(model, x, y)
    assert model.training  # the caller's mode is restored
    assert ev["phi"].shape == ev["r2"].shape == (50, 3) and ev["z"].shape == (50, 6)
    assert ev["ks"].shape == (3,) and np.all((ev["ks"] >= 0) & (ev["ks"] <= 1))
    assert ev["corr"].shape == (3, 3) and np.allclose(np.diag(ev["corr"]), 1.0)
    assert 0 <= ev["accuracy"] <= 1 and ev["mse"] > 0 and ev["bce"] > 0
    # the MSE is the mean over pixels of the model's own reconstructions
    with torch.no_grad():
        recon = model(x).recon
    assert ev["mse"] == pytest.approx(torch.mean((recon - x) ** 2).item(), rel=1e-6)


def test_sweep_script_runs_and_summarises(tmp_path):
    out = tmp_path / "sweep.jsonl"
    script = ROOT / "experiments" / "torus_sweep.py"
    env_cmd = [sys.executable, str(script), "--out", str(out)]
    subprocess.run(
        env_cmd + ["--name", "tiny", "--steps", "2", "--every", "1", "--spring", "10"],
        check=True,
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert rows[-1]["spring"] == 10 and len(rows[-1]["val"]["ks"]) == 3
    summary = subprocess.run(
        env_cmd + ["--summary"],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert (
        "tiny" in summary and summary.count("\n") == 2
    )  # header + the last point of the one run


def test_load_sweep_keeps_last_point_of_each_run_in_order(tmp_path):
    path = tmp_path / "s.jsonl"
    rows = [
        {"name": "b", "step": 1},
        {"name": "a", "step": 1},
        {"name": "b", "step": 2},
        {"name": "a", "step": 2},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert load_sweep(path) == [{"name": "b", "step": 2}, {"name": "a", "step": 2}]
    assert load_sweep(path, last_only=False) == rows


def test_load_sweep_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="torus_sweep.py"):
        load_sweep(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "a", "step": 1}\nnot json\n')
    with pytest.raises(DataError, match="bad.jsonl:2"):
        load_sweep(bad)


def test_shipped_sweep_record_is_complete():
    """The chapter reads this record; every run in it reached its planned number of steps."""
    runs = load_sweep(TORUS_SWEEP)
    assert len(runs) >= 8
    for run in runs:
        assert run["step"] == run["steps"], run["name"]
        assert len(run["val"]["ks"]) == 3 and all(0 <= v <= 1 for v in run["val"]["ks"])


def test_shipped_torus_checkpoints_use_the_chapter_config():
    """The sweep and the notebook build the same network; the shipped autoencoders are that network."""
    for name in ("torus_ae", "plain_ae", "torus_ae_decorrelated"):
        record = json.loads((TORUS_SWEEP.parent / f"{name}.json").read_text())
        assert TorusAEConfig.from_dict(record["config"]) == get_config().model, name


def test_sweep_script_writes_only_where_it_is_told(tmp_path):
    """Updating the shipped record is an explicit flag, never the default."""
    script = ROOT / "experiments" / "torus_sweep.py"
    before = TORUS_SWEEP.read_bytes()
    result = subprocess.run(
        [sys.executable, str(script), "--name", "x", "--steps", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "--update-shipped" in result.stderr
    assert TORUS_SWEEP.read_bytes() == before


def test_the_torus_verdict_rule_can_come_out_every_way():
    import numpy as np

    from lib.analysis import torus_uniformity_tests
    from lib.toroidal import (
        TORUS_VERDICT_RULE,
        marginal_uniformity,
        torus_claim_verdict,
    )

    rng = np.random.default_rng(0)
    uniform = torus_uniformity_tests(rng.uniform(-np.pi, np.pi, (1000, 3)))
    copies = rng.uniform(-np.pi, np.pi, (1000, 3))
    copies[:, 1] = copies[:, 0]
    curve = torus_uniformity_tests(copies)
    assert torus_claim_verdict([0.02, 0.03, 0.04], uniform) == "reproduced"
    assert torus_claim_verdict([0.02, 0.03, 0.04], curve) == "partly reproduced"
    assert torus_claim_verdict([0.02, 0.06, 0.04], uniform) == "partly reproduced"
    assert torus_claim_verdict([0.2, 0.3, 0.1], curve) == "not reproduced"
    assert not marginal_uniformity([0.05])  # the goal is strict
    assert "family-wise" in TORUS_VERDICT_RULE
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        marginal_uniformity([1.5])
    with pytest.raises(ValueError, match="no KS"):
        marginal_uniformity([])
    with pytest.raises(TypeError, match="torus_uniformity_tests"):
        torus_claim_verdict([0.02], True)


def test_the_shipped_gpu_record_reads_like_the_sweep():
    """The H200 runs chapter 02 plots: three runs, each row naming its GPU and source."""
    from lib.toroidal import TORUS_GPU_RECORD, load_sweep

    rows = load_sweep(TORUS_GPU_RECORD, last_only=False)
    last = {r["name"]: r for r in rows}
    assert set(last) == {
        "gpu-long-faithful",
        "gpu-long-faithful-s1",
        "gpu-long-decorrelated",
    }
    assert last["gpu-long-faithful"]["step"] == 30_000
    assert all(r["gpu"] == "NVIDIA H200" and r["source"] for r in rows)
    assert all(len(r["val"]["ks"]) == 3 and len(r["val"]["corr"]) == 3 for r in rows)
