"""The scripts' front door (lib.cli): bad arguments end in exit status 2 and a message
naming the argument, before anything is trained or written."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pytest
from hostile_surfaces import READ_ONLY

from lib.cli import MAX_SEEDS, int_at_least, real_at_least, run_main, seed_list, threads
from lib.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]


def _script(folder: str, name: str):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_argument_types_refuse_what_they_cannot_mean():
    assert int_at_least(1)("3") == 3
    assert real_at_least(0, strict=True)("1e-3") == 1e-3
    assert seed_list("0-2,5,1") == (0, 1, 2, 5)
    for parse, bad in [
        (int_at_least(1), "0"),
        (int_at_least(0), "-1"),
        (int_at_least(1), "2.5"),
        (real_at_least(0), "-1"),
        (real_at_least(0), "nan"),
        (real_at_least(0, strict=True), "0"),
        (seed_list, "3-1"),
        (seed_list, f"0-{MAX_SEEDS}"),  # one too many, refused without building it
        (seed_list, "0-999999999"),
        (seed_list, "a"),
        (threads, "0"),
        (threads, "100000"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)


def test_run_main_turns_a_library_error_into_one_line_and_status_2(capsys):
    def main(argv):
        raise ParameterError("--steps must be >= 1, got 0\n(details)")

    assert run_main(main, []) == 2
    err = capsys.readouterr().err
    assert err == "script: error: --steps must be >= 1, got 0\n"
    assert run_main(lambda argv: None, []) == 0


def _status(main, argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    return stop.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, named",
    [
        (["--name", "t", "--every", "-1", "--out", "r.jsonl"], "--every"),
        (["--name", "t", "--steps", "0", "--out", "r.jsonl"], "--steps"),
        (["--name", "t", "--spring", "-1", "--out", "r.jsonl"], "--spring"),
        (["--name", "t", "--threads", "0", "--out", "r.jsonl"], "--threads"),
        (["--name", "t", "--lr", "0", "--out", "r.jsonl"], "--lr"),
    ],
)
def test_torus_sweep_refuses_bad_numbers(tmp_path, monkeypatch, capsys, argv, named):
    monkeypatch.chdir(tmp_path)
    code, err = _status(_script("experiments", "torus_sweep").main, argv, capsys)
    assert code == 2 and named in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv, named",
    [
        (["--evaluate-every", "0", "--out", "r.jsonl"], "--evaluate-every"),
        (["--steps", "0", "--out", "r.jsonl"], "--steps"),
        (["--sigma", "-2", "--out", "r.jsonl"], "--sigma"),
    ],
)
def test_atomic_spikes_refuses_bad_numbers(tmp_path, monkeypatch, capsys, argv, named):
    monkeypatch.chdir(tmp_path)
    code, err = _status(_script("experiments", "atomic_spikes").main, argv, capsys)
    assert code == 2 and named in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "extra, named",
    [
        (["--max-minutes", "-1"], "--max-minutes"),
        (["--seeds", "0-999999999"], "--seeds"),
        (["--threads", "0"], "--threads"),
        (["--budget", "0"], "--budget"),
        (["--log-every", "0"], "--log-every"),
        (["--set", "trainer.lrr=1e-4"], "did you mean 'trainer.lr'"),
        (["--set", "weights.spring=-1"], "--set"),
        (["--set", "trainer.lr"], "PATH=VALUE"),
        (["--set", "seed=3"], "--seeds"),
    ],
)
def test_reproduce_checks_everything_before_it_makes_its_folder(
    tmp_path, capsys, extra, named
):
    out = tmp_path / "run"
    reproduce = _script("experiments", "reproduce")
    code, err = _status(reproduce.main, ["torus", *extra, "--out", str(out)], capsys)
    assert code == 2 and (named in err or "budget" in err)
    assert not out.exists()
    code, err = _status(
        reproduce.main, ["torus", "--budget", "paper", "--out", str(out)], capsys
    )
    assert code == 2 and "no training budget" in err and not out.exists()


def test_a_sweep_with_no_matching_trial_stops_and_keeps_the_old_record(
    tmp_path, capsys
):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "records.jsonl").write_text('{"name": "earlier"}\n')
    sweep = _script("experiments", "sweep")
    code, err = _status(
        sweep.main, ["torus", "--seeds", "7", "--in-process", "--out", str(out)], capsys
    )
    assert code == 2 and "no trial" in err
    assert (out / "records.jsonl").read_text() == '{"name": "earlier"}\n'


def test_the_grid_script_refuses_a_seed_or_kind_with_all(capsys):
    grid = _script("experiments", "pmp_grid")
    for argv in (["--all", "--seed", "1"], ["--ablation", "--kind", "pmp"]):
        code, err = _status(grid.main, argv, capsys)
        assert code == 2 and "--all and --ablation" in err


def test_notebook_times_measuring_nothing_leaves_the_record(tmp_path, capsys):
    out = tmp_path / "times.json"
    out.write_text("{}\n")
    times = _script("bench", "notebook_times")
    code, err = _status(times.main, ["--only", "99", "--out", str(out)], capsys)
    assert code == 2 and "--only" in err
    assert out.read_text() == "{}\n"


# ---- output paths, shipped files and the one-line wrapper (issue 44, the second pass) ----
def test_output_paths_are_checked_without_creating_anything(tmp_path):
    from lib.cli import output_file, output_folder

    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    new = tmp_path / "new" / "r.jsonl"
    assert output_file(str(new)) == new
    assert not (tmp_path / "new").exists()  # nothing made to find out
    assert output_folder(str(tmp_path / "run")) == tmp_path / "run"
    for parse, bad, says in [
        (output_file, "", "must name a file"),
        (output_file, str(tmp_path), "is a folder"),
        (output_file, str(a_file / "r.jsonl"), "is a file, not a folder"),
        (output_file, str(READ_ONLY / "r.jsonl"), "cannot write"),
        (output_folder, str(a_file), "is a file"),
        (output_folder, str(READ_ONLY / "run"), "cannot write"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=says):
            parse(bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_record_to_append_to_must_be_a_record(tmp_path):
    from lib.cli import record_file

    record = tmp_path / "r.jsonl"
    # a last line cut by a kill is not judged: append_record sets it aside
    record.write_text('{"step": 1}\n{"step": 2, "cut')
    assert record_file(str(record)) == record
    for name, text in [
        ("README.md", "# notes\n"),
        ("nb.ipynb", '{\n "cells": []\n}\n'),
    ]:
        (tmp_path / name).write_text(text)
        with pytest.raises(argparse.ArgumentTypeError, match="not a JSON-lines record"):
            record_file(str(tmp_path / name))


def test_a_shipped_path_needs_the_maintainers_flag():
    from lib.checkpoint import PRETRAINED_DIR as PRETRAINED
    from lib.cli import refuse_shipped

    refuse_shipped(None, "--out")
    refuse_shipped("runs/r.jsonl", "--out")
    with pytest.raises(ParameterError, match="--out .* pass --update-shipped"):
        refuse_shipped(PRETRAINED / "pmp" / "grid.jsonl", "--out")
    with pytest.raises(ParameterError, match="--save .* outside lib/pretrained"):
        refuse_shipped(PRETRAINED / "judges" / "x", "--save", flag=None)


def test_seeds_and_sizes_have_bounds():
    from lib.cli import MAX_STEPS, seed_value

    assert seed_value("4294967295") == 2**32 - 1
    assert int_at_least(1, MAX_STEPS)(str(MAX_STEPS)) == MAX_STEPS
    for parse, bad in [
        (seed_value, str(2**32)),
        (seed_value, "-1"),
        (seed_value, "x"),
        (int_at_least(1, MAX_STEPS), str(MAX_STEPS + 1)),
    ]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)


def test_run_main_gives_one_line_for_files_and_the_books_own_checks(tmp_path, capsys):
    def folder_as_file(argv):
        open(tmp_path)  # IsADirectoryError: an OSError naming the path

    def library_value_error(argv):
        from lib.device import resolve_device

        resolve_device("gpu")

    def a_bug(argv):
        return {}["a key"]

    assert run_main(folder_as_file, []) == 2
    assert str(tmp_path) in capsys.readouterr().err
    assert run_main(library_value_error, []) == 2
    assert capsys.readouterr().err.count("\n") == 1
    with pytest.raises(KeyError):  # a bug keeps its traceback
        run_main(a_bug, [])


def test_torus_sweep_checks_its_record_before_training(tmp_path, capsys):
    notes = tmp_path / "notes.md"
    notes.write_text("# mine\n")
    torus = _script("experiments", "torus_sweep").main
    for out, says in [(notes, "not a JSON-lines record"), (tmp_path, "is a folder")]:
        assert run_main(torus, ["--name", "t", "--out", str(out)]) == 2
        assert says in capsys.readouterr().err
    assert notes.read_text() == "# mine\n"
