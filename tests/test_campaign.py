"""The campaign (experiments/campaign.py): paper-scale runs trained a GPU sitting at a time.

Two sittings of a tiny plan give the weights and records of one uninterrupted run, bit for bit
on the CPU; status names the right next run; the packed state stays under the file-size limit
and unpacks to the same bytes; landing writes the chapter's record line; bad input is refused
in one line with exit status 2 and nothing written.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
import torch

from lib.checkpoint import load_checkpoint, save_checkpoint
from lib.cli import run_main
from lib.errors import ConfigError, DataError
from lib.records import append_record

ROOT = Path(__file__).resolve().parents[1]
# what differs between two runs of the same numbers: clocks, and where each landed
CLOCKS = ("train_seconds", "score_seconds", "made_on", "campaign", "checkpoint")


def _campaign():
    spec = importlib.util.spec_from_file_location(
        "campaign", ROOT / "experiments" / "campaign.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


campaign = _campaign()


def _tiny_plan(tmp: Path, budget: int = 18) -> Path:
    """Chapter 02 at 18 steps, 2 seeds; curves in blocks of 4 steps before the last 6."""
    path = tmp / "plan.toml"
    path.write_text(
        f"""
[campaign]
history_every = 4
history_tail = 6
part_mib = 0.5
return_mib = 60
state_budget_mib = 40

[[rung]]
name = "tiny"
title = "chapter 02, a few steps"
chapter = "torus"
budget = {budget}
seeds = "0-1"
runs = ["faithful"]
judged_by = "lib.toroidal.TORUS_VERDICT_RULE"
steps_per_s = {{ faithful = [1, 2] }}
score_minutes = 0.01
state_mib = 3
land_records = "{tmp / "landed" / "ladder.jsonl"}"
land_weights = "{tmp / "landed" / "ladder_{run}_s{steps}_seed{seed}"}"

[[rung]]
name = "later"
title = "plan only"
chapter = ""
budget = 10
seeds = "0"
"""
    )
    return path


def _sitting(tmp: Path, plan: Path, name: str, *extra: str) -> Path:
    out = tmp / name
    argv = ["--plan", str(plan), "--state", str(tmp / "state")]
    argv += ["--ledger", str(tmp / "ledger.jsonl"), "sitting", "--minutes", "10"]
    argv += ["--device", "cpu", "--threads", "1", "--out", str(out)]
    argv += ["--work", str(tmp / f"work-{name}"), "--log-every", "5", *extra]
    assert campaign.main(argv) == 0
    return out


def _unpack(tmp: Path, plan: Path, out: Path) -> list[dict]:
    return campaign.unpack(
        out,
        campaign.load_plan(plan),
        tmp / "state",
        tmp / "ledger.jsonl",
    )


def _landed(tmp: Path) -> tuple[list[dict], dict]:
    lines = [
        json.loads(line)
        for line in (tmp / "landed" / "ladder.jsonl").read_text().splitlines()
    ]
    weights = {}
    for seed in (0, 1):
        base = tmp / "landed" / f"ladder_faithful_s18_seed{seed}"
        weights[seed] = (
            torch.load(base.with_suffix(".pt"), weights_only=True)["model"],
            json.loads(base.with_suffix(".json").read_text()),
        )
    return lines, weights


@pytest.mark.slow  # several seconds: left out of make test-fast
def test_two_sittings_give_the_uninterrupted_run_bit_for_bit(tmp_path, capsys):
    whole, split = tmp_path / "whole", tmp_path / "split"
    plans = {}
    for tmp in (whole, split):
        tmp.mkdir()
        plans[tmp] = _tiny_plan(tmp)

    # one uninterrupted sitting: trains, scores, packs; unpacking lands it
    out = _sitting(whole, plans[whole], "s1")
    (line,) = _unpack(whole, plans[whole], out)
    assert (line["steps_before"], line["steps_after"], line["status"]) == (
        0,
        18,
        "finished",
    )
    assert line["landed"] and not (whole / "state" / "tiny.faithful").exists()

    # two sittings: 11 steps, then the rest
    out1 = _sitting(split, plans[split], "s1", "--max-steps", "11")
    manifest = json.loads((out1 / campaign.RETURN_FILE).read_text())
    (entry,) = manifest["runs"]
    assert (entry["steps"], entry["status"]) == (11, "training")
    assert len(entry["parts"]) > 1  # 0.5 MiB parts: the state is split
    assert all(p["bytes"] <= 0.5 * 2**20 for p in entry["parts"])
    (line1,) = _unpack(split, plans[split], out1)
    assert (line1["steps_after"], line1["landed"]) == (11, [])
    with pytest.raises(DataError, match="in the ledger already"):
        _unpack(split, plans[split], out1)
    stored = campaign.read_manifest(split / "state" / "tiny.faithful")
    assert stored["steps"] == 11 and stored["parts"][0]["name"] == "state.tar.000"
    text, first = campaign.status_text(
        campaign.load_plan(plans[split]), split / "state", split / "ledger.jsonl"
    )
    assert first.id == "tiny.faithful" and "11 / 18 steps" in text
    assert "1 sittings" in text and "rung 2 later [plan only]" in text
    # the curves before the last 6 steps were folded into 4-step means (block 0), the
    # objective ("loss/s", read whole by chapter 02's plateau) was kept whole
    data = campaign.read_parts(split / "state" / "tiny.faithful", stored)
    campaign.extract(data, stored, split / "peek")
    summary = json.loads((split / "peek" / campaign.SUMMARY).read_text())
    folded = [k for k, v in summary["offsets"].items() if v == 4]
    assert folded and not any(k.split("/")[0] == "loss" for k in folded)

    out2 = _sitting(split, plans[split], "s2")
    (line2,) = _unpack(split, plans[split], out2)
    assert (line2["steps_before"], line2["steps_after"]) == (11, 18)
    assert line2["landed"] and not (split / "state" / "tiny.faithful").exists()
    with pytest.raises(DataError, match="in the ledger already"):
        _unpack(split, plans[split], out2)

    lines_a, weights_a = _landed(whole)
    lines_b, weights_b = _landed(split)
    assert [(r["seed"], r["steps"]) for r in lines_a] == [(0, 18), (1, 18)]
    for a, b in zip(lines_a, lines_b, strict=True):
        assert {k: v for k, v in a.items() if k not in CLOCKS} == {
            k: v for k, v in b.items() if k not in CLOCKS
        }
        assert a["checkpoint"].endswith(f"ladder_faithful_s18_seed{a['seed']}")
    for seed in (0, 1):
        (state_a, meta_a), (state_b, meta_b) = weights_a[seed], weights_b[seed]
        assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
        assert meta_a["history"] == meta_b["history"]
        assert meta_a["meta"]["history_steps"] == [4, 8, 12, 16, 18]
        assert len(meta_a["history"]["loss"]) == 5
    # chapter 02 reads the landed lines: its rule needs the codes and the plateau
    from lib.toroidal import load_ladder

    rows = load_ladder(whole / "landed" / "ladder.jsonl")
    assert len(rows) == 2 and len(rows[0]["val_phi"]) == 1000
    ledger = [json.loads(x) for x in (split / "ledger.jsonl").read_text().splitlines()]
    assert [(r["steps_before"], r["steps_after"]) for r in ledger] == [
        (0, 11),
        (11, 18),
    ]
    assert all(r["device"].startswith("cpu") and r["commit"] for r in ledger)
    text, first = campaign.status_text(
        campaign.load_plan(plans[split]), split / "state", split / "ledger.jsonl"
    )
    assert first is None and "rung 1 tiny [landed]" in text
    assert "next: rung 2 later has no command yet" in text


def test_the_plan_and_status_name_the_next_run(tmp_path):
    plan = campaign.load_plan(campaign.PLAN)
    assert [r.name for r in plan.rungs][:4] == [
        "pmp-10-epochs",
        "torus-30k",
        "atomic-authors-100k",
        "pmp-paper",
    ]
    assert plan.rungs[0].budget == 230_400 and plan.rungs[3].budget == 691_200
    assert not plan.rungs[4].trainable  # chapter 01: plan only
    for rung in plan.rungs:  # every rule named resolves
        module, _, name = rung.judged_by.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), name), str)
    state, ledger = tmp_path / "state", tmp_path / "ledger.jsonl"
    text, first = campaign.status_text(plan, state, ledger)
    assert first.id == "pmp-10-epochs.pmp" and "0 / 230,400 steps" in text

    def fake_state(run_id: str, steps: int, size: int, status: str = "training"):
        folder = state / run_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.json").write_text(
            json.dumps(
                {
                    "run": run_id,
                    "steps": steps,
                    "status": status,
                    "parts": [{"name": "state.tar.000", "bytes": size}],
                }
            )
        )

    # PMP is ahead and its state is small: Ada-GVAE, the least advanced, is next
    fake_state("pmp-10-epochs.pmp", 50_000, 1000)
    assert campaign.status_text(plan, state, ledger)[1].id == "pmp-10-epochs.adagvae"
    # PMP's state is large: Ada-GVAE's would not travel beside it, so PMP goes on
    fake_state("pmp-10-epochs.pmp", 50_000, 31 * 2**20)
    text, first = campaign.status_text(plan, state, ledger)
    assert first.id == "pmp-10-epochs.pmp" and "waits: its state" in text
    # rung 1 landed: rung 2's least advanced run is next
    for run in ("pmp-10-epochs.pmp", "pmp-10-epochs.adagvae"):
        append_record(ledger, {"sitting": "x", "run": run, "landed": ["somewhere"]})
    fake_state("torus-30k.faithful", 3000, 1000)
    text, first = campaign.status_text(plan, state, ledger)
    assert first.id == "torus-30k.decorrelated"
    assert "rung 1 pmp-10-epochs [landed]" in text and "3,000 / 30,000" in text


def test_curves_fold_the_same_whatever_the_sittings():
    settings = campaign.Settings(history_every=5, history_tail=7)
    values = {
        "loss": [float(i) for i in range(23)],
        "recon/0": [0.1 * i**2 for i in range(23)],
    }
    whole = campaign.new_summary(settings)
    campaign.fold_history(values, 23, whole, ("loss",), final=True)
    pieces = campaign.new_summary(settings)
    for step in (9, 16, 17, 23):  # sittings ending anywhere
        # what a resumed trainer holds at `step`: each curve from where it was folded on
        history = {k: v[pieces["offsets"].get(k, 0) : step] for k, v in values.items()}
        kept = campaign.fold_history(history, step, pieces, ("loss",), final=step == 23)
        if step < 23:
            assert (
                len(kept["recon/0"]) >= 7 and len(kept["loss"]) == step
            )  # tail; whole
    assert whole["blocks"] == pieces["blocks"] and whole["partial"] == pieces["partial"]
    assert whole["blocks"]["loss"] == [2.0, 7.0, 12.0, 17.0]
    assert whole["partial"]["loss"] == 21.0
    curves, ends = campaign.seed_curves(whole, 0, stacked=True)
    assert set(curves) == {"recon"} and ends == [5, 10, 15, 20, 23]
    irregular = campaign.new_summary(settings)
    campaign.fold_history({"odd": [1.0, 2.0]}, 23, irregular, final=True)
    assert irregular["irregular"] == {"odd": [1.0, 2.0]}


def test_packing_keeps_each_file_under_the_limit_and_unpacks_exactly(tmp_path):
    folder = tmp_path / "run"
    (folder / "models").mkdir(parents=True)
    rng = torch.Generator().manual_seed(0)
    files = {
        "a.pt": torch.randint(0, 256, (300_000,), generator=rng, dtype=torch.uint8),
        "records.jsonl": torch.randint(0, 256, (1,), dtype=torch.uint8),
        "models/b.json": torch.randint(
            0, 256, (70_000,), generator=rng, dtype=torch.uint8
        ),
    }
    for name, data in files.items():
        (folder / name).write_bytes(bytes(data.tolist()))
    data, listing = campaign.tar_files(folder, list(files))
    assert campaign.tar_files(folder, list(files))[0] == data  # the same bytes again
    limit = 64 * 1024
    parts = campaign.write_parts(data, tmp_path / "out", "r.tar", limit)
    assert len(parts) == -(-len(data) // limit) and all(
        p["bytes"] <= limit for p in parts
    )
    assert all((tmp_path / "out" / p["name"]).stat().st_size <= limit for p in parts)
    manifest = {
        "run": "r",
        "parts": parts,
        "files": listing,
        "tar": {"sha256": campaign._digest(data)},
    }
    again = campaign.read_parts(tmp_path / "out", manifest)
    campaign.extract(again, manifest, tmp_path / "back")
    for name in files:
        assert (tmp_path / "back" / name).read_bytes() == (folder / name).read_bytes()
    cut = tmp_path / "out" / parts[1]["name"]
    cut.write_bytes(cut.read_bytes()[:-1])
    with pytest.raises(DataError, match="cut or changed"):
        campaign.read_parts(tmp_path / "out", manifest)


def test_landing_writes_chapter_05s_record_line(tmp_path):
    from lib.pmp import get_config, load_grid, new_model

    plan_path = tmp_path / "plan.toml"
    plan_path.write_text(
        f"""
[campaign]
[[rung]]
name = "p"
chapter = "pmp"
budget = 6
seeds = "3"
runs = ["pmp"]
steps_per_s = {{ pmp = [1, 1] }}
land_records = "{tmp_path / "pmp" / "paper_scale.jsonl"}"
land_weights = "{tmp_path / "pmp" / "paper_{run}_s{steps}_seed{seed}"}"
"""
    )
    run = campaign.load_plan(plan_path).run("p.pmp")
    folder = tmp_path / "run"
    model = new_model("pmp", 3, get_config()).eval()
    save_checkpoint(
        folder / "models" / "pmp_seed3",
        model,
        model.config.to_dict(),
        meta={"run": "pmp", "seed": 3, "made_by": "experiments/reproduce.py"},
        step=6,
    )
    record = {
        "run": "pmp",
        "seed": 3,
        "steps": 6,
        "kind": "pmp",
        "metrics": {"MIG": 0.1},
    }
    append_record(folder / "records.jsonl", record)
    summary = campaign.new_summary(campaign.Settings(history_every=4, history_tail=4))
    history = {"loss": [3.0, 2.0, 1.0, 1.0, 0.5, 0.5], "recon": [1.0] * 6}
    campaign.fold_history(history, 6, summary, final=True)
    (folder / campaign.SUMMARY).write_text(json.dumps(summary))
    written = campaign.land_folder(run, folder, {"train_seconds": 1.0}, "s")
    again = campaign.land_folder(run, folder, {"train_seconds": 1.0}, "s")
    assert written == again  # landing twice writes no second line
    (line,) = load_grid(tmp_path / "pmp" / "paper_scale.jsonl")
    assert line["kind"] == "pmp" and line["seed"] == 3 and line["saved"] is True
    assert line["metrics"] == {"MIG": 0.1} and line["campaign"]["run"] == "p.pmp"
    landed = new_model("pmp", 0, get_config())
    ckpt = load_checkpoint(tmp_path / "pmp" / "paper_pmp_s6_seed3", landed)
    assert all(
        torch.equal(landed.state_dict()[k], v) for k, v in model.state_dict().items()
    )
    assert ckpt.history["loss"] == [1.75, 0.5] and ckpt.meta["history_steps"] == [4, 6]
    bad = tmp_path / "pmp" / "paper_pmp_s6_seed3.pt"
    bad.write_bytes(b"other weights")
    with pytest.raises(DataError, match="exists with other weights"):
        campaign.land_folder(run, folder, {}, "s")


@pytest.mark.parametrize(
    "argv, says",
    [
        (["sitting", "--minutes", "0", "--out", "{out}"], "--minutes"),
        (["sitting", "--minutes", "x", "--out", "{out}"], "--minutes"),
        (["sitting", "--minutes", "1", "--out", "{full}"], "must be an empty folder"),
        (
            ["sitting", "--minutes", "1", "--out", "{out}", "--max-steps", "0"],
            "max-steps",
        ),
        (["sitting", "--minutes", "1", "--out", "{out}", "--device", "gpu"], "device"),
        (["--plan", "{tmp}/none.toml", "status"], "no campaign plan"),
        (["--plan", "{bad}", "status"], "budget must be >= 1"),
        (["land", "nosuch.run"], "no run 'nosuch.run'"),
        (["unpack", "{tmp}"], "no campaign_return.json"),
        (["pack", "--work", "{tmp}", "--out", "{out}"], "holds no sitting"),
        (["bogus"], "invalid choice"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(tmp_path, capsys, argv, says):
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        _tiny_plan(tmp_path).read_text().replace("budget = 18", "budget = 0")
    )
    (tmp_path / "plan.toml").unlink()
    names = {"out": tmp_path / "out", "full": full, "tmp": tmp_path, "bad": bad}
    argv = [a.format(**names) for a in argv]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    state = ["--state", str(tmp_path / "state"), "--ledger", str(tmp_path / "l.jsonl")]
    try:
        code = run_main(campaign.main, state + argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert says in err[-1] and "Traceback" not in "\n".join(err)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_bad_plan_is_named():
    with pytest.raises(ConfigError, match="not a TOML plan"):
        campaign.load_plan(Path(__file__))
    assert os.path.exists(campaign.PLAN) and sys.version_info >= (3, 10)


def test_reproduce_scores_a_seed_only_while_the_sitting_has_time(tmp_path):
    import argparse

    reproduce = campaign._load_reproduce()

    def may_score(max_minutes, score_minutes):
        args = argparse.Namespace(
            out=tmp_path, max_minutes=max_minutes, score_minutes=score_minutes
        )
        sitting = reproduce.Sitting(args)
        return sitting.may_score(), sitting.done

    assert may_score(1.0, 2.0) == (False, False)  # the next sitting scores it
    assert may_score(1.0, 0.5) == (True, True)
    assert may_score(None, 2.0) == (True, True)  # no clock: score everything
    assert may_score(1.0, None) == (True, True)  # the option left out: as before
    with pytest.raises(SystemExit):
        reproduce.main(["atomic", "--score-minutes", "0", "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()
