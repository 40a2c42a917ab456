"""Bad input on the surfaces around the library (issue 44): the command-line scripts, the
``BOOK_*`` settings, the notebook API, the course build and the checkpoint cache.

``tests/hostile.py`` throws bad arguments at the library's functions; this module throws them
at what a user touches around it, and says how each was met:

- ``clear``: a refusal in one line that names the bad argument, setting or file (a script:
  exit status 2, or the status the case documents, and one line on stderr (after
  argparse's usage lines) naming the input, no traceback; a function: the library's own error, as
  :func:`hostile.classify` judges it), nothing written, changed or deleted before the refusal,
  or, for a value that has a meaning (``BOOK_QUICK=" TRUE "``), the right answer;
- ``silent``: the bad input accepted: exit status 0, a wrong answer, training started, or a
  file written, changed or deleted before the input was refused;
- ``raw``: a Python traceback (the library's own message inside one counts here too, and is
  listed apart), an exit status or message that does not name the input, or more than the
  one line;
- ``hang``: no answer within the case's time limit.

A script case runs the script as ``python SCRIPT ARGS`` would, in this process: the script is
loaded once, and its ``if __name__ == "__main__":`` block runs with ``sys.argv`` set, stdout
and stderr captured, the working folder a fresh temporary folder, ``BOOK_CACHE`` a temporary
folder and ``BOOK_OFFLINE=1``. The functions that start the real work (the trainer's ``fit``,
a sweep, a notebook run, otter's assign, pmp_grid's child runs) are replaced for the case by
one that stops it: a bad input that reaches them was accepted. A few cases run as
subprocesses with a time limit and a memory limit, where only a process shows the behaviour
(a seed list that would fill the memory, a loop that would never end).

    python tests/hostile_surfaces.py            # every case, counts per surface and outcome
    python tests/hostile_surfaces.py -v         # and every case's line (what came back)
    python tests/hostile_surfaces.py --issue    # only the cases the issue lists
    python tests/hostile_surfaces.py --list     # each case's command or call, run nothing

``tests/test_hostile_surfaces.py`` asserts every case is clear.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import importlib
import importlib.util
import io
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import OUTCOMES, ROOT, Case, _raised_in_lib, classify  # noqa: E402

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NAN, INF = math.nan, math.inf
OURS_IN_A_TRACEBACK = "the library's own message in a traceback"
SURFACES = ("scripts", "settings", "notebook API", "course build", "checkpoint cache")
PRETRAINED = ROOT / "lib" / "pretrained"


def read_only_folder() -> Path:
    """A folder this process cannot write in: a folder made read-only for a user, and for
    root (who writes in any folder of a disk) sysfs or procfs, which take no files."""
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        import atexit

        folder = Path(tempfile.mkdtemp(prefix="hostile-read-only-"))
        folder.chmod(0o555)
        atexit.register(lambda: (folder.chmod(0o755), folder.rmdir()))
        return folder
    for folder in (Path("/sys/fs"), Path("/proc/self")):
        try:
            handle, probe = tempfile.mkstemp(dir=folder)
        except OSError:
            return folder
        os.close(handle)
        os.unlink(probe)
    return Path("/sys/fs")


READ_ONLY = read_only_folder()


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="hostile-surfaces-"))


# --------------------------------------------------------------------------------------------
# script cases
# --------------------------------------------------------------------------------------------
Argv = Sequence[str] | Callable[[Path], Sequence[str]]


@dataclass(frozen=True)
class Script:
    """``python SCRIPT *argv`` must refuse in one line naming ``names``, with ``code``.

    ``argv``, ``env`` and ``prepare`` may take the case's fresh temporary folder; ``watch``
    lists files outside it (shipped ones) that must not change (they are restored if they
    do). ``process``: run as a subprocess (a time and memory limit of its own)."""

    id: str
    script: str
    argv: Argv
    names: str
    code: int = 2
    env: dict[str, str] | Callable[[Path], dict[str, str]] = field(default_factory=dict)
    prepare: Callable[[Path], None] | None = None
    watch: Sequence[Path] = ()
    seconds: int = 60
    process: bool = False
    issue: bool = False  # one of the cases the issue lists
    slow: bool = False  # left out of the suite's run (test_hostile_surfaces.py)


@dataclass(frozen=True)
class Answer:
    """A value that has a meaning (or a call that must act rightly): ``check()`` returns
    ``None`` when the answer is right, else what was wrong."""

    id: str
    check: Callable[[], str | None]
    seconds: int = 60
    issue: bool = False
    slow: bool = False


@dataclass(frozen=True)
class Api:
    """A :class:`hostile.Case` with its place in the report."""

    case: Case
    issue: bool = False
    slow: bool = False

    @property
    def id(self) -> str:
        return self.case.id


# Where each script lives, and how ``python -m`` names the two modules among them.
SCRIPTS = {
    "torus_sweep": "experiments/torus_sweep.py",
    "atomic_spikes": "experiments/atomic_spikes.py",
    "judge_demo": "experiments/judge_demo.py",
    "train_factor_judge": "experiments/train_factor_judge.py",
    "pmp_grid": "experiments/pmp_grid.py",
    "reproduce": "experiments/reproduce.py",
    "sweep": "experiments/sweep.py",
    "campaign": "experiments/campaign.py",
    "notebook_times": "bench/notebook_times.py",
    "lib.course": "lib/course.py",
    "lib.nbtools": "lib/nbtools.py",
}
_LOADED: dict[str, tuple[Any, Any]] = {}


def _load(script: str):
    """``(module, code of its __main__ block)``, loaded once."""
    if script in _LOADED:
        return _LOADED[script]
    path = ROOT / SCRIPTS[script]
    if script.startswith("lib."):
        module = importlib.import_module(script)
    else:
        spec = importlib.util.spec_from_file_location(f"_hostile_{script}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    tree = ast.parse(path.read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and getattr(node.test.left, "id", None) == "__name__"
    )
    code = compile(ast.Module(body=block.body, type_ignores=[]), str(path), "exec")
    _LOADED[script] = module, code
    return module, code


class _Started(BaseException):
    """Raised by the stand-ins of the functions that start the work."""


class _Hang(BaseException):
    pass


def _work_stand_ins(script: str, module) -> list[tuple[Any, str]]:
    """``(owner, attribute)`` of every function that starts the real work of ``script``."""
    import lib.course
    import lib.judge
    import lib.sweep
    import lib.trainer

    owners: list[tuple[Any, str]] = [
        (lib.trainer.Trainer, "fit"),
        (lib.judge, "train_factor_judge"),
        (lib.sweep, "run_sweep"),
        (lib.sweep, "run_trial"),
        (lib.course, "otter_assign"),
    ]
    for name in ("train_factor_judge", "run_sweep", "run_trial", "run_seconds"):
        if name in vars(module):
            owners.append((module, name))
    if script == "pmp_grid":  # its --all runs each model as a child process
        owners.append((module.subprocess, "run"))
    return owners


@contextlib.contextmanager
def _stand_ins(owners):
    def stop(*args, **kwargs):
        raise _Started()

    saved = [(owner, name, getattr(owner, name)) for owner, name in owners]
    try:
        for owner, name in owners:
            setattr(owner, name, stop)
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


_SESSION: dict[str, Path] = {}


def _session_cache() -> Path:
    """One cache folder for every script case of this process (MNIST's parsed digits)."""
    if "cache" not in _SESSION:
        _SESSION["cache"] = _tmp()
    return _SESSION["cache"]


BASE_ENV = {"BOOK_OFFLINE": "1", "BOOK_NO_PROGRESS": "1"}
CLEARED = ("BOOK_SAVE", "BOOK_PREFER_CACHE", "BOOK_QUICK", "BOOK_STATIC", "BOOK_DATA")


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = dict(os.environ)
    try:
        for name in CLEARED:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _files(folder: Path, skip: Sequence[str] = ()) -> dict[str, str]:
    """``{relative path: sha256}`` of the files under ``folder``."""
    found = {}
    if not folder.is_dir():
        return found
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and not any(rel.startswith(s) for s in skip):
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    made = sorted(set(after) - set(before))
    gone = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return (
        [f"wrote {k}" for k in made]
        + [f"deleted {k}" for k in gone]
        + [f"changed {k}" for k in changed]
    )


def _resolve(value, tmp: Path):
    return value(tmp) if callable(value) else value


def _judge_stderr(err: str, names: str) -> tuple[str, str]:
    """How a refusing script's stderr reads: one line naming ``names``, after argparse's
    usage lines (if any)."""
    if "Traceback (most recent call last)" in err:
        return "raw", "a traceback on stderr: " + err.strip().splitlines()[-1][:160]
    lines = [line for line in err.splitlines() if line.strip()]
    if not lines:
        return "raw", "refused with nothing on stderr"
    *before, last = lines
    usage = True
    for line in before:
        if line.startswith("usage:"):
            continue
        if usage and line.startswith(" "):
            continue
        usage = False
        return "raw", f"more than one line: {line[:120]!r} before {last[:120]!r}"
    if names.lower() not in last.lower():
        return "raw", f"does not name {names!r}: {last[:200]!r}"
    return "clear", last[:200]


def _in_process(
    case: Script, tmp: Path, argv: list[str]
) -> tuple[str, int | None, str]:
    """Run the script's main block here: ``(how it ended, exit status, stderr)``."""
    import torch

    module, code = _load(case.script)
    threads = torch.get_num_threads()  # scripts set it for the process
    out, err = io.StringIO(), io.StringIO()
    ended, status = "exit", None
    saved_argv, saved_cwd = sys.argv, os.getcwd()

    def on_alarm(signum, frame):
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(case.seconds)
    try:
        sys.argv = [str(ROOT / SCRIPTS[case.script]), *argv]
        os.chdir(tmp)
        with (
            _stand_ins(_work_stand_ins(case.script, module)),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                exec(code, vars(module))
                status = 0
            except SystemExit as stop:
                if stop.code is None or isinstance(stop.code, int):
                    status = stop.code or 0
                else:  # sys.exit("text"): Python prints it and exits 1
                    print(stop.code, file=sys.stderr)
                    status = 1
    except _Started:
        ended = "started"
    except _Hang:
        ended = "hang"
    except Exception as exc:
        from lib.errors import BookError

        ours = isinstance(exc, BookError) or _raised_in_lib(exc)
        ended = "ours in a traceback" if ours else "traceback"
        err.write(traceback.format_exc())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        torch.set_num_threads(threads)
    return ended, status, err.getvalue()


def _as_process(
    case: Script, tmp: Path, argv: list[str]
) -> tuple[str, int | None, str]:
    """Run the script as a process with a time limit and 4 GiB of address space."""
    path = SCRIPTS[case.script]
    command = (
        [sys.executable, "-m", case.script]
        if case.script.startswith("lib.")
        else [sys.executable, str(ROOT / path)]
    )

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    try:
        done = subprocess.run(
            command + argv,
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=case.seconds,
            preexec_fn=limit,
        )
    except subprocess.TimeoutExpired:
        return "hang", None, ""
    if done.returncode < 0:
        return "killed", done.returncode, done.stderr
    return "exit", done.returncode, done.stderr


def run_script(case: Script) -> tuple[str, str]:
    """``(outcome, detail)`` of a script case (see the module docstring)."""
    tmp = _tmp()
    try:
        if case.prepare is not None:
            case.prepare(tmp)
        argv = list(_resolve(case.argv, tmp))
        env = {
            **BASE_ENV,
            "BOOK_CACHE": str(_session_cache()),
            **_resolve(case.env, tmp),
        }
        watched = {p: p.read_bytes() for p in case.watch if p.is_file()}
        before = _files(tmp)
        cache_before = _files(_session_cache(), skip=("data/",))
        with _environment(env):
            run = _as_process if case.process else _in_process
            ended, status, err = run(case, tmp, argv)
        changes = _changes(before, _files(tmp))
        changes += [
            f"cache: {c}"
            for c in _changes(cache_before, _files(_session_cache(), skip=("data/",)))
        ]
        for path, data in watched.items():
            if not path.is_file() or path.read_bytes() != data:
                changes.append(f"changed the shipped {path.relative_to(ROOT)}")
                path.write_bytes(data)  # put it back
        if ended == "hang":
            return "hang", f"no answer in {case.seconds} s"
        if ended == "killed":
            return "hang", f"killed by signal {-status} (memory or time)"
        if ended in ("traceback", "ours in a traceback"):
            last = err.strip().splitlines()[-1]
            if ended == "traceback":
                return "raw", f"traceback: {last[:200]}"
            return "raw", f"{OURS_IN_A_TRACEBACK}: {last[:200]}"
        if ended == "started":
            return "silent", "accepted: the work started" + (
                f" ({'; '.join(changes)})" if changes else ""
            )
        if changes:
            return "silent", f"exit {status} after it {'; '.join(changes)[:200]}"
        if status == 0:
            return "silent", "exit 0"
        outcome, detail = _judge_stderr(err, case.names)
        if outcome == "clear" and status != case.code:
            return "raw", f"exit {status}, not {case.code}: {detail}"
        return outcome, f"exit {status}: {detail}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_answer(case: Answer) -> tuple[str, str]:
    def on_alarm(signum, frame):
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(case.seconds)
    try:
        with _environment({**BASE_ENV, "BOOK_CACHE": str(_tmp())}):
            wrong = case.check()
    except _Hang:
        return "hang", f"no answer in {case.seconds} s"
    except Exception as exc:
        return "raw", f"{type(exc).__name__}: {exc}"[:240]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return ("silent", wrong) if wrong else ("clear", "the right answer")


def run_api(case: Api) -> tuple[str, str]:
    with (
        _environment({**BASE_ENV, "BOOK_CACHE": str(_tmp())}),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        return classify(case.case)


def run_case(case) -> tuple[str, str]:
    if isinstance(case, Script):
        return run_script(case)
    if isinstance(case, Answer):
        return run_answer(case)
    return run_api(case)


# --------------------------------------------------------------------------------------------
# helpers the cases share
# --------------------------------------------------------------------------------------------
def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _file(name: str, text: str | bytes = "a user's file\n"):
    """``prepare``: a file ``name`` in the case's folder."""
    return lambda tmp: _write(tmp / name, text) and None


def _t(*parts: str) -> Callable[[Path], str]:
    """A path inside the case's folder, for an ``argv`` built with :func:`_argv`."""
    return lambda tmp: str(tmp.joinpath(*parts))


def _argv(*items) -> Callable[[Path], list[str]]:
    """``argv`` whose items may be :func:`_t` paths."""
    return lambda tmp: [item(tmp) if callable(item) else item for item in items]


def _shipped(rel: str) -> Path:
    return PRETRAINED / rel


# --------------------------------------------------------------------------------------------
# the cases, surface by surface
# --------------------------------------------------------------------------------------------
def script_cases() -> list[Script]:
    from lib.cli import MAX_SEEDS

    cases: list[Script] = []

    def add(*args, **kwargs):
        cases.append(Script(*args, **kwargs))

    # ---- experiments/torus_sweep.py ----
    out = ("--out", _t("r.jsonl"))
    torus = ("--name", "t", *out)
    for flag, value, issue in [
        ("--every", "-1", True),
        ("--steps", "0", True),
        ("--spring", "-1", True),
        ("--threads", "0", True),
        ("--every", "0", False),
        ("--steps", "-5", False),
        ("--steps", "1.5", False),
        ("--steps", "nan", False),
        ("--steps", "", False),
        ("--seed", "-1", False),
        ("--seed", str(2**32), False),
        ("--seed", "abc", False),
        ("--batch-size", "0", False),
        ("--batch-size", str(10**12), False),
        ("--lr", "0", False),
        ("--lr", "nan", False),
        ("--lr", "inf", False),
        ("--lr", "-1e-3", False),
        ("--spring", "nan", False),
        ("--spring", "inf", False),
        ("--quantile", "-1", False),
        ("--classifier", "nan", False),
        ("--decorrelation", "inf", False),
        ("--threads", "-1", False),
        ("--threads", "1000000", False),
        ("--threads", "two", False),
    ]:
        add(
            f"torus_sweep {flag} {value!r}",
            "torus_sweep",
            _argv(*torus, flag, value),
            flag,
            issue=issue,
        )
    for value, names in [("gpu", "device"), ("cuda", "cuda"), ("cuda:x", "device")]:
        add(
            f"torus_sweep --device {value}",
            "torus_sweep",
            _argv(*torus, "--device", value),
            names,
        )
    add(
        "torus_sweep --out a folder",
        "torus_sweep",
        _argv("--name", "t", "--out", _t("folder")),
        "--out",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "torus_sweep --out under a file",
        "torus_sweep",
        _argv("--name", "t", "--out", _t("file.txt", "r.jsonl")),
        "--out",
        prepare=_file("file.txt"),
    )
    add(
        "torus_sweep --out in a read-only folder",
        "torus_sweep",
        ["--name", "t", "--out", str(READ_ONLY / "r.jsonl")],
        "--out",
    )
    add(
        "torus_sweep --out the shipped record, without --update-shipped",
        "torus_sweep",
        ["--name", "t", "--out", str(_shipped("toroidal/sweep.jsonl"))],
        "--update-shipped",
        watch=(_shipped("toroidal/sweep.jsonl"),),
    )
    add("torus_sweep --out ''", "torus_sweep", ["--name", "t", "--out", ""], "--out")
    add("torus_sweep no --name", "torus_sweep", _argv(*out), "--name")
    add("torus_sweep --name ''", "torus_sweep", _argv("--name", "", *out), "--name")
    add(
        "torus_sweep --out and --update-shipped",
        "torus_sweep",
        _argv(*torus, "--update-shipped"),
        "--update-shipped",
    )
    add(
        "torus_sweep --summary of a missing record",
        "torus_sweep",
        _argv("--summary", "--out", _t("none.jsonl")),
        "none.jsonl",
    )
    add(
        "torus_sweep --summary of a cut record",
        "torus_sweep",
        _argv("--summary", "--out", _t("cut.jsonl")),
        "cut.jsonl",
        prepare=_file("cut.jsonl", '{"name": "s1k", "step": 25'),
    )
    add(
        "torus_sweep --summary of a folder",
        "torus_sweep",
        _argv("--summary", "--out", _t("folder")),
        "folder",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "torus_sweep --summary of another chapter's record",
        "torus_sweep",
        _argv("--summary", "--out", _t("grid.jsonl")),
        "grid.jsonl",
        prepare=lambda tmp: shutil.copy(_shipped("pmp/grid.jsonl"), tmp / "grid.jsonl"),
    )
    add(
        "torus_sweep --batch-size above the training digits",
        "torus_sweep",
        _argv(*torus, "--batch-size", "100000"),
        "batch",
    )

    # ---- --out a user's file that is not a record: nothing glued to its end ----
    for script, argv in [
        ("torus_sweep", ("--name", "t")),
        ("atomic_spikes", ()),
        ("judge_demo", ("--steps", "2")),
        ("pmp_grid", ("--kind", "pmp", "--no-save")),
    ]:
        for what, name, text in [
            ("a README", "README.md", "# My notes\n\nthe plan.\n"),
            ("a notebook", "mine.ipynb", '{\n "cells": [],\n "nbformat": 4\n}\n'),
            ("a JSON list per line", "rows.jsonl", "[1, 2]\n[3, 4]\n"),
        ]:
            add(
                f"{script} --out {what}",
                script,
                _argv(*argv, "--out", _t(name)),
                name,
                prepare=_file(name, text),
            )

    # ---- experiments/atomic_spikes.py ----
    for flag, value, names, issue in [
        ("--evaluate-every", "0", "--evaluate-every", True),
        ("--steps", "0", "--steps", True),
        ("--sigma", "-2", "--sigma", False),
        ("--sigma", "0", "--sigma", False),
        ("--sigma", "nan", "--sigma", False),
        ("--size", "7", "--size", False),
        ("--size", "48", "size", False),
        ("--size", "1048576", "size", False),
        ("--spikes", "0", "--spikes", False),
        ("--spikes", "100000", "spikes", False),
        ("--margin", "-1", "--margin", False),
        ("--margin", "40", "margin", False),
        ("--separation", "1000", "separation", False),
        ("--separation", "inf", "--separation", False),
        ("--batch", "0", "--batch", False),
        ("--batch", str(10**12), "--batch", False),
        ("--lr", "0", "--lr", False),
        ("--n-test", "0", "--n-test", False),
        ("--n-test", str(10**12), "--n-test", False),
        ("--seed", "2000", "seed", False),
        ("--seed", "-1", "--seed", False),
        ("--device", "gpu", "device", False),
        ("--device", "cuda", "cuda", False),
    ]:
        add(
            f"atomic_spikes {flag} {value!r}",
            "atomic_spikes",
            _argv(*out, flag, value),
            names,
            issue=issue,
        )
    add(
        "atomic_spikes no --out",
        "atomic_spikes",
        ["--steps", "1"],
        "--out",
    )
    add(
        "atomic_spikes --out a folder",
        "atomic_spikes",
        _argv("--out", _t("folder")),
        "--out",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "atomic_spikes --out in a read-only folder",
        "atomic_spikes",
        ["--out", str(READ_ONLY / "r.jsonl")],
        "--out",
    )
    add(
        "atomic_spikes --out under a file",
        "atomic_spikes",
        _argv("--out", _t("file.txt", "r.jsonl")),
        "--out",
        prepare=_file("file.txt"),
    )
    add(
        "atomic_spikes --out a shipped record",
        "atomic_spikes",
        ["--out", str(_shipped("atomic/h200_authors_spikes.jsonl"))],
        "--out",
        watch=(_shipped("atomic/h200_authors_spikes.jsonl"),),
    )
    add(
        "atomic_spikes --evaluate-every 0 (a process: it looped for ever)",
        "atomic_spikes",
        _argv("--evaluate-every", "0", "--steps", "2", *out),
        "--evaluate-every",
        process=True,
        seconds=120,
        issue=True,
        slow=True,
    )

    # ---- experiments/judge_demo.py ----
    demo = ("--steps", "2", "--every", "1", *out)
    for flag, value, names in [
        ("--steps", "0", "--steps"),
        ("--every", "0", "--every"),
        ("--every", "-3", "--every"),
        ("--seed", "-1", "--seed"),
        ("--seed", str(2**40), "--seed"),
        ("--threads", "0", "--threads"),
        ("--images", "mine", "--images"),
    ]:
        add(
            f"judge_demo {flag} {value!r}",
            "judge_demo",
            _argv(*demo, flag, value),
            names,
            issue=(flag, value) == ("--threads", "0"),
        )
    add(
        "judge_demo --save in a read-only folder",
        "judge_demo",
        _argv(*demo, "--save", str(READ_ONLY / "ae")),
        "--save",
    )
    add(
        "judge_demo --save a folder",
        "judge_demo",
        _argv(*demo, "--save", _t("folder")),
        "--save",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "judge_demo --save under a file",
        "judge_demo",
        _argv(*demo, "--save", _t("file.txt", "ae")),
        "--save",
        prepare=_file("file.txt"),
    )
    add(
        "judge_demo --save the shipped judge",
        "judge_demo",
        _argv(*demo, "--save", str(_shipped("judges/dsprites_factor_judge"))),
        "--save",
        watch=(
            _shipped("judges/dsprites_factor_judge.pt"),
            _shipped("judges/dsprites_factor_judge.json"),
        ),
    )
    add(
        "judge_demo --out a folder",
        "judge_demo",
        _argv("--steps", "2", "--out", _t("folder")),
        "--out",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "judge_demo --out the shipped record, without --update-shipped",
        "judge_demo",
        ["--steps", "2", "--out", str(_shipped("judges/judge_demo.jsonl"))],
        "--update-shipped",
        watch=(_shipped("judges/judge_demo.jsonl"),),
    )
    add(
        "judge_demo --score a missing checkpoint",
        "judge_demo",
        _argv("--score", _t("none"), *out),
        "none",
    )
    add(
        "judge_demo --score a checkpoint of another model",
        "judge_demo",
        _argv("--score", str(_shipped("intro/warmup_ae")), *out),
        "Conv64Autoencoder",
    )
    add(
        "judge_demo --score a cut checkpoint",
        "judge_demo",
        _argv("--score", _t("cut"), *out),
        "cut",
        prepare=lambda tmp: (
            (
                _write(tmp / "cut.pt", b"PK\x03\x04 cut"),
                _write(tmp / "cut.json", '{"format_version": 1, "sha'),
            )
            and None
        ),
    )
    add(
        "judge_demo --score with --out in a read-only folder",
        "judge_demo",
        ["--score", "x", "--out", str(READ_ONLY / "r.jsonl")],
        "--out",
    )

    # ---- experiments/train_factor_judge.py ----
    judge = ("--steps", "1", "--out", _t("judge"))
    for flag, value, names in [
        ("--steps", "0", "--steps"),
        ("--batch", "0", "--batch"),
        ("--batch", str(10**12), "--batch"),
        ("--lr", "nan", "--lr"),
        ("--lr", "-1", "--lr"),
        ("--seed", "-1", "--seed"),
        ("--seed", "1", "--eval-seed"),
        ("--n-eval", "0", "--n-eval"),
        ("--n-eval", str(10**12), "--n-eval"),
        ("--threads", "0", "--threads"),
        ("--threads", "1000000", "--threads"),
        ("--steps", "ten", "--steps"),
    ]:
        add(
            f"train_factor_judge {flag} {value!r}",
            "train_factor_judge",
            _argv(*judge, flag, value),
            names,
        )
    add(
        "train_factor_judge --out a folder",
        "train_factor_judge",
        _argv("--out", _t("folder")),
        "--out",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "train_factor_judge --out in a read-only folder",
        "train_factor_judge",
        ["--out", str(READ_ONLY / "judge")],
        "--out",
    )
    add(
        "train_factor_judge --out under a file",
        "train_factor_judge",
        _argv("--out", _t("file.txt", "judge")),
        "--out",
        prepare=_file("file.txt"),
    )
    add(
        "train_factor_judge --out the shipped judge, without --update-shipped",
        "train_factor_judge",
        ["--out", str(_shipped("judges/dsprites_factor_judge"))],
        "--update-shipped",
        watch=(
            _shipped("judges/dsprites_factor_judge.pt"),
            _shipped("judges/dsprites_factor_judge.json"),
        ),
    )
    add(
        "train_factor_judge neither --out nor --update-shipped",
        "train_factor_judge",
        [],
        "--out",
    )
    add(
        "train_factor_judge both --out and --update-shipped",
        "train_factor_judge",
        _argv(*judge, "--update-shipped"),
        "--out",
    )

    # ---- experiments/pmp_grid.py ----
    grid = ("--kind", "pmp", "--steps", "2", "--no-save", *out)
    for flag, value, names in [
        ("--seed", "-1", "--seed"),
        ("--seed", str(2**32), "--seed"),
        ("--steps", "0", "--steps"),
        ("--k-changed", "0", "--k-changed"),
        ("--k-changed", "6", "k"),
        ("--threads", "0", "--threads"),
        ("--device", "gpu", "device"),
        ("--device", "cuda", "cuda"),
    ]:
        add(
            f"pmp_grid {flag} {value!r}",
            "pmp_grid",
            _argv(*grid, flag, value),
            names,
            issue=(flag == "--threads"),
        )
    add("pmp_grid --kind vae", "pmp_grid", _argv("--kind", "vae", *out), "--kind")
    add("pmp_grid no --kind", "pmp_grid", _argv(*out), "--kind")
    for flags in (("--seed", "1"), ("--kind", "pmp"), ("--ablation",)):
        add(
            f"pmp_grid --all {' '.join(flags)}",
            "pmp_grid",
            _argv("--all", *flags, *out),
            "--all",
            issue=flags[0] in ("--seed", "--kind"),
        )
    add(
        "pmp_grid --no-save and --update-shipped",
        "pmp_grid",
        ["--kind", "pmp", "--no-save", "--update-shipped"],
        "--no-save",
    )
    add(
        "pmp_grid --out a folder",
        "pmp_grid",
        _argv("--kind", "pmp", "--no-save", "--out", _t("folder")),
        "--out",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "pmp_grid --out the shipped record, without --update-shipped",
        "pmp_grid",
        ["--kind", "pmp", "--no-save", "--out", str(_shipped("pmp/grid.jsonl"))],
        "--update-shipped",
        watch=(_shipped("pmp/grid.jsonl"),),
    )
    add(
        "pmp_grid --out in a read-only folder",
        "pmp_grid",
        ["--kind", "pmp", "--no-save", "--out", str(READ_ONLY / "r.jsonl")],
        "--out",
    )
    add(
        "pmp_grid --summary of a missing record",
        "pmp_grid",
        _argv("--summary", "--out", _t("none.jsonl")),
        "none.jsonl",
    )
    add(
        "pmp_grid --summary of a record that is not JSON lines",
        "pmp_grid",
        _argv("--summary", "--out", _t("bad.jsonl")),
        "bad.jsonl",
        prepare=_file("bad.jsonl", "kind,seed\npmp,0\n"),
    )
    add(
        "pmp_grid --refresh-probe without a record",
        "pmp_grid",
        ["--refresh-probe"],
        "--out",
    )
    add(
        "pmp_grid --add-judge of a missing record",
        "pmp_grid",
        _argv("--add-judge", "--out", _t("none.jsonl")),
        "none.jsonl",
    )
    add(
        "pmp_grid --measure-gpu-records of a missing folder",
        "pmp_grid",
        _argv("--measure-gpu-records", _t("none"), "--out", _t("r.jsonl")),
        "none",
    )
    add(
        "pmp_grid --threads two",
        "pmp_grid",
        _argv(*grid, "--threads", "two"),
        "--threads",
    )

    # ---- experiments/reproduce.py ----
    run_out = ("--out", _t("run"))
    for chapter, flag, value, names, issue in [
        ("torus", "--max-minutes", "-1", "--max-minutes", True),
        ("torus", "--threads", "0", "--threads", True),
        ("torus", "--max-minutes", "0", "--max-minutes", False),
        ("torus", "--max-minutes", "nan", "--max-minutes", False),
        ("torus", "--budget", "0", "budget", False),
        ("torus", "--budget", "-5", "budget", False),
        ("torus", "--budget", "lots", "budget", False),
        ("torus", "--budget", "paper", "budget", False),
        ("pmp", "--budget", "1e6", "budget", False),
        ("pmp", "--budget", str(10**30), "budget", False),
        ("pmp", "--seeds", "", "--seeds", False),
        ("pmp", "--seeds", "3-1", "--seeds", False),
        ("pmp", "--seeds", "a", "--seeds", False),
        ("pmp", "--seeds", f"0-{MAX_SEEDS}", "--seeds", False),
        ("pmp", "--seeds", "-1", "--seeds", False),
        ("pmp", "--device", "gpu", "device", False),
        ("atomic", "--device", "cuda", "cuda", False),
        ("pmp", "--checkpoint-minutes", "0", "--checkpoint-minutes", False),
        ("pmp", "--checkpoint-minutes", "inf", "--checkpoint-minutes", False),
        ("pmp", "--sitting-steps", "0", "--sitting-steps", False),
        ("pmp", "--score-minutes", "-1", "--score-minutes", False),
        ("pmp", "--kinds", "vae", "kind", False),
        ("pmp", "--kinds", "", "kind", False),
        ("pmp", "--workers", "0", "--workers", False),
        ("pmp", "--log-every", "0", "--log-every", False),
        ("atomic", "--setting", "mine", "--setting", False),
        ("torus", "--weights", "heavy", "--weights", False),
    ]:
        add(
            f"reproduce {chapter} {flag} {value!r}",
            "reproduce",
            _argv(chapter, flag, value, *run_out),
            names,
            issue=issue,
        )
    add(
        "reproduce torus --seeds 0-999999999 (a process: it filled the memory)",
        "reproduce",
        _argv("torus", "--seeds", "0-999999999", *run_out),
        "--seeds",
        process=True,
        seconds=120,
        issue=True,
        slow=True,
    )
    add(
        "reproduce pmp --plain with two seeds",
        "reproduce",
        _argv("pmp", "--plain", "--seeds", "0-1", *run_out),
        "--plain",
    )
    add(
        "reproduce pmp --score-minutes without --max-minutes",
        "reproduce",
        _argv("pmp", "--score-minutes", "2", *run_out),
        "--max-minutes",
    )
    add(
        "reproduce pmp --out a file",
        "reproduce",
        _argv("pmp", "--budget", "2", "--out", _t("file.txt")),
        "--out",
        prepare=_file("file.txt"),
    )
    add(
        "reproduce pmp --out under a file",
        "reproduce",
        _argv("pmp", "--budget", "2", "--out", _t("file.txt", "run")),
        "--out",
        prepare=_file("file.txt"),
    )
    add(
        "reproduce pmp --out in a read-only folder",
        "reproduce",
        ["pmp", "--budget", "2", "--out", str(READ_ONLY / "run")],
        "--out",
    )
    add(
        "reproduce pmp --out the shipped folder",
        "reproduce",
        ["pmp", "--budget", "2", "--out", str(PRETRAINED / "pmp")],
        "--out",
    )
    add(
        "reproduce pmp --grid-cache a folder",
        "reproduce",
        _argv("pmp", "--budget", "2", *run_out, "--grid-cache", _t("folder")),
        "--grid-cache",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add("reproduce an unknown chapter", "reproduce", ["vae", "--out", "x"], "chapter")

    # ---- experiments/sweep.py ----
    sweep_out = ("--in-process", "--out", _t("sweep"))
    add(
        "sweep torus --seeds 7 (no trial) keeps the old record",
        "sweep",
        _argv("torus", "--seeds", "7", *sweep_out),
        "no trial",
        prepare=_file("sweep/records.jsonl", '{"name": "earlier"}\n'),
        issue=True,
    )
    for grid_name, flag, value, names in [
        ("pmp", "--threads", "0", "--threads"),
        ("pmp", "--gpu", "-1", "--gpu"),
        ("pmp", "--gpu", "nan", "--gpu"),
        ("pmp", "--gpu", "2.5", "gpu"),
        ("pmp", "--budget", "0", "budget"),
        ("pmp", "--budget", "x", "budget"),
        ("torus", "--budget", "paper", "budget"),
        ("pmp", "--seeds", "3-1", "--seeds"),
        ("pmp", "--trials", "nope", "nope"),
        ("pmp", "--trials", "", "trials"),
        ("pmp", "--max-failures", "-1", "--max-failures"),
        ("pmp", "--max-concurrent", "0", "--max-concurrent"),
        ("pmp", "--checkpoint-minutes", "0", "--checkpoint-minutes"),
        ("pmp", "--checkpoint-steps", "0", "--checkpoint-steps"),
        ("pmp", "--report-every", "0", "--report-every"),
        ("pmp", "--kill-trial", "pmp_seed0", "--kill-at-step"),
        ("atomic", "--update-shipped", None, "--update-shipped"),
        ("atomic", "--compare", None, "compare"),
    ]:
        extra = [flag] if value is None else [flag, value]
        add(
            f"sweep {grid_name} {' '.join(extra)}",
            "sweep",
            _argv(grid_name, *extra, *sweep_out),
            names,
            issue=extra == ["--threads", "0"],
        )
    add(
        "sweep pmp --kill-trial nope --kill-at-step 5",
        "sweep",
        _argv("pmp", "--kill-trial", "nope", "--kill-at-step", "5", *sweep_out),
        "--kill-trial",
    )
    add(
        "sweep pmp --update-shipped --budget 5",
        "sweep",
        _argv("pmp", "--update-shipped", "--budget", "5", *sweep_out),
        "--update-shipped",
    )
    add(
        "sweep pmp --summary of a missing record",
        "sweep",
        _argv("pmp", "--summary", *sweep_out),
        "records.jsonl",
    )
    add(
        "sweep torus --summary of a cut record",
        "sweep",
        _argv("torus", "--summary", *sweep_out),
        "records.jsonl",
        prepare=_file("sweep/records.jsonl", '{"name": "s1k", "st'),
    )
    add(
        "sweep pmp --out a file",
        "sweep",
        _argv("pmp", "--in-process", "--out", _t("file.txt")),
        "--out",
        prepare=_file("file.txt"),
    )
    add(
        "sweep pmp --out in a read-only folder",
        "sweep",
        ["pmp", "--in-process", "--out", str(READ_ONLY / "sweep")],
        "--out",
    )
    add(
        "sweep pmp --out the shipped folder",
        "sweep",
        ["pmp", "--in-process", "--out", str(PRETRAINED / "pmp")],
        "--out",
    )
    add("sweep an unknown grid", "sweep", ["vae"], "grid")

    # ---- bench/notebook_times.py ----
    times_out = ("--out", _t("times.json"))
    add(
        "notebook_times --only 99 keeps the record",
        "notebook_times",
        _argv("--only", "99", *times_out),
        "--only",
        prepare=_file("times.json", "{}\n"),
        issue=True,
    )
    add(
        "notebook_times --only 99 and the shipped record",
        "notebook_times",
        ["--only", "99"],
        "--only",
        watch=(_shipped("run_times.json"),),
        issue=True,
    )
    add(
        "notebook_times --modes slow",
        "notebook_times",
        _argv("--only", "00", "--modes", "slow", *times_out),
        "modes",
    )
    add(
        "notebook_times --modes (none)",
        "notebook_times",
        _argv("--only", "00", "--modes", *times_out),
        "--modes",
    )
    add(
        "notebook_times --out a folder",
        "notebook_times",
        _argv("--only", "00", "--out", _t("folder")),
        "--out",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "notebook_times --out a checkpoint's JSON",
        "notebook_times",
        _argv("--only", "00", "--out", _t("warmup_ae.json")),
        "--out",
        prepare=lambda tmp: shutil.copy(
            _shipped("intro/warmup_ae.json"), tmp / "warmup_ae.json"
        ),
    )
    add(
        "notebook_times --out a JSON-lines record",
        "notebook_times",
        _argv("--only", "00", "--out", _t("grid.jsonl")),
        "--out",
        prepare=lambda tmp: shutil.copy(_shipped("pmp/grid.jsonl"), tmp / "grid.jsonl"),
    )
    add(
        "notebook_times --out another shipped file",
        "notebook_times",
        ["--only", "00", "--out", str(_shipped("pmp/grid.jsonl"))],
        "--out",
        watch=(_shipped("pmp/grid.jsonl"),),
    )
    add(
        "notebook_times --out in a read-only folder",
        "notebook_times",
        ["--only", "00", "--out", str(READ_ONLY / "times.json")],
        "--out",
    )
    add(
        "notebook_times --out under a file",
        "notebook_times",
        _argv("--only", "00", "--out", _t("file.txt", "times.json")),
        "--out",
        prepare=_file("file.txt"),
    )

    # ---- experiments/campaign.py ----
    add(
        "campaign --plan missing",
        "campaign",
        _argv("--plan", _t("none.toml"), "status"),
        "none.toml",
    )
    add(
        "campaign --plan not TOML",
        "campaign",
        _argv("--plan", _t("plan.toml"), "status"),
        "plan.toml",
        prepare=_file("plan.toml", "[[rung]\nname = "),
    )
    add(
        "campaign --plan a folder",
        "campaign",
        _argv("--plan", _t("folder"), "status"),
        "folder",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "campaign --plan of no rung",
        "campaign",
        _argv("--plan", _t("plan.toml"), "status"),
        "plan.toml",
        prepare=_file("plan.toml", "title = 'mine'\n"),
    )
    add(
        "campaign --ledger not JSON lines",
        "campaign",
        _argv("--ledger", _t("ledger.jsonl"), "status"),
        "ledger.jsonl",
        prepare=_file("ledger.jsonl", "sitting,run\n"),
    )
    add(
        "campaign --state a file",
        "campaign",
        _argv("--state", _t("file.txt"), "status"),
        "file.txt",
        prepare=_file("file.txt"),
    )
    add(
        "campaign --ledger a folder",
        "campaign",
        _argv("--ledger", _t("folder"), "status"),
        "--ledger",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "campaign sitting --out in a read-only folder",
        "campaign",
        _argv("sitting", "--minutes", "1", "--out", str(READ_ONLY / "out")),
        "--out",
    )
    sit_out = ("--out", _t("out"))
    for flag, value in [
        ("--minutes", "0"),
        ("--minutes", "-1"),
        ("--minutes", "nan"),
        ("--workers", "0"),
        ("--threads", "0"),
        ("--log-every", "0"),
        ("--max-steps", "0"),
        ("--checkpoint-minutes", "0"),
    ]:
        minutes = () if flag == "--minutes" else ("--minutes", "1")
        add(
            f"campaign sitting {flag} {value}",
            "campaign",
            _argv("sitting", *minutes, flag, value, *sit_out),
            flag,
        )
    add(
        "campaign sitting --out a folder with files",
        "campaign",
        _argv("sitting", "--minutes", "1", *sit_out),
        "out",
        prepare=_file("out/mine.txt"),
    )
    add(
        "campaign sitting --out a file",
        "campaign",
        _argv("sitting", "--minutes", "1", "--out", _t("file.txt")),
        "file.txt",
        prepare=_file("file.txt"),
    )
    add(
        "campaign sitting --device gpu",
        "campaign",
        _argv("sitting", "--minutes", "1", "--device", "gpu", *sit_out),
        "device",
    )
    add(
        "campaign pack --work missing",
        "campaign",
        _argv("pack", "--work", _t("none"), "--out", _t("out")),
        "--work",
    )
    add(
        "campaign pack --work of no sitting",
        "campaign",
        _argv("pack", "--work", _t("work"), "--out", _t("out")),
        "work",
        prepare=lambda tmp: (tmp / "work").mkdir(),
    )
    add(
        "campaign unpack a missing folder",
        "campaign",
        _argv("unpack", _t("none")),
        "none",
    )
    add(
        "campaign unpack a folder of no sitting",
        "campaign",
        _argv("unpack", _t("back")),
        "back",
        prepare=_file("back/mine.txt"),
    )
    add(
        "campaign unpack a return that is not JSON",
        "campaign",
        _argv("--state", _t("state"), "--ledger", _t("l.jsonl"), "unpack", _t("back")),
        "back",
        prepare=_file("back/campaign_return.json", "{cut"),
    )
    add("campaign land an unknown run", "campaign", ["land", "nope"], "nope")
    add("campaign an unknown command", "campaign", ["fly"], "command")

    # ---- python -m lib.nbtools ----
    for what, text, names, issue in [
        ("missing", None, "missing", True),
        ("cut", '{"cells": [', "nb.ipynb", True),
        ("{}", "{}", "nb.ipynb", True),
        ("a JSON list", "[1, 2]", "nb.ipynb", False),
        ("empty", "", "nb.ipynb", False),
        ("binary", b"\x89PNG\r\n\x1a\n\x00\x00", "nb.ipynb", False),
        (
            "cells not a list",
            '{"cells": {}, "metadata": {}, "nbformat": 4}',
            "nb",
            False,
        ),
    ]:
        for command in ("check", "clean"):
            add(
                f"nbtools {command} a {what} notebook",
                "lib.nbtools",
                _argv(command, _t("nb.ipynb")),
                names if what != "missing" else "nb.ipynb",
                prepare=None if text is None else _file("nb.ipynb", text),
                issue=issue,
            )
    add(
        "nbtools sync-colab a JSON that is not a notebook",
        "lib.nbtools",
        _argv("sync-colab", _t("nb.ipynb")),
        "nb.ipynb",
        prepare=_file("nb.ipynb", '{"name": "a config"}\n'),
        issue=True,
    )
    add(
        "nbtools clean a folder",
        "lib.nbtools",
        _argv("clean", _t("folder")),
        "folder",
        prepare=lambda tmp: (tmp / "folder").mkdir(),
    )
    add(
        "nbtools clean a good and a bad notebook: nothing written",
        "lib.nbtools",
        _argv("clean", _t("good.ipynb"), _t("bad.ipynb")),
        "bad.ipynb",
        prepare=lambda tmp: (
            (
                shutil.copy(
                    ROOT / "notebooks" / "00_introduction.ipynb", tmp / "good.ipynb"
                ),
                _write(tmp / "bad.ipynb", "{"),
            )
            and None
        ),
    )
    add("nbtools an unknown command", "lib.nbtools", ["tidy"], "tidy")

    return cases


def course_script_cases() -> list[Script]:
    cases: list[Script] = []

    def add(*args, **kwargs):
        cases.append(Script(*args, **kwargs))

    course = ("--course-dir", _t("course"))
    add(
        "course build --student-dir . (the repository)",
        "lib.course",
        _argv("build", "--student-dir", str(ROOT), *course),
        "--student-dir",
        issue=True,
    )
    add(
        "course build --student-dir a folder with a user's tests",
        "lib.course",
        _argv("build", "--student-dir", _t("mine"), *course),
        "--student-dir",
        prepare=_file("mine/tests/test_mine.py", "def test_mine(): pass\n"),
        issue=True,
    )
    add(
        "course check of an assignment that does not exist",
        "lib.course",
        _argv("check", "99_nothing"),
        "no assignment named '99_nothing'",
    )
    add(
        "course pdf with a Chromium that is not there",
        "lib.course",
        _argv("pdf", _t("a.ipynb"), "--chromium", _t("no-chromium")),
        "--chromium must name a Chromium executable",
    )
    add(
        "course build with an assignment name",
        "lib.course",
        _argv("build", "00_introduction", *course),
        "takes no assignment names",
    )
    add(
        "course build --student-dir a file",
        "lib.course",
        _argv("build", "--student-dir", _t("file.txt"), *course),
        "--student-dir",
        prepare=_file("file.txt"),
    )
    add(
        "course build --course-dir a file",
        "lib.course",
        _argv("build", "--student-dir", _t("student"), "--course-dir", _t("file.txt")),
        "--course-dir",
        prepare=_file("file.txt"),
    )
    add(
        "course build --readers-dir a file",
        "lib.course",
        _argv("build", "--student-dir", _t("s"), *course, "--readers-dir", _t("r.txt")),
        "--readers-dir",
        prepare=_file("r.txt"),
    )
    add(
        "course build --readers-dir inside --course-dir",
        "lib.course",
        _argv(
            "build",
            "--student-dir",
            _t("s"),
            *course,
            "--readers-dir",
            _t("course", "r"),
        ),
        "--readers-dir",
    )
    add(
        "course build the same folder twice",
        "lib.course",
        _argv("build", "--student-dir", _t("one"), "--course-dir", _t("one")),
        "--student-dir",
    )
    add(
        "course build --course-dir inside --student-dir",
        "lib.course",
        _argv("build", "--student-dir", _t("s"), "--course-dir", _t("s", "c")),
        "--student-dir",
    )
    add(
        "course build --student-dir with a corrupt manifest",
        "lib.course",
        _argv("build", "--student-dir", _t("student"), *course),
        "--student-dir",
        prepare=lambda tmp: (
            (
                _write(tmp / "student" / ".course-build.json", "{cut"),
                _write(tmp / "student" / "00.ipynb", "{}"),
            )
            and None
        ),
    )
    add(
        "course build --student-dir whose manifest lists a changed file",
        "lib.course",
        _argv("build", "--student-dir", _t("student"), *course),
        "changed",
        prepare=lambda tmp: (
            (
                _write(
                    tmp / "student" / ".course-build.json",
                    json.dumps({"files": {"00.ipynb": "0" * 64}}),
                ),
                _write(tmp / "student" / "00.ipynb", "{}"),
            )
            and None
        ),
    )
    add(
        "course build --student-dir in a read-only folder",
        "lib.course",
        _argv("build", "--student-dir", str(READ_ONLY / "student"), *course),
        "--student-dir",
    )
    add(
        "course build --course-dir in a read-only folder",
        "lib.course",
        _argv("build", "--student-dir", _t("student"), "--course-dir", str(READ_ONLY)),
        "--course-dir",
    )
    add(
        "course build --student-dir under a file",
        "lib.course",
        _argv("build", "--student-dir", _t("file.txt", "s"), *course),
        "--student-dir",
        prepare=_file("file.txt"),
    )
    add("course an unknown command", "lib.course", ["publish"], "command")
    add(
        "course build --student-dir ''",
        "lib.course",
        _argv("build", "--student-dir", "", *course),
        "--student-dir",
    )
    return cases


# --------------------------------------------------------------------------------------------
# the settings: each BOOK_* variable as the function that reads it meets it
# --------------------------------------------------------------------------------------------
FLAGS = (
    "BOOK_QUICK",
    "BOOK_PREFER_CACHE",
    "BOOK_NO_PROGRESS",
    "BOOK_OFFLINE",
    "BOOK_STATIC",
)


def _with_env(values: dict[str, str], call: Callable[[], Any]) -> Callable[[], Any]:
    def run():
        saved = {k: os.environ.get(k) for k in values}
        os.environ.update(values)
        try:
            return call()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    return run


def _quiet(call: Callable[[], Any]) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return call()


def _setup(**kwargs):
    from lib.notebook import setup

    kwargs.setdefault("device", "cpu")
    return _quiet(lambda: setup(**kwargs))


def _tiny_fit():
    """A two-step fit of a tiny regression (the trainer reads BOOK_NO_PROGRESS)."""
    import torch

    from lib.trainer import TensorSampler, Trainer, TrainerConfig

    x = torch.randn(8, 2)
    net = torch.nn.Linear(2, 1)
    trainer = Trainer(
        net,
        lambda m, b: (m(b[0]) - b[1]).pow(2).mean(),
        TensorSampler(x, x[:, :1], batch_size=4),
        TrainerConfig(steps=2),
    )
    with contextlib.redirect_stderr(io.StringIO()) as bar:
        trainer.fit()
    return bar.getvalue()


def _mnist(download_calls: list | None = None):
    from lib.data import mnist

    saved = mnist.download_mnist
    mnist.download_mnist = lambda d, **k: (
        (download_calls.append(d) if download_calls is not None else None) or False
    )
    try:
        return mnist.load_mnist("test")
    finally:
        mnist.download_mnist = saved


def _static_slider_of_env():
    """latent_slider with ``live=None`` reads BOOK_STATIC; the decoder is never called
    when the value is refused."""
    from lib.sliders import latent_slider

    return latent_slider(lambda z: z.new_zeros(1, 1, 4, 4) + z.sum(), {"a": (0.0, 1.0)})


def _flag_reader(variable: str) -> Callable[[], Any]:
    from lib import notebook

    return {
        "BOOK_QUICK": lambda: _setup(),
        "BOOK_PREFER_CACHE": lambda: _setup(),
        "BOOK_NO_PROGRESS": _tiny_fit,
        "BOOK_OFFLINE": lambda: _mnist(),
        "BOOK_STATIC": lambda: notebook.static_default(),
    }[variable]


def _answer_flag(variable: str, value: str, expected: bool) -> Callable[[], str | None]:
    def check():
        from lib import notebook

        os.environ[variable] = value
        if variable == "BOOK_QUICK":
            got = _setup().quick
        elif variable == "BOOK_PREFER_CACHE":
            got = _setup().prefer_cache
        elif variable == "BOOK_NO_PROGRESS":
            got = "it/s" not in _tiny_fit() and "2/2" not in _tiny_fit()
        elif variable == "BOOK_OFFLINE":
            calls: list = []
            os.environ["BOOK_DATA"] = str(_tmp())
            _mnist(calls)
            got = not calls
        else:
            got = notebook.static_default()
        return None if got is expected else f"{variable}={value!r} read as {got}"

    return check


def _prefer_cache_loads_the_cache() -> str | None:
    """BOOK_PREFER_CACHE=1 and load_pretrained: the reader's own copy is loaded."""
    from lib.checkpoint import cached_path, load_pretrained, save_checkpoint
    from lib.intro import WarmupAEConfig, WarmupAutoencoder

    mine = WarmupAutoencoder(WarmupAEConfig())
    save_checkpoint(
        cached_path("intro/warmup_ae"),
        mine,
        mine.config.to_dict(),
        meta={"mine": True},
    )
    os.environ["BOOK_PREFER_CACHE"] = "1"
    _, ckpt = load_pretrained("intro/warmup_ae")
    return (
        None if ckpt.meta.get("mine") else f"loaded {ckpt.path}, not the cache's copy"
    )


def _train(cache: str, name: str = "intro/hostile", quick: bool = False, **kwargs):
    """train_or_load in full mode with BOOK_CACHE=``cache``: whether train_fn ran."""
    from lib.intro import WarmupAEConfig, WarmupAutoencoder
    from lib.notebook import train_or_load

    os.environ["BOOK_CACHE"] = cache
    settings = _setup(train="always", quick=quick)
    trained: list = []
    model = WarmupAutoencoder(WarmupAEConfig(latent_dim=2, channels=2, hidden=4))

    def fit(net):
        trained.append(1)
        return {"loss": [1.0]}

    _quiet(
        lambda: train_or_load(
            settings, name, model, kwargs.pop("train_fn", fit), **kwargs
        )
    )
    return trained


def settings_cases() -> list:
    cases: list = []
    for variable in FLAGS:
        for value in ("2", "maybe", "/tmp", "tru", "1.0", "-1", "yes please", "ja"):
            cases.append(
                Api(
                    Case(
                        f"{variable}={value!r}",
                        _with_env({variable: value}, _flag_reader(variable)),
                        variable,
                    ),
                    issue=value in ("2", "/tmp")
                    and variable in ("BOOK_NO_PROGRESS", "BOOK_OFFLINE", "BOOK_STATIC"),
                )
            )
    for variable, value, expected, issue in [
        ("BOOK_NO_PROGRESS", "false", False, True),
        ("BOOK_NO_PROGRESS", "no", False, True),
        ("BOOK_NO_PROGRESS", "off", False, True),
        ("BOOK_OFFLINE", "false", False, True),
        ("BOOK_STATIC", "on", True, True),
        ("BOOK_QUICK", " TRUE ", True, False),
        ("BOOK_QUICK", "", False, False),
        ("BOOK_QUICK", "Off", False, False),
        ("BOOK_PREFER_CACHE", "Yes", True, False),
        ("BOOK_PREFER_CACHE", "\t0\n", False, False),
        ("BOOK_STATIC", "NO", False, False),
        ("BOOK_OFFLINE", "1", True, False),
    ]:
        cases.append(
            Answer(
                f"{variable}={value!r} means {expected}",
                _answer_flag(variable, value, expected),
                issue=issue,
            )
        )
    cases.append(
        Answer(
            "BOOK_PREFER_CACHE=1 is followed by load_pretrained",
            _prefer_cache_loads_the_cache,
            issue=True,
        )
    )
    for value in ("disk", "true", "1", "/tmp/x", "cache,none", "cached", "SHIPPED!"):
        cases.append(
            Api(
                Case(
                    f"BOOK_SAVE={value!r}",
                    _with_env({"BOOK_SAVE": value}, _setup),
                    "BOOK_SAVE",
                )
            )
        )
    cases.append(
        Answer(
            "BOOK_SAVE=' None ' means none",
            lambda: _expect(_with_env({"BOOK_SAVE": " None "}, _setup)().save, "none"),
        )
    )

    def a_file() -> str:
        return str(_write(_tmp() / "file.txt", "a user's file"))

    def under_a_file() -> str:
        return str(Path(a_file()) / "cache")

    from lib.checkpoint import user_cache_dir
    from lib.data.mnist import default_data_dir

    for variable, reader in (
        ("BOOK_CACHE", user_cache_dir),
        ("BOOK_DATA", default_data_dir),
    ):
        cases.append(
            Api(
                Case(
                    f"{variable} a file",
                    lambda v=variable, r=reader: _with_env({v: a_file()}, r)(),
                    variable,
                ),
                issue=True,
            )
        )
        cases.append(
            Api(
                Case(
                    f"{variable} under a file",
                    lambda v=variable, r=reader: _with_env({v: under_a_file()}, r)(),
                    variable,
                )
            )
        )
    cases.append(
        Api(
            Case(
                "BOOK_DATA a file, as load_mnist reads it",
                lambda: _with_env({"BOOK_DATA": a_file()}, lambda: _mnist())(),
                "BOOK_DATA",
            ),
            issue=True,
        )
    )
    cases.append(
        Api(
            Case(
                "BOOK_DATA a folder of cut MNIST files",
                lambda: _with_env({"BOOK_DATA": str(_cut_mnist())}, lambda: _mnist())(),
                "t10k-images-idx3-ubyte",
            )
        )
    )
    for what, cache, issue in [
        ("a file", lambda: a_file(), True),
        ("under a file", lambda: under_a_file(), False),
        ("a read-only folder", lambda: str(READ_ONLY / "cache"), True),
    ]:
        cases.append(
            Answer(
                f"BOOK_CACHE {what}: refused before training",
                lambda cache=cache: _refused_before_training(cache()),
                issue=issue,
            )
        )
    cases.append(
        Answer(
            "BOOK_CACHE '  ' is the platform's cache",
            lambda: _expect(
                _with_env({"BOOK_CACHE": "  "}, user_cache_dir)().name,
                "latent-geometry-book",
            ),
        )
    )
    # through the scripts
    for variable, value, argv, names in [
        ("BOOK_CACHE", "file", ["--kind", "pmp", "--steps", "2"], "BOOK_CACHE"),
        (
            "BOOK_CACHE",
            str(READ_ONLY / "c"),
            ["--kind", "pmp", "--steps", "2"],
            "BOOK_CACHE",
        ),
        ("BOOK_QUICK", "maybe", ["--kind", "pmp", "--steps", "2"], "BOOK_QUICK"),
    ]:
        cases.append(
            Script(
                f"pmp_grid with {variable}={value}",
                "pmp_grid",
                argv,
                names,
                env=lambda tmp, v=variable, x=value: {
                    v: str(tmp / x) if x == "file" else x
                },
                prepare=_file("file"),
            )
        )
    cases.append(
        Script(
            "torus_sweep with BOOK_OFFLINE=maybe",
            "torus_sweep",
            _argv("--name", "t", "--out", _t("r.jsonl")),
            "BOOK_OFFLINE",
            env={"BOOK_OFFLINE": "maybe"},
        )
    )
    cases.append(
        Script(
            "torus_sweep with BOOK_DATA a file",
            "torus_sweep",
            _argv("--name", "t", "--out", _t("r.jsonl")),
            "BOOK_DATA",
            env=lambda tmp: {"BOOK_DATA": str(tmp / "file")},
            prepare=_file("file"),
        )
    )
    cases.append(
        Script(
            "judge_demo with BOOK_PREFER_CACHE=2",
            "judge_demo",
            _argv("--steps", "2", "--out", _t("r.jsonl")),
            "BOOK_PREFER_CACHE",
            env={"BOOK_PREFER_CACHE": "2"},
        )
    )
    cases.append(
        Script(
            "sweep pmp with BOOK_CACHE a file",
            "sweep",
            ["pmp", "--in-process"],
            "BOOK_CACHE",
            env=lambda tmp: {"BOOK_CACHE": str(tmp / "file")},
            prepare=_file("file"),
        )
    )
    return cases


def _expect(got, wanted) -> str | None:
    return None if got == wanted else f"{got!r}, not {wanted!r}"


def _cut_mnist() -> Path:
    from lib.data.mnist import FILES

    folder = _tmp()
    for stem, _ in FILES["test"]:
        # a header that promises 10,000 images, and no images
        _write(folder / stem, b"\x00\x00\x08\x03\x00\x00\x27\x10")
    return folder


def _refused_before_training(cache: str) -> str | None:
    from lib.errors import ParameterError

    try:
        trained = _train(cache)
    except ParameterError as exc:
        return None if "BOOK_CACHE" in str(exc) else f"refused without naming it: {exc}"
    return f"trained {len(trained)} time(s) and kept nothing"


# --------------------------------------------------------------------------------------------
# the notebook API: setup, RunSettings, train_or_load, the sliders, nbtools
# --------------------------------------------------------------------------------------------
def _run_settings(**bad):
    import torch

    from lib.notebook import RunSettings

    good = dict(
        device=torch.device("cpu"),
        seed=0,
        quick=False,
        train="auto",
        generator=torch.Generator(),
        save="cache",
        prefer_cache=False,
    )
    return RunSettings(**{**good, **bad})


def _tiny_model():
    from lib.intro import WarmupAEConfig, WarmupAutoencoder

    return WarmupAutoencoder(WarmupAEConfig(latent_dim=2, channels=2, hidden=4))


def _train_or_load(
    *, settings=..., name="intro/hostile", model=..., train_fn=..., meta=None
):
    from lib.notebook import train_or_load

    os.environ["BOOK_CACHE"] = str(_tmp())
    settings = _setup(train="always") if settings is ... else settings
    model = _tiny_model() if model is ... else model
    if train_fn is ...:

        def train_fn(net):
            return {"loss": [1.0]}

    return _quiet(lambda: train_or_load(settings, name, model, train_fn, meta))


def _trained_then_refused(meta) -> str | None:
    """A meta JSON cannot hold must be refused before training, not after."""
    from lib.errors import ParameterError

    trained: list = []
    try:
        _train_or_load(
            meta=meta, train_fn=lambda net: trained.append(1) or {"loss": [1.0]}
        )
    except ParameterError as exc:
        if trained:
            return f"refused after training: {exc}"
        return None if "meta" in str(exc) else f"refused without naming meta: {exc}"
    return "accepted"


def _numpy_meta_round_trip() -> str | None:
    import numpy as np

    from lib.checkpoint import cached_path, read_checkpoint_meta

    _train_or_load(meta={"n": np.int64(3), "x": np.float32(0.5), "a": np.arange(2)})
    meta = read_checkpoint_meta(cached_path("intro/hostile"))
    wanted = {"n": 3, "x": 0.5, "a": [0, 1]}
    got = {k: meta.get(k) for k in wanted}
    return None if got == wanted else f"meta read back as {got}"


def _decode(z):
    return z.new_zeros(1, 1, 4, 4) + z.sum()


def _slider(name: str, *args, **kwargs):
    import lib.sliders

    return _quiet(lambda: getattr(lib.sliders, name)(*args, **kwargs))


def _nbtools(name: str, *args):
    import lib.nbtools

    return getattr(lib.nbtools, name)(*args)


def _file_in_tmp(name: str, text: str | bytes) -> Path:
    return _write(_tmp() / name, text)


def api_cases() -> list:
    import torch

    from lib.notebook import glue_run_times

    cases: list = []

    def add(id, call, names, issue=False):
        cases.append(Api(Case(id, call, names), issue=issue))

    # setup
    for kwargs, names in [
        ({"device": "CPU"}, "device"),
        ({"device": "cuda:x"}, "device"),
        ({"device": None}, "device"),
        ({"device": "cuda:0"}, "cuda"),
        ({"seed": "0"}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"seed": NAN}, "seed"),
        ({"train": "Always"}, "train"),
        ({"train": None}, "train"),
        ({"train": ""}, "train"),
        ({"quick": 1}, "quick"),
        ({"quick": None}, "quick"),
        ({"quick": "False"}, "quick"),
        ({"save": ""}, "save"),
        ({"save": "Cache"}, "save"),
        ({"prefer_cache": "no"}, "prefer_cache"),
        ({"prefer_cache": 0}, "prefer_cache"),
    ]:
        add(f"setup {kwargs}", lambda k=kwargs: _setup(**k), names)
    # RunSettings built directly (the issue's three, and more)
    for kwargs, names, issue in [
        ({"train": "sometimes"}, "train", True),
        ({"quick": "yes"}, "quick", True),
        ({"seed": -1}, "seed", True),
        ({"seed": 2**70}, "seed", False),
        ({"seed": True}, "seed", False),
        ({"device": "cpu"}, "device", False),
        ({"generator": None}, "generator", False),
        ({"save": "disk"}, "save", False),
        ({"prefer_cache": "yes"}, "prefer_cache", False),
        ({"train": None}, "train", False),
    ]:
        add(f"RunSettings {kwargs}", lambda k=kwargs: _run_settings(**k), names, issue)
    add(
        "RunSettings.checkpoint of a number",
        lambda: _run_settings().checkpoint(3),
        "checkpoint name",
    )
    add(
        "RunSettings.should_train never, nothing shipped",
        lambda: _run_settings(train="never").should_train(_tmp() / "none"),
        "train",
    )
    # train_or_load
    add(
        "train_or_load settings None", lambda: _train_or_load(settings=None), "settings"
    )
    add(
        "train_or_load settings a dict", lambda: _train_or_load(settings={}), "settings"
    )
    add("train_or_load name 3", lambda: _train_or_load(name=3), "checkpoint name")
    add("train_or_load name ''", lambda: _train_or_load(name=""), "checkpoint name")
    add(
        "train_or_load name '../x'",
        lambda: _train_or_load(name="../x"),
        "checkpoint name",
    )
    add(
        "train_or_load name '/abs'",
        lambda: _train_or_load(name="/abs"),
        "checkpoint name",
    )
    add(
        "train_or_load a model without a config",
        lambda: _train_or_load(model=torch.nn.Linear(2, 2)),
        "model",
    )
    add("train_or_load model None", lambda: _train_or_load(model=None), "model")
    add(
        "train_or_load train_fn None", lambda: _train_or_load(train_fn=None), "train_fn"
    )
    add(
        "train_or_load train_fn returns None",
        lambda: _train_or_load(train_fn=lambda net: None),
        "train_fn",
    )
    add(
        "train_or_load train_fn returns a scalar history",
        lambda: _train_or_load(train_fn=lambda net: {"loss": 1.0}),
        "history",
        issue=True,
    )
    add(
        "train_or_load train_fn returns a list",
        lambda: _train_or_load(train_fn=lambda net: [1.0, 0.5]),
        "history",
    )
    add("train_or_load meta a list", lambda: _train_or_load(meta=[1]), "meta")
    add("train_or_load meta a string", lambda: _train_or_load(meta="x"), "meta")
    cases.append(
        Answer(
            "train_or_load meta JSON cannot hold: refused before training",
            lambda: _trained_then_refused({"when": object()}),
        )
    )
    cases.append(
        Answer(
            "train_or_load meta holding a set: refused before training",
            lambda: _trained_then_refused({"deep": [[{"seeds": {1, 2}}]]}),
        )
    )
    cases.append(
        Answer(
            "train_or_load numpy values in meta are saved and read back",
            _numpy_meta_round_trip,
            issue=True,
        )
    )
    # StackedModels and export_onnx (the issue's API cases)
    add(
        "StackedModels of two configs with the same shapes",
        _stack_of_two_slopes,
        "config",
        issue=True,
    )
    add(
        "export_onnx of a decoder that draws an empty image",
        lambda: _export(lambda z: z.new_zeros(1, 1, 0, 0) * z.sum(), 2),
        "empty",
        issue=True,
    )
    # the sliders
    from lib.sliders import SliderSpec

    for kwargs, names, issue in [
        ({"low": 1.0, "high": 0.0}, "low", True),
        ({"low": 0.0, "high": 1.0, "default": NAN}, "default", True),
        ({"low": 0.0, "high": 1.0, "default": 2.0}, "default", False),
        ({"low": "0", "high": 1.0}, "low", False),
        ({"low": 0.0, "high": INF}, "high", False),
        ({"low": 0.0, "high": 1.0, "periodic": "yes"}, "periodic", False),
        ({"low": 0.0, "high": 0.0}, "low", False),
        ({"low": None, "high": 1.0}, "low", False),
    ]:
        add(f"SliderSpec {kwargs}", lambda k=kwargs: SliderSpec(**k), names, issue)
    codes = torch.randn(10, 2)
    for args, kwargs, names in [
        ((torch.randn(10), torch.zeros(2)), {}, "codes"),
        ((codes, torch.zeros(3)), {}, "start"),
        ((codes, torch.zeros(2)), {"names": ["a"]}, "names"),
        ((codes, torch.zeros(2)), {"spread": 0}, "spread"),
        ((codes, torch.zeros(2)), {"spread": "2"}, "spread"),
        ((codes, torch.tensor([NAN, 0.0])), {}, "finite"),
        (("abc", torch.zeros(2)), {}, "codes"),
    ]:
        add(
            f"code_ranges {kwargs or 'shape'} {tuple(getattr(a, 'shape', a) for a in args)}",
            lambda a=args, k=kwargs: _slider("code_ranges", *a, **k),
            names,
        )
    good = {"a": (0.0, 1.0)}
    for what, args, kwargs, names in [
        ("decode 3", (3, good), {"live": False}, "decode"),
        ("ranges a list", (_decode, [(0.0, 1.0)]), {"live": False}, "ranges"),
        ("ranges {}", (_decode, {}), {"live": False}, "coordinate"),
        ("ranges {'a': 5}", (_decode, {"a": 5}), {"live": False}, "ranges"),
        (
            "ranges of 5 numbers",
            (_decode, {"a": (0, 1, 0.5, False, 9)}),
            {"live": False},
            "ranges",
        ),
        ("ranges low > high", (_decode, {"a": (1.0, 0.0)}), {"live": False}, "low"),
        (
            "ranges default nan",
            (_decode, {"a": (0.0, 1.0, NAN)}),
            {"live": False},
            "default",
        ),
        ("live 'yes'", (_decode, good), {"live": "yes"}, "live"),
        (
            "onnx_tolerance -1",
            (_decode, good),
            {"live": False, "onnx_tolerance": -1.0},
            "onnx_tolerance",
        ),
        (
            "onnx_tolerance nan",
            (_decode, good),
            {"live": False, "onnx_tolerance": NAN},
            "onnx_tolerance",
        ),
        ("panels 'ab'", (_decode, good), {"live": False, "panels": "ab"}, "panels"),
        (
            "frames_per_coordinate 0",
            (_decode, good),
            {"live": False, "frames_per_coordinate": 0},
            "frames_per_coordinate",
        ),
        (
            "frames_per_coordinate 1.5",
            (_decode, good),
            {"live": False, "frames_per_coordinate": 1.5},
            "frames_per_coordinate",
        ),
        ("size -1", (_decode, good), {"live": False, "size": -1.0}, "size"),
        ("dpi 0", (_decode, good), {"live": False, "dpi": 0}, "dpi"),
    ]:
        add(
            f"latent_slider {what}",
            lambda a=args, k=kwargs: _slider("latent_slider", *a, **k),
            names,
        )
    # nbtools
    for what, text, names in [
        ("missing", None, "nb.ipynb"),
        ("cut", '{"cells": [', "nb.ipynb"),
        ("{}", "{}", "nb.ipynb"),
        ("a list", "[]", "nb.ipynb"),
        ("binary", b"\xff\xfe\x00", "nb.ipynb"),
    ]:
        for function in ("read", "clean", "contract_problems"):
            add(
                f"nbtools.{function} a {what} notebook",
                lambda f=function, t=text: _nbtools(
                    f, _tmp() / "nb.ipynb" if t is None else _file_in_tmp("nb.ipynb", t)
                ),
                names,
            )
    add("nbtools.read a folder", lambda: _nbtools("read", _tmp()), "folder")
    add("nbtools.read None", lambda: _nbtools("read", None), "path")
    add("nbtools.glue_values {}", lambda: _nbtools("glue_values", {}), "nb")
    add("nbtools.glue_values a list", lambda: _nbtools("glue_values", []), "nb")
    add("nbtools.student_copy {}", lambda: _nbtools("student_copy", {}), "nb")
    add(
        "nbtools.student_copy values a list",
        lambda: _nbtools("student_copy", {"cells": []}, ["x"]),
        "values",
    )
    add(
        "nbtools.fill_glue of a key never glued",
        lambda: _nbtools("fill_glue", "{glue:text}`k:.2f`", {}),
        "'k'",
    )
    add("nbtools.fill_glue of None", lambda: _nbtools("fill_glue", None, {}), "text")
    add("nbtools.reader_copy {}", lambda: _nbtools("reader_copy", {}, "x.ipynb"), "nb")
    add(
        "nbtools.reader_copy without a name",
        lambda: _nbtools("reader_copy", {"cells": []}, None),
        "name",
    )
    add(
        "nbtools.reader_copy values a list",
        lambda: _nbtools("reader_copy", {"cells": []}, "x.ipynb", ["x"]),
        "values",
    )
    add(
        "nbtools.sync_colab a JSON that is not a notebook",
        lambda: _nbtools("sync_colab", [_file_in_tmp("nb.ipynb", '{"name": "x"}')]),
        "nb.ipynb",
    )
    # glue_run_times (each chapter's first cell)
    add("glue_run_times of chapter 99", lambda: glue_run_times("99_none"), "99_none")
    add("glue_run_times of a number", lambda: glue_run_times(4), "chapter")
    add(
        "glue_run_times of a cut record",
        lambda: glue_run_times("00_introduction", _file_in_tmp("t.json", '{"chap')),
        "t.json",
    )
    add(
        "glue_run_times of a missing record",
        lambda: glue_run_times("00_introduction", _tmp() / "none.json"),
        "none.json",
    )
    add(
        "glue_run_times of a record without the times",
        lambda: glue_run_times(
            "00_introduction",
            _file_in_tmp("t.json", '{"chapters": {"00_introduction": {}}}'),
        ),
        "00_introduction",
    )
    return cases


def _stack_of_two_slopes():
    from lib.scale import StackedModels
    from lib.taking_apart.model import DiskAEConfig, DiskAutoencoder

    return StackedModels(
        [
            DiskAutoencoder(DiskAEConfig()),
            DiskAutoencoder(DiskAEConfig(negative_slope=0.3)),
        ]
    )


def _export(decode, n_inputs):
    from lib.live import export_onnx

    return export_onnx(decode, n_inputs)


# --------------------------------------------------------------------------------------------
# the course build, as a function (its command is among the script cases)
# --------------------------------------------------------------------------------------------
def _chapter(text: str | bytes | None = None, nb: dict | None = None) -> Path:
    folder = _tmp()
    if nb is not None:
        text = json.dumps(nb)
    return _write(folder / "00_chapter.ipynb", text if text is not None else "{}")


def _course(chapters, *, student=..., course=..., prepare=None, master=None):
    """``build`` of ``chapters``; ``master``: the notebook of chapter 00_chapter's
    assignment, written to an assignments folder of its own (default: the book's)."""
    from lib.course import ASSIGNMENTS_DIR, build

    tmp = _tmp()
    student = tmp / "student" if student is ... else student
    course = tmp / "course" if course is ... else course
    if prepare is not None:
        prepare(tmp)
    assignments = ASSIGNMENTS_DIR
    if master is not None:
        assignments = tmp / "assignments"
        _write(assignments / "00_chapter.ipynb", json.dumps(master))
    return build(student, course, chapters, assignments_dir=assignments)


def _course_keeps_a_users_tests() -> str | None:
    """The issue's data loss: a corrupt first chapter and a folder with a user's tests."""
    from lib.course import build
    from lib.errors import ParameterError

    tmp = _tmp()
    mine = _write(tmp / "student" / "tests" / "test_mine.py", "def test_mine(): pass\n")
    try:
        build(tmp / "student", tmp / "course", [_chapter('{"cells": [')])
    except ParameterError:
        pass
    return (
        None
        if mine.is_file() and mine.read_text() == "def test_mine(): pass\n"
        else ("the user's tests are gone")
    )


def _nb(cells: list[tuple[str, str]]) -> dict:
    return {
        "cells": [{"cell_type": t, "metadata": {}, "source": s} for t, s in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def course_cases() -> list:
    cases: list = []

    def add(id, call, names, issue=False):
        cases.append(Api(Case(id, call, names), issue=issue))

    cases.append(
        Answer(
            "course build with a corrupt first chapter keeps a folder's tests",
            _course_keeps_a_users_tests,
            issue=True,
        )
    )
    add("build of no chapter", lambda: _course([]), "no chapters")
    add(
        "build of a missing chapter",
        lambda: _course([_tmp() / "none.ipynb"]),
        "none.ipynb",
    )
    add(
        "build of a cut chapter",
        lambda: _course([_chapter('{"cells": [')]),
        "00_chapter",
    )
    add("build of a {} chapter", lambda: _course([_chapter("{}")]), "00_chapter")
    add(
        "build of a binary chapter",
        lambda: _course([_chapter(b"\x89PNG")]),
        "00_chapter",
    )
    add("build of a folder as chapter", lambda: _course([_tmp()]), "chapter")
    chapter = _nb([("markdown", "# T"), ("code", "# Colab only: install `lib`")])
    add(
        "build of an assignment without a title",
        lambda: _course(
            [_chapter(nb=chapter)],
            master=_nb(
                [("markdown", "no title"), ("raw", "# BEGIN QUESTION\nname: q\n")]
            ),
        ),
        "not a title",
    )
    add(
        "build of an assignment without a question",
        lambda: _course(
            [_chapter(nb=chapter)], master=_nb([("markdown", "# T"), ("code", "x = 1")])
        ),
        "no question",
    )
    add(
        "build of a question without a name",
        lambda: _course(
            [_chapter(nb=chapter)],
            master=_nb([("markdown", "# T"), ("raw", "# BEGIN QUESTION\npoints: 1\n")]),
        ),
        "without a name",
    )
    add("build of chapters a string", lambda: _course(str(_chapter("{}"))), "chapters")
    add("build of chapters [3]", lambda: _course([3]), "chapters")
    add(
        "build into student_dir 3",
        lambda: _course([_chapter("{}")], student=3),
        "student_dir",
    )
    add(
        "build into course_dir None",
        lambda: _course([_chapter("{}")], course=None),
        "course_dir",
    )
    add(
        "build into a student_dir that is a file",
        lambda: _course([_chapter("{}")], student=_file_in_tmp("f.txt", "x")),
        "--student-dir",
    )
    add(
        "build into a read-only course_dir",
        lambda: _course([_chapter("{}")], course=READ_ONLY / "course"),
        "--course-dir",
    )
    add(
        "build into a student_dir with a user's notebook",
        lambda: _course(
            [_chapter("{}")],
            student=_file_in_tmp("mine.ipynb", "{}").parent,
        ),
        "--student-dir",
    )
    return cases


# --------------------------------------------------------------------------------------------
# the checkpoint cache: files a kill, a disk or a hand has damaged
# --------------------------------------------------------------------------------------------
def _saved(name: str = "m") -> Path:
    """A tiny valid checkpoint in a fresh folder (its path, without suffix)."""
    from lib.checkpoint import save_checkpoint

    model = _tiny_model()
    path = _tmp() / name
    save_checkpoint(path, model, model.config.to_dict(), history={"loss": [1.0, 0.5]})
    return path


def _edit_json(path: Path, **changes) -> Path:
    meta = path.with_name(path.name + ".json")
    record = json.loads(meta.read_text())
    record.update(changes)
    meta.write_text(json.dumps(record))
    return path


def _replace_weights(path: Path, data: bytes | Callable[[Path], None]) -> Path:
    """New bytes for the weights, with the JSON's checksum made to match them."""
    weights = path.with_name(path.name + ".pt")
    if callable(data):
        data(weights)
    else:
        weights.write_bytes(data)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    return _edit_json(path, sha256=digest)


def _torch_save(obj) -> Callable[[Path], None]:
    import torch

    return lambda target: torch.save(obj, target)


def _load_ckpt(path, **kwargs):
    from lib.checkpoint import load_checkpoint

    return load_checkpoint(path, _tiny_model(), **kwargs)


def _load_pretrained(path, **kwargs):
    from lib.checkpoint import load_pretrained

    return load_pretrained(path, **kwargs)


def _save(path=..., model=..., config=..., **kwargs):
    from lib.checkpoint import save_checkpoint

    net = _tiny_model() if model is ... else model
    config = net.config.to_dict() if config is ... else config
    return save_checkpoint(_tmp() / "m" if path is ... else path, net, config, **kwargs)


def _resume_at_step(step) -> Any:
    """resumable_fit of a run whose checkpoint JSON says ``step``."""
    import torch

    from lib.trainer import TensorSampler, Trainer, TrainerConfig, resumable_fit

    def trainer():
        torch.manual_seed(0)
        x = torch.randn(16, 2)
        return Trainer(
            torch.nn.Linear(2, 1),
            lambda m, b: (m(b[0]) - b[1]).pow(2).mean(),
            TensorSampler(x, x[:, :1], batch_size=4),
            TrainerConfig(steps=4, progress=False),
        )

    path = _tmp() / "run"
    resumable_fit(trainer(), path, {}, steps=2)
    _edit_json(path, step=step)
    return resumable_fit(trainer(), path, {})


def _concurrent_writers() -> str | None:
    """The issue's second data loss: two processes save one checkpoint while a third reads;
    every read must be whole (weights and metadata of one writer) or a clear refusal."""
    import multiprocessing

    path = _tmp() / "shared"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    writers = [context.Process(target=_writer, args=(path, who)) for who in (1, 2)]
    reader = context.Process(target=_reader, args=(path, results))
    for process in writers:
        process.start()
    reader.start()
    for process in (*writers, reader):
        process.join(60)
    for process in (*writers, reader):
        if process.is_alive():
            process.kill()
            return "a writer or the reader hung"
    if any(p.exitcode != 0 for p in writers):
        return f"a writer failed (exit {[p.exitcode for p in writers]})"
    found = results.get(timeout=5)
    return None if found == "ok" else found


def _writer(path: Path, who: int) -> None:
    import torch

    from lib.checkpoint import save_checkpoint

    model = _tiny_model()
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float(who))
    for _ in range(15):
        save_checkpoint(path, model, model.config.to_dict(), meta={"who": who})


def _reader(path: Path, results) -> None:
    from lib.checkpoint import load_checkpoint
    from lib.errors import CheckpointError

    deadline = time.monotonic() + 8
    reads = 0
    while time.monotonic() < deadline:
        model = _tiny_model()
        try:
            ckpt = load_checkpoint(path, model)
        except CheckpointError as exc:
            if "missing" in str(exc):
                continue
            results.put(f"a read saw a corrupt checkpoint: {exc}")
            return
        weight = float(next(model.parameters()).detach().flatten()[0])
        if weight != ckpt.meta["who"]:
            results.put(
                f"weights of writer {weight} under metadata of {ckpt.meta['who']}"
            )
            return
        reads += 1
    results.put("ok" if reads else "no read succeeded")


def cache_cases() -> list:
    import torch

    cases: list = []

    def add(id, call, names, issue=False):
        cases.append(Api(Case(id, call, names), issue=issue))

    cases.append(
        Answer(
            "two writers and a reader of one checkpoint",
            _concurrent_writers,
            seconds=90,
            issue=True,
            slow=True,
        )
    )
    add(
        "resumable_fit of a checkpoint JSON at step -5",
        lambda: _resume_at_step(-5),
        "step",
        issue=True,
    )
    add("resumable_fit of a JSON step '2'", lambda: _resume_at_step("2"), "step")
    add("resumable_fit of a JSON step 1.5", lambda: _resume_at_step(1.5), "step")
    add(
        "resumable_fit of a JSON step past the budget",
        lambda: _resume_at_step(9),
        "step",
    )
    add(
        "train_or_load whose training returns a scalar history",
        lambda: _train_or_load(train_fn=lambda net: {"loss": 0.5}),
        "history",
        issue=True,
    )
    # the weights
    add(
        "weights cut in half",
        lambda: _load_ckpt(_replace_weights_cut(_saved())),
        "corrupt",
    )
    add(
        "weights random bytes, checksum to match",
        lambda: _load_ckpt(_replace_weights(_saved(), os.urandom(4096))),
        "cannot read",
    )
    add(
        "weights empty, checksum to match",
        lambda: _load_ckpt(_replace_weights(_saved(), b"")),
        "cannot read",
    )
    add(
        "weights a pickled module, checksum to match",
        lambda: _load_ckpt(
            _replace_weights(_saved(), _torch_save(torch.nn.Linear(2, 2)))
        ),
        "cannot read",
    )
    add(
        "weights a list for the state_dict",
        lambda: _load_ckpt(_replace_weights(_saved(), _torch_save({"model": [1, 2]}))),
        "state_dict",
    )
    add(
        "weights an empty state_dict",
        lambda: _load_ckpt(_replace_weights(_saved(), _torch_save({"model": {}}))),
        "do not fit",
    )
    add(
        "weights of another shape",
        lambda: _load_ckpt(
            _replace_weights(
                _saved(),
                _torch_save(
                    {
                        "model": {
                            k: v[..., :1] for k, v in _tiny_model().state_dict().items()
                        }
                    }
                ),
            )
        ),
        "do not fit",
    )
    add(
        "weights a tensor, not a dict",
        lambda: _load_ckpt(_replace_weights(_saved(), _torch_save(torch.zeros(3)))),
        "state_dict",
    )
    add("weights a folder", lambda: _load_ckpt(_weights_a_folder(_saved())), "missing")
    add("weights a FIFO", lambda: _load_ckpt(_weights_a_fifo(_saved())), "missing")
    add("weights /dev/zero", lambda: _load_ckpt(_weights_dev_zero(_saved())), "missing")
    # the JSON
    for what, text in [
        ("cut", '{"format_version": 1, "sha'),
        ("binary", b"\xff\xfe\xfd"),
        ("nested 100,000 deep", "[" * 100_000 + "]" * 100_000),
        ("a string", '"a checkpoint"'),
        ("null", "null"),
        ("empty", ""),
    ]:
        add(
            f"checkpoint JSON {what}",
            lambda t=text: _load_ckpt(_json_text(_saved(), t)),
            "m.json",
        )
    for key, value, names in [
        ("step", "5", "step"),
        ("step", 1.5, "step"),
        ("step", NAN, "step"),
        ("step", True, "step"),
        ("history", {"loss": "abc"}, "history"),
        ("history", [1, 2], "history"),
        ("meta", [], "meta"),
        ("sha256", "ABC", "sha256"),
        ("sha256", None, "sha256"),
        ("format_version", 2, "format_version"),
        ("config", "latent_dim=2", "config"),
        ("model_class", 7, "model_class"),
    ]:
        add(
            f"checkpoint JSON {key} {value!r}",
            lambda f=key, v=value: _load_ckpt(_edit_json(_saved(), **{f: v})),
            names,
        )
    for what, changes, names in [
        ("another model's class", {"model_class": "TorusAutoencoder"}, "config"),
        ("a module outside lib", {"model_module": "os"}, "module"),
        (
            "a module that does not exist",
            {"model_module": "lib.nothing"},
            "lib.nothing",
        ),
        ("a class no one registered", {"model_class": "Nope"}, "Nope"),
        (
            "a config of other numbers",
            {
                "config": {
                    "name": "WarmupAEConfig",
                    "latent_dim": 3,
                    "channels": 2,
                    "hidden": 4,
                }
            },
            "weights",
        ),
        (
            "a config with an unknown key",
            {
                "config": {
                    "name": "WarmupAEConfig",
                    "latent_dim": 2,
                    "channels": 2,
                    "hidden": 4,
                    "colour": 1,
                }
            },
            "colour",
        ),
    ]:
        add(
            f"load_pretrained of a JSON naming {what}",
            lambda c=changes: _load_pretrained(_edit_json(_saved(), **c)),
            names,
        )
    add(
        "load_checkpoint with a config of other numbers",
        lambda: _load_ckpt(
            _saved(), expected_config={"name": "WarmupAEConfig", "latent_dim": 3}
        ),
        "latent_dim",
    )
    add("load_checkpoint of a path 3", lambda: _load_ckpt(3), "path")
    add("load_checkpoint of a path ''", lambda: _load_ckpt(""), "path")
    add("load_pretrained of ''", lambda: _load_pretrained(""), "''")
    add("load_pretrained of '.'", lambda: _load_pretrained("."), "'.'")
    add(
        "load_checkpoint map_location 'gpu'",
        lambda: _load_ckpt(_saved(), map_location="gpu"),
        "map_location",
    )
    add(
        "load_pretrained map_location 'gpu'",
        lambda: _load_pretrained("intro/warmup_ae", map_location="gpu"),
        "map_location",
    )
    add(
        "load_checkpoint into a string",
        lambda: __import__("lib.checkpoint").checkpoint.load_checkpoint(
            _saved(), "model"
        ),
        "model",
    )
    add(
        "read_checkpoint_meta of a JSON list",
        lambda: __import__("lib.checkpoint").checkpoint.read_checkpoint_meta(
            _json_text(_saved(), "[]")
        ),
        "m.json",
    )
    add(
        "load_pretrained preferring a cut copy in the cache",
        _prefer_a_cut_cache,
        "warmup_ae",
    )
    # saving
    add(
        "save_checkpoint into a read-only folder",
        lambda: _save(READ_ONLY / "m"),
        str(READ_ONLY / "m"),
    )
    add(
        "save_checkpoint under a file",
        lambda: _save(_file_in_tmp("f", "x") / "m"),
        "m.pt",
    )
    add(
        "save_checkpoint where the .pt is a folder",
        lambda: _save(_pt_folder()),
        "folder",
    )
    add("save_checkpoint config a string", lambda: _save(config="x"), "config")
    add("save_checkpoint history a list", lambda: _save(history=[1.0]), "history")
    add(
        "save_checkpoint history of scalars",
        lambda: _save(history={"loss": 1.0}),
        "history",
    )
    add("save_checkpoint meta a list", lambda: _save(meta=[1]), "meta")
    add("save_checkpoint meta an object", lambda: _save(meta={"x": object()}), "meta")
    add(
        "save_checkpoint model a string", lambda: _save(model="net", config={}), "model"
    )
    add("save_checkpoint step True", lambda: _save(step=True), "step")
    add("save_checkpoint step -1", lambda: _save(step=-1), "step")
    add("save_checkpoint path None", lambda: _save(path=None), "path")
    # the cache folder, through train_or_load
    cases.append(
        Answer(
            "train_or_load: a cache under a file is refused before training",
            lambda: _refused_before_training(str(_file_in_tmp("f", "x") / "cache")),
        )
    )
    add(
        "train_or_load preferring a cut cached checkpoint",
        _train_prefer_cut_cache,
        "hostile",
    )
    return cases


def _replace_weights_cut(path: Path) -> Path:
    weights = path.with_name(path.name + ".pt")
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    return path


def _json_text(path: Path, text: str | bytes) -> Path:
    _write(path.with_name(path.name + ".json"), text)
    return path


def _weights_a_folder(path: Path) -> Path:
    weights = path.with_name(path.name + ".pt")
    weights.unlink()
    weights.mkdir()
    return path


def _weights_a_fifo(path: Path) -> Path:
    weights = path.with_name(path.name + ".pt")
    weights.unlink()
    os.mkfifo(weights)
    return path


def _weights_dev_zero(path: Path) -> Path:
    weights = path.with_name(path.name + ".pt")
    weights.unlink()
    weights.symlink_to("/dev/zero")
    return path


def _pt_folder() -> Path:
    path = _tmp() / "m"
    path.with_name("m.pt").mkdir()
    return path


def _prefer_a_cut_cache():
    from lib.checkpoint import cached_path

    os.environ["BOOK_CACHE"] = str(_tmp())
    copy = cached_path("intro/warmup_ae")
    _write(copy.with_name("warmup_ae.json"), '{"format_version": 1, "cut')
    _write(copy.with_name("warmup_ae.pt"), b"cut")
    return _load_pretrained("intro/warmup_ae", prefer_cache=True)


def _train_prefer_cut_cache():
    from lib.checkpoint import cached_path
    from lib.notebook import train_or_load

    os.environ["BOOK_CACHE"] = str(_tmp())
    copy = cached_path("intro/hostile")
    _write(copy.with_name("hostile.json"), '{"format_version": 1, "cut')
    _write(copy.with_name("hostile.pt"), b"cut")
    settings = _setup(train="never", prefer_cache=True)
    return _quiet(
        lambda: train_or_load(settings, "intro/hostile", _tiny_model(), lambda n: {})
    )


# --------------------------------------------------------------------------------------------
# the issue's script cases that are answers, not refusals
# --------------------------------------------------------------------------------------------
def _pmp_grid_all_passes_its_options() -> str | None:
    """pmp_grid.py --all gives every child run the options it was given."""
    module, code = _load("pmp_grid")
    commands: list[list[str]] = []

    def child(cmd, *args, **kwargs):
        commands.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    saved = module.subprocess.run
    module.subprocess.run = child
    tmp = _tmp()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            status = module.main(
                [
                    "--all",
                    "--steps",
                    "7",
                    "--k-changed",
                    "2",
                    "--quick-sizes",
                    "--no-save",
                    "--out",
                    str(tmp / "r.jsonl"),
                ]
            )
    finally:
        module.subprocess.run = saved
    wanted = ["--steps", "7", "--k-changed", "2", "--quick-sizes", "--no-save"]
    missing = [w for cmd in commands for w in wanted if w not in cmd]
    if status != 0 or not commands:
        return f"exit {status}, {len(commands)} child runs"
    return f"child runs lack {sorted(set(missing))}" if missing else None


def _a_cut_line_is_not_glued_to() -> str | None:
    """A record line cut by a kill never gets the next run's line glued onto it."""
    from lib.records import append_record, read_records

    path = _tmp() / "r.jsonl"
    path.write_text('{"run": 1}\n{"run": 2, "val')
    append_record(path, {"run": 3})
    rows = read_records(path, made_by="a test")
    cut = path.with_name("r.jsonl.cut")
    if [r["run"] for r in rows] != [1, 3]:
        return f"rows {rows}"
    return (
        None if cut.is_file() and "val" in cut.read_text() else "the cut line was lost"
    )


def _append_to(text: str):
    from lib.records import append_record

    return append_record(_file_in_tmp("notes.txt", text), {"run": 1})


def answer_script_cases() -> list:
    return [
        Answer(
            "pmp_grid --all passes its options to every child run",
            _pmp_grid_all_passes_its_options,
            issue=True,
        ),
        Answer(
            "a record line cut by a kill is set aside, not glued to",
            _a_cut_line_is_not_glued_to,
            issue=True,
        ),
        Api(
            Case(
                "append_record to a text file",
                lambda: _append_to("my notes\n"),
                "notes.txt",
            )
        ),
        Api(
            Case(
                "append_record to a binary file",
                _append_bytes,
                "notes.bin",
            )
        ),
    ]


def _append_bytes():
    from lib.records import append_record

    return append_record(_file_in_tmp("notes.bin", b"\x89PNG\r\n\x1a\n"), {"run": 1})


# --------------------------------------------------------------------------------------------
def all_cases() -> dict[str, list]:
    """Every case, by surface."""
    return {
        "scripts": script_cases() + answer_script_cases(),
        "settings": settings_cases(),
        "notebook API": api_cases(),
        "course build": course_script_cases() + course_cases(),
        "checkpoint cache": cache_cases(),
    }


def describe(case) -> str:
    """A case as a user would type it: a script's command line (``$TMP``: the case's own
    temporary folder), else the call's name."""
    if not isinstance(case, Script):
        return case.id
    tmp = Path("$TMP")
    env = {"BOOK_CACHE": "$TMP/cache", **_resolve(case.env, tmp)}
    script = SCRIPTS[case.script]
    command = (
        f"python -m {case.script}"
        if case.script.startswith("lib.")
        else f"python {script}"
    )
    argv = " ".join(
        repr(a) if not a or " " in a else a for a in _resolve(case.argv, tmp)
    )
    settings = " ".join(f"{k}={v}" for k, v in env.items() if k != "BOOK_CACHE")
    return f"{settings + ' ' if settings else ''}{command} {argv}  ({case.id})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="every case's line"
    )
    parser.add_argument("--only", default=None, help="cases whose id contains this")
    parser.add_argument("--surface", choices=SURFACES, default=None)
    parser.add_argument("--issue", action="store_true", help="the issue's cases only")
    parser.add_argument("--list", action="store_true", help="the commands, run nothing")
    args = parser.parse_args(argv)
    if args.list:
        for surface, cases in all_cases().items():
            if not args.surface or surface == args.surface:
                for case in cases:
                    if case.issue or not args.issue:
                        print(
                            f"{surface}\t{'issue' if case.issue else 'new'}\t{describe(case)}"
                        )
        return 0
    table: dict[tuple[str, bool], Counter[str]] = {}
    ours = 0  # raw outcomes that are the library's own message in a traceback
    started = time.perf_counter()
    for surface, cases in all_cases().items():
        if args.surface and surface != args.surface:
            continue
        for case in cases:
            if args.only and args.only not in case.id or args.issue and not case.issue:
                continue
            outcome, detail = run_case(case)
            issue = bool(getattr(case, "issue", False))
            table.setdefault((surface, issue), Counter())[outcome] += 1
            if detail.startswith(OURS_IN_A_TRACEBACK):
                ours += 1
            detail = " | ".join(detail.splitlines())
            if outcome != "clear" or args.verbose:
                print(
                    f"  {outcome:6s} {surface}: {case.id}: {detail[:220]}", flush=True
                )
    print()
    print(
        f"{'surface':<18}{'cases':<12}{'total':>6}"
        + "".join(f"{o:>8}" for o in OUTCOMES)
    )
    totals: Counter[str] = Counter()
    for (surface, issue), counts in sorted(table.items()):
        totals += counts
        print(
            f"{surface:<18}{'issue' if issue else 'new':<12}{sum(counts.values()):>6}"
            + "".join(f"{counts[o]:>8}" for o in OUTCOMES)
        )
    print(
        f"{'all':<18}{'':<12}{sum(totals.values()):>6}"
        + "".join(f"{totals[o]:>8}" for o in OUTCOMES)
    )
    print(
        f"raw outcomes that are {OURS_IN_A_TRACEBACK}: {ours}; "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return 0 if set(totals) <= {"clear"} else 1


if __name__ == "__main__":
    sys.exit(main())
