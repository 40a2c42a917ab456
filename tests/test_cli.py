"""The scripts' front door (lib.cli): bad arguments end in exit status 2 and a message
naming the argument, before anything is trained or written."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

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
