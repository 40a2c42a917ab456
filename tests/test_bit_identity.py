"""bench/bit_identity.py: every chapter's recipe still trains the weights and histories of
the committed reference, bit for bit on the CPU, and a change of numerics is caught."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "bench" / "bit_identity_reference.json"


@pytest.fixture(scope="module")
def bit_identity():
    spec = importlib.util.spec_from_file_location(
        "_test_bit_identity", ROOT / "bench" / "bit_identity.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.mark.slow  # several seconds: left out of make test-fast
def test_every_recipe_trains_what_the_reference_records(bit_identity, capsys):
    assert bit_identity.main(["--check", str(REFERENCE)]) == 0
    out = capsys.readouterr().out
    assert "DIFFERENT" not in out and "all the same" in out
    reference = json.loads(REFERENCE.read_text())
    assert set(reference["cases"]) == set(bit_identity.CASES)
    assert reference["torch_threads"] == 1
    # every case trained its budget (a driver that trained nothing would hash its init)
    steps = {n: c["steps"] for n, c in reference["cases"].items()}
    assert all(s >= bit_identity.STEPS for s in steps.values()), steps


def test_a_changed_learning_rate_is_caught(bit_identity, monkeypatch, capsys):
    import lib.intro.recipes as intro

    config = intro.get_config()
    changed = dataclasses.replace(config, lr=config.lr * 1.01)
    monkeypatch.setattr(intro, "get_config", lambda: changed)
    assert bit_identity.main(["--check", str(REFERENCE), "--only", "intro"]) == 1
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith("intro/notebook "))
    assert row.split()[1:3] == ["DIFFERENT", "DIFFERENT"]
    # the drift table sees the two intro drivers part ways too
    assert any("intro/function vs intro/notebook" in line for line in lines)


def test_write_then_check_round_trips_and_a_bad_reference_is_refused(
    bit_identity, tmp_path, capsys
):
    ref = tmp_path / "ref.json"
    assert bit_identity.main(["--write", str(ref), "--only", "intro"]) == 0
    assert set(json.loads(ref.read_text())["cases"]) == {
        "intro/notebook",
        "intro/function",
    }
    assert bit_identity.main(["--check", str(ref), "--only", "intro"]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    from lib.cli import run_main

    assert run_main(bit_identity.main, ["--check", str(bad)]) == 2
    assert "not a bit-identity reference" in capsys.readouterr().err
