"""Grids of training runs as sweeps (lib/sweep.py, experiments/sweep.py).

In this process: each chapter's trial trains what its chapter's script trains, an interrupted
trial resumes to the uninterrupted run's numbers, records merge into a shipped record only by
key. Through Ray Tune (the last test, an embedded Ray): a 2-trial sweep of chapter 03's grid
in which one trial's process is killed mid-way and resumes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lib.errors import ConfigError, ParameterError
from lib.sweep import (
    Resources,
    TrialContext,
    TrialSpec,
    compare_records,
    flat_scalars,
    merge_records,
    run_trial,
    trial_folder,
)

ROOT = Path(__file__).resolve().parents[1]


def _sweep_command():
    spec = importlib.util.spec_from_file_location(
        "sweep_command", ROOT / "experiments" / "sweep.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path.with_suffix(".pt"), weights_only=True)["model"]


def _without_clock(lines: list[dict]) -> list[dict]:
    """Record lines without what a clock or the attempt decides."""
    drop = {
        "seconds",
        "train_seconds",
        "pairs_per_second",
        "score_seconds",
        "attempt",
        "resumed_from_step",
    }
    return [{k: v for k, v in line.items() if k not in drop} for line in lines]


# --------------------------------------------------------------------------------------------
# checks at the door
# --------------------------------------------------------------------------------------------
def test_specs_resources_and_contexts_refuse_bad_input(tmp_path):
    for bad in ({"threads": 0}, {"gpu": -0.5}, {"gpu": 1.5}, {"threads": 1.0}):
        with pytest.raises(ParameterError):
            Resources(**bad)
    assert Resources(threads=2, gpu=0.25).ray() == {"cpu": 2, "gpu": 0.25}
    assert Resources(gpu=0.25).device == "cuda" and Resources().device == "cpu"
    with pytest.raises(ParameterError, match="folder"):
        TrialSpec("a/b", "lib.pmp.recipes:grid_trial")
    with pytest.raises(ParameterError, match="package.module:function"):
        TrialSpec("a", "lib.pmp.recipes.grid_trial")
    with pytest.raises(ParameterError, match="JSON"):
        TrialSpec("a", "lib.pmp.recipes:grid_trial", {"x": object()})
    for bad in ({"checkpoint_steps": 0}, {"interrupt": "stop"}, {"report_every": -1}):
        with pytest.raises(ParameterError):
            TrialContext(tmp_path, **bad)
    with pytest.raises(ConfigError, match="no function"):
        run_trial(TrialSpec("a", "lib.pmp.recipes:no_such_trial"), tmp_path)
    with pytest.raises(ParameterError, match="unknown parameters"):
        run_trial(
            TrialSpec("b", "lib.pmp.recipes:grid_trial", {"kind": "pmp", "x": 1}),
            tmp_path,
        )
    assert not (
        trial_folder(tmp_path, "a") / "attempts"
    ).exists()  # refused before a start


def test_flat_scalars_flatten_what_tune_shows():
    flat = flat_scalars(
        {"a": 1, "v": {"ks": [0.1, 0.2], "m": {"x": 2.0}}, "s": "t", "n": None}
    )
    assert flat == {
        "a": 1,
        "v/ks/0": 0.1,
        "v/ks/1": 0.2,
        "v/m/x": 2.0,
        "s": "t",
        "n": "None",
    }


# --------------------------------------------------------------------------------------------
# each chapter's trial, in this process
# --------------------------------------------------------------------------------------------
@pytest.mark.slow  # several seconds: left out of make test-fast
def test_a_pmp_trial_trains_the_grid_scripts_model_and_writes_its_record(tmp_path):
    from lib.data.dsprites import DSprites
    from lib.notebook import setup
    from lib.pmp import checkpoint_name, fit_pmp_model, get_config, load_grid

    params = {"kind": "pmp", "seed": 1, "steps": 6, "quick_sizes": True}
    spec = TrialSpec("pmp_seed1", "lib.pmp.recipes:grid_trial", params)
    lines = run_trial(spec, tmp_path, Resources(threads=torch.get_num_threads()))
    settings = setup(device="cpu", seed=1, train="always", save="none")
    script = fit_pmp_model(settings, get_config(), DSprites(), "pmp", 1, steps=6)
    trial = _weights(trial_folder(tmp_path, "pmp_seed1") / checkpoint_name("pmp", 1))
    assert all(torch.equal(trial[k], v) for k, v in script.model.state_dict().items())
    (line,) = lines
    assert (line["kind"], line["seed"], line["steps"], line["pairs"]) == (
        "pmp",
        1,
        6,
        6 * 32,
    )
    assert line["attempt"] == 1 and line["resumed_from_step"] is None
    assert {"MIG", "DCI D", "BetaVAE"} <= set(
        line["metrics"]
    ) and "factor_accuracy" in line
    record = tmp_path / "grid.jsonl"
    record.write_text(json.dumps(line) + "\n")
    assert load_grid(record)[0]["metrics"] == line["metrics"]  # the chapter's reader


TINY = {
    "torus": (
        "lib.toroidal.recipes:sweep_trial",
        {"name": "t", "steps": 6, "every": 3},
    ),
    "atomic": (
        "lib.atomic.recipes:spike_trial",
        {"steps": 6, "evaluate_every": 3, "n_test": 64, "batch": 8, "drawn_steps": 3},
    ),
}


@pytest.mark.parametrize("chapter", sorted(TINY))
@pytest.mark.slow  # several seconds: left out of make test-fast
def test_an_interrupted_trial_resumes_to_the_uninterrupted_run(tmp_path, chapter):
    trial, params = TINY[chapter]
    spec = TrialSpec("run", trial, params)
    whole = run_trial(spec, tmp_path / "whole", checkpoint_steps=2)
    split = tmp_path / "split"
    options = {"checkpoint_steps": 2, "interrupt_at_step": 5, "interrupt": "raise"}
    # checkpoints at 2 and 3 (measured); stopped at 5, before the checkpoint of 5
    with pytest.raises(KeyboardInterrupt):
        run_trial(spec, split, **options)
    assert not (trial_folder(split, "run") / "record.jsonl").exists()
    resumed = run_trial(spec, split, **options)
    assert [line["step"] for line in resumed] == [3, 6]
    assert {(x["attempt"], x["resumed_from_step"]) for x in resumed} == {(2, 3)}
    assert _without_clock(resumed) == _without_clock(whole)
    a = _weights(trial_folder(tmp_path / "whole", "run") / "checkpoint" / "run")
    b = _weights(trial_folder(split, "run") / "checkpoint" / "run")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert run_trial(spec, split) == resumed  # finished: read back, not trained again
    assert len((trial_folder(split, "run") / "attempts").read_text().splitlines()) == 2


@pytest.mark.slow  # several seconds: left out of make test-fast
def test_a_torus_trial_writes_the_shipped_sweeps_format(tmp_path):
    from lib.toroidal import format_sweep, load_sweep

    spec = TrialSpec("t", *TINY["torus"])
    lines = run_trial(spec, tmp_path)
    record = tmp_path / "sweep.jsonl"
    record.write_text("".join(json.dumps(x) + "\n" for x in lines))
    (last,) = load_sweep(record)
    assert last["step"] == 6 and len(last["val"]["ks"]) == 3 and last["threads"] == 1
    assert "t " in format_sweep([last])


def test_the_torus_grid_is_the_shipped_sweep():
    from lib.toroidal import TORUS_SWEEP, get_config, load_sweep

    command = _sweep_command()
    args = command.argparse.Namespace(seeds=None, budget=None)
    specs = {s.name: s.params for s in command.torus_grid(args)}
    shipped = {row["name"]: row for row in load_sweep(TORUS_SWEEP)}
    assert set(specs) == set(shipped)
    chapter = get_config()
    weights = chapter.torus_weights
    defaults = {  # what sweep_trial takes for a parameter the grid leaves out
        "seed": 0,
        "batch_size": chapter.batch_size,
        "lr": chapter.lr,
        "every": 250,
        **{k: getattr(weights, k) for k in ("quantile", "classifier", "decorrelation")},
    }
    keys = ("seed", "steps", "every", "batch_size", "lr", "spring", "quantile")
    for name, params in specs.items():
        for key in (*keys, "classifier", "decorrelation"):
            assert params.get(key, defaults.get(key)) == shipped[name][key], (name, key)


def test_the_pmp_grid_is_the_chapters_seeds_times_models():
    from lib.pmp import MODEL_KINDS, get_config

    command = _sweep_command()
    args = command.argparse.Namespace(seeds=None, budget=None, quick_sizes=False)
    specs = command.pmp_grid(args)
    seeds = get_config().seeds
    assert [(s.params["kind"], s.params["seed"]) for s in specs] == [
        (k, seed) for seed in seeds for k in MODEL_KINDS
    ]
    assert all("steps" not in s.params for s in specs)  # the chapter's budget


# --------------------------------------------------------------------------------------------
# shipped records
# --------------------------------------------------------------------------------------------
def test_merging_replaces_the_same_runs_and_keeps_the_others(tmp_path):
    path = tmp_path / "grid.jsonl"
    old = [{"kind": "pmp", "seed": s, "v": "old"} for s in (0, 1, 2)]
    path.write_text("".join(json.dumps(x) + "\n" for x in old))
    new = [
        {"kind": "pmp", "seed": 1, "v": "new"},
        {"kind": "pmp", "seed": 3, "v": "new"},
    ]
    assert merge_records(new, path, lambda x: (x["kind"], x["seed"])) == (1, 2)
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(r["seed"], r["v"]) for r in rows] == [
        (0, "old"),
        (2, "old"),
        (1, "new"),
        (3, "new"),
    ]


def test_comparing_with_a_shipped_record_names_the_largest_difference():
    shipped = [
        {"kind": "pmp", "seed": 0, "metrics": {"MIG": 0.5, "D": [1, 2]}, "seconds": 9}
    ]
    same = [{**shipped[0], "seconds": 3, "attempt": 2}]  # a clock is not a result
    other = [{**shipped[0], "metrics": {"MIG": 0.25, "D": [1, 2]}}]
    absent = [{"kind": "pmp", "seed": 7}]

    def key(line):
        return (line["kind"], line["seed"])

    (entry,) = compare_records(same, shipped, key)
    assert entry["identical"] and entry["compared"] == 4
    (entry,) = compare_records(other, shipped, key)
    assert not entry["identical"] and entry["where"] == "metrics/MIG"
    assert entry["largest_difference"] == 0.25
    assert compare_records(absent, shipped, key) == [
        {"run": ("pmp", 7), "found": False}
    ]


def test_a_folder_of_other_parameters_is_refused_not_read_back(tmp_path):
    spec = TrialSpec("t", *TINY["atomic"])
    run_trial(spec, tmp_path)
    longer = TrialSpec("t", spec.trial, {**spec.params, "steps": 9})
    with pytest.raises(ConfigError, match="another --out"):
        run_trial(longer, tmp_path)


@pytest.mark.slow  # several seconds: left out of make test-fast
def test_update_shipped_merges_the_sweeps_runs_into_the_record(tmp_path, monkeypatch):
    from lib.files import file_digest
    from lib.toroidal import TORUS_SWEEP

    command = _sweep_command()
    shipped = tmp_path / "sweep.jsonl"
    old = [{"name": n, "step": 1000, "v": "old"} for n in ("s1k", "s3k")]
    shipped.write_text("".join(json.dumps(x) + "\n" for x in old))
    monkeypatch.setattr(command, "TORUS_BASE", {"spring": 10_000.0, "steps": 4})
    monkeypatch.setattr(
        command, "shipped_record", lambda grid: (shipped, lambda line: line["name"])
    )
    digest = file_digest(TORUS_SWEEP)
    argv = ["torus", "--trials", "s1k", "--in-process", "--out", str(tmp_path / "o")]
    assert command.main(argv) == 0
    assert shipped.read_text().splitlines() == [json.dumps(x) for x in old]  # not asked
    assert command.main([*argv, "--update-shipped"]) == 0
    rows = [json.loads(x) for x in shipped.read_text().splitlines()]
    assert [(r["name"], r["step"]) for r in rows] == [("s3k", 1000), ("s1k", 4)]
    assert rows[1]["made_by"] == "experiments/sweep.py"
    assert file_digest(TORUS_SWEEP) == digest


@pytest.mark.slow  # several seconds: left out of make test-fast
def test_the_command_changes_no_shipped_record_unless_asked(tmp_path, monkeypatch):
    command = _sweep_command()
    monkeypatch.setenv("BOOK_CACHE", str(tmp_path / "cache"))
    argv = ["torus", "--trials", "s1k", "--budget", "4", "--in-process"]
    assert command.main([*argv, "--out", str(tmp_path / "out")]) == 0
    rows = (tmp_path / "out" / "records.jsonl").read_text().splitlines()
    assert json.loads(rows[-1])["name"] == "s1k" and json.loads(rows[-1])["step"] == 4
    for refused in (
        [*argv, "--update-shipped"],  # not the chapter's budget
        ["atomic", "--update-shipped", "--in-process"],  # no shipped grid record
        ["pmp", "--kill-trial", "pmp_seed0"],  # without --kill-at-step
        ["pmp", "--kill-trial", "nope", "--kill-at-step", "3"],
        ["torus", "--trials", "nope", "--list"],
        ["torus", "--budget", "paper", "--list"],  # the paper states no torus budget
    ):
        with pytest.raises(SystemExit):
            command.main(refused)


# --------------------------------------------------------------------------------------------
# through Ray Tune
# --------------------------------------------------------------------------------------------
@pytest.mark.slow  # several seconds: left out of make test-fast
def test_a_two_trial_sweep_on_ray_resumes_a_killed_trial(tmp_path):
    pytest.importorskip("ray", reason='Ray Tune is the optional extra ".[sweep]"')
    out = tmp_path / "sweep"
    trials = ["k2_sigma2_seed0", "k2_sigma3_seed0"]  # chapter 03's grid: quick steps
    argv = ["atomic", "--trials", ",".join(trials), "--budget", "6", "--quick-sizes"]
    argv += [
        "--checkpoint-steps",
        "2",
        "--kill-trial",
        trials[1],
        "--kill-at-step",
        "5",
    ]
    argv += ["--out", str(out), "--quiet"]
    env = {**os.environ, "RAY_ADDRESS": "", "RAY_DISABLE_USAGE_STATS": "1"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "sweep.py"), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    assert [(x["sweep_trial"], x["step"]) for x in lines] == [(t, 6) for t in trials]
    first, killed = lines
    assert (first["attempt"], first["resumed_from_step"]) == (1, None)
    assert (killed["attempt"], killed["resumed_from_step"]) == (2, 4)  # killed at 5
    assert (trial_folder(out, trials[1]) / "interrupted").read_text().strip() == "5"
    assert killed["args"]["sigma"] == 3.0 and killed["test_mse"] > 0
    # the killed trial's numbers are those of the same trial never interrupted
    command = _sweep_command()
    args = command.argparse.Namespace(seeds=None, budget=6, quick_sizes=True)
    spec = next(s for s in command.atomic_grid(args) if s.name == trials[1])
    alone = run_trial(spec, tmp_path / "alone", checkpoint_steps=2)
    assert _without_clock([killed]) == _without_clock(alone)
