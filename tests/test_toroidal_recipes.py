"""Tests for lib.toroidal.recipes, .measure and .record (chapter 02: recipes, measures, sweep record, script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from lib.errors import ConfigError, DataError, ParameterError
from lib.toroidal import (
    TORUS_SWEEP,
    TorusAEConfig,
    TorusAutoencoder,
    TorusLossWeights,
    TorusRun,
    build_run,
    evaluate_torus_ae,
    get_config,
    load_sweep,
    spec_from_sweep,
)
from lib.trainer import TrainerConfig

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


TINY = TorusAEConfig(channels=(4, 8, 8), hidden=16, classifier_hidden=8)


def tiny_spec(steps: int, **changes) -> TorusRun:
    spec = TorusRun(
        model=TINY,
        trainer=TrainerConfig(steps=steps, progress=False),
        batch_size=16,
    )
    return spec.override(changes)


def test_build_run_trains_records_terms_and_is_deterministic():
    x, y = tiny_data()
    spec = tiny_spec(5, seed=3).override(
        {"weights.spring": 100.0, "weights.quantile": 1000.0}
    )
    spec = spec.override({"weights.decorrelation": 1.0})
    runs = []
    for _ in range(2):
        parts = build_run(spec, x, y)
        before = [p.detach().clone() for p in parts.model.parameters()]
        trainer = parts.trainer()
        trainer.fit()
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
        after = parts.model.parameters()
        assert any(not torch.equal(a, b) for a, b in zip(before, after))
        runs.append(trainer.history["loss"])
    assert runs[0] == runs[1]  # same seed, same data: the same losses, step by step


def test_build_run_can_stop_and_go_on_and_leaves_the_global_rng_alone():
    x, y = tiny_data()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    parts_a, parts_b = build_run(tiny_spec(6), x, y), build_run(tiny_spec(6), x, y)
    assert torch.equal(torch.get_rng_state(), state)  # seeded_init forked it
    trainer_a = parts_a.trainer()
    trainer_a.fit(2)
    trainer_a.fit()
    parts_b.trainer().fit()
    for a, b in zip(parts_a.model.parameters(), parts_b.model.parameters()):
        assert torch.equal(a, b)


def test_build_run_rejects_mismatched_labels_and_a_foreign_spec():
    x, y = tiny_data()
    with pytest.raises(ValueError, match="differ in length"):
        build_run(tiny_spec(1), x, y[:10])
    with pytest.raises(ParameterError, match="TorusRun"):
        build_run(TrainerConfig(), x, y)


def test_the_run_spec_is_a_strict_config_tree():
    spec = get_config().run("plain", seed=2, steps=30)
    assert spec.weights == TorusLossWeights.plain() and spec.trainer.steps == 30
    assert TorusRun.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert spec_from_sweep({"spring": 3000, "lr": 1e-4}).weights.spring == 3000.0
    with pytest.raises(ConfigError, match="did you mean 'trainer.lr'"):
        spec.override({"lr": 1e-4})
    with pytest.raises(ConfigError, match="finite"):
        spec.override({"weights.spring": float("nan")})
    with pytest.raises(ParameterError, match="unknown settings"):
        spec_from_sweep({"sprng": 1.0})
    with pytest.raises(ParameterError, match="weights must be one of"):
        get_config().run("faithfull")


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


@pytest.mark.slow  # several seconds: left out of make test-fast
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


def _ladder_row(kind, seed, steps=5000, fall=0.01, judge=0.5):
    """A ladder row whose codes are uniform, copies (uniform marginals, one curve) or
    concentrated; ``fall`` and ``judge`` set its adequacy."""
    import numpy as np

    rng = np.random.default_rng(100 + seed)
    phi = rng.uniform(-np.pi, np.pi, (1000, 3))
    if kind == "copies":
        phi[:, 1] = phi[:, 0] + 0.5
        phi[:, 2] = -phi[:, 0]
    elif kind == "concentrated":
        phi = rng.vonmises(0.0, 1.0, (1000, 3))
    phi = np.mod(phi + np.pi, 2 * np.pi) - np.pi
    return {
        "run": "torus_faithful",
        "weights": "faithful",
        "seed": seed,
        "steps": steps,
        "val_phi": phi.tolist(),
        "objective": {"middle": 1.0, "end": 1.0 - fall, "fall": fall},
        "judge_accuracy_recon": judge,
    }


@pytest.mark.parametrize(
    "kinds, options, outcome, reason",
    [
        (["uniform"] * 3, {}, "reproduced", "all 3 seeds pass both"),
        (["copies"] * 3, {}, "partly reproduced", "fail the joint part"),
        (["concentrated"] * 3, {}, "not reproduced", "fail the marginal part"),
        (["uniform", "uniform", "concentrated"], {}, "inconclusive", "disagree"),
        (["uniform", "copies", "copies"], {}, "inconclusive", "disagree"),
        (["uniform"] * 3, {2: {"fall": 0.2}}, "inconclusive", "seed 2 (objective"),
        (["concentrated"] * 3, {0: {"judge": 0.15}}, "inconclusive", "judge on"),
    ],
)
def test_the_torus_verdict_rule_can_come_out_every_way(kinds, options, outcome, reason):
    from lib.toroidal import OUTCOMES, ladder_verdicts

    rows = [
        _ladder_row(kind, seed, **options.get(seed, {}))
        for seed, kind in enumerate(kinds)
    ]
    (rung,) = ladder_verdicts(rows)
    assert rung.outcome == outcome and outcome in OUTCOMES
    assert reason in rung.reason


def test_the_headline_is_the_highest_rung_whose_seeds_are_all_adequate():
    from lib.toroidal import (
        TORUS_VERDICT_RULE,
        format_ladder,
        headline_verdict,
        ladder_verdicts,
    )

    rows = [_ladder_row("copies", s, steps=1000, fall=0.3) for s in range(3)]
    rows += [_ladder_row("copies", s, steps=5000) for s in range(3)]
    rows += [_ladder_row("uniform", s, steps=30000, judge=0.1) for s in range(3)]
    rungs = ladder_verdicts(rows)
    assert [r.steps for r in rungs] == [1000, 5000, 30000]
    assert [r.outcome for r in rungs][::2] == ["inconclusive", "inconclusive"]
    head = headline_verdict(rungs)
    assert (head.steps, head.outcome) == (5000, "partly reproduced")
    # no adequate rung: the highest one, inconclusive
    head = headline_verdict([rungs[0], rungs[2]])
    assert (head.steps, head.outcome) == (30000, "inconclusive")
    table = format_ladder(rungs)
    assert table.count("=> ") == 3 and "partly reproduced" in table
    assert "written on 2026-12-07" in TORUS_VERDICT_RULE
    assert "Kuiper" in TORUS_VERDICT_RULE


def test_a_rung_needs_three_distinct_seeds_of_one_budget():
    from lib.toroidal import rung_verdict, seed_result

    results = [seed_result(_ladder_row("uniform", s)) for s in range(3)]
    with pytest.raises(ValueError, match="at least 3"):
        rung_verdict(results[:2])
    with pytest.raises(ValueError, match="twice"):
        rung_verdict([results[0], results[0], results[1]])
    other = seed_result(_ladder_row("uniform", 3, steps=1000))
    with pytest.raises(ValueError, match="one budget"):
        rung_verdict([*results[:2], other])
    with pytest.raises(ValueError, match="needs"):
        seed_result({"seed": 0})


def test_objective_plateau_is_zero_on_a_flat_run_and_large_while_falling():
    import numpy as np

    from lib.toroidal import objective_plateau

    assert objective_plateau([2.0] * 100)["fall"] == 0
    falling = objective_plateau(np.linspace(10, 1, 100))
    assert falling["fall"] > 0.4 and falling["middle"] > falling["end"]
    with pytest.raises(ValueError, match="at least 10"):
        objective_plateau([1.0] * 5)
    with pytest.raises(ValueError, match="non-finite"):
        objective_plateau([1.0] * 9 + [float("nan")])


def test_ladder_fields_keep_the_codes_the_judge_and_the_plateau():
    from lib.toroidal import ladder_fields, new_torus_ae, seed_result
    from lib.toroidal.model import DigitJudge, DigitJudgeConfig

    model = new_torus_ae(get_config().model, 0, "cpu")
    judge = DigitJudge(DigitJudgeConfig())
    images = torch.rand(120, 1, 28, 28)
    labels = torch.randint(0, 10, (120,))
    fields = ladder_fields(model, judge, images, labels, [3.0] * 20)
    assert len(fields["val_phi"]) == 120 and len(fields["val_phi"][0]) == 3
    assert 0 <= fields["judge_accuracy_recon"] <= 1
    assert fields["objective"]["fall"] == 0
    row = {"seed": 0, "steps": 20, **fields}
    assert seed_result(row).converged


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


def test_the_chapters_numbers_come_from_the_shipped_records():
    from lib.toroidal import (
        TORUS_GPU_RECORD,
        gpu_findings,
        largest_correlation,
        load_sweep,
        plot_budget_curve,
        sweep_findings,
        worst_ks,
    )

    rows = load_sweep(last_only=False)
    found = sweep_findings(rows)
    last = {r["name"]: r for r in load_sweep()}
    assert (
        found["sweep_30k_worst"]
        == worst_ks(last["s30k"])
        == max(last["s30k"]["val"]["ks"])
    )
    assert found["sweep_1k_low"] <= found["sweep_1k_high"]
    assert found["sweep_copies_low"] >= 0.5  # the faithful runs' angles are copies
    gpu_rows = load_sweep(TORUS_GPU_RECORD, last_only=False)
    gpu = gpu_findings(gpu_rows)
    assert gpu["gpu_steps"] == 30_000 and gpu["gpu1_steps"] == 20_000
    assert gpu["gpu_ks_low"] <= gpu["gpu_worst_ks"] <= gpu["gpu_ks_high"]
    assert gpu["gpu_dec_corr"] == largest_correlation(
        [r for r in gpu_rows if r["name"] == "gpu-long-decorrelated"][-1]
    )
    with pytest.raises(ValueError, match="lacks the runs"):
        sweep_findings([r for r in rows if r["name"] != "s30k"])
    fig = plot_budget_curve(rows[:5], gpu_rows, (0.03, 0.045))
    assert fig.axes[0].get_yscale() == "log"
    labels = fig.axes[0].get_legend().get_texts()
    assert any("truly uniform" in t.get_text() for t in labels)
    plt.close(fig)


def test_the_ladder_figure_and_evaluation_line():
    from lib.toroidal import (
        format_evaluation,
        format_on_data,
        ladder_verdicts,
        plot_ladder,
    )

    rows = [_ladder_row("copies", s) for s in range(3)]
    rows += [_ladder_row("uniform", s, steps=1000, fall=0.3) for s in range(3)]
    fig = plot_ladder(ladder_verdicts(rows))
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["1,000 steps\ninconclusive", "5,000 steps\npartly reproduced"]
    plt.close(fig)
    ev = {
        "ks": np.array([0.1, 0.2, 0.3]),
        "r2": torch.ones(10, 3),
        "mse": 0.05,
        "bce": 170.0,
        "accuracy": 0.4,
    }
    line = format_evaluation("toroidal AE", ev)
    assert "KS per angle [0.100, 0.200, 0.300]" in line and "classifier 40 %" in line
    table = format_on_data({"a": torch.linspace(0, 1, 11)}, {"a": torch.ones(11)})
    assert "0.5000" in table and "(11 images)" in table
