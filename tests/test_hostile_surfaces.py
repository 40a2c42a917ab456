"""Every bad input of ``tests/hostile_surfaces.py`` on the surfaces around the library (the
scripts, the ``BOOK_*`` settings, the notebook API, the course build, the checkpoint cache)
is met by a clear refusal or the right answer (issue 44).

The suite runs every case but the three marked ``slow`` (about 20 s of the full set's 45 s
on two cores): the two that run a script as a process (a seed list that would fill the
memory, an evaluation interval that would loop for ever; ``tests/test_cli.py`` checks both
in-process) and the race of two checkpoint writers and a reader (``tests/test_checkpoint.py``
has its own). ``python tests/hostile_surfaces.py`` runs them all and prints the counts.
"""

from __future__ import annotations

import textwrap

import pytest
from hostile_surfaces import (
    _LOADED,
    SCRIPTS,
    Answer,
    Script,
    _load,
    all_cases,
    run_case,
)

CASES = [
    pytest.param(case, id=f"{surface}:{case.id}")
    for surface, cases in all_cases().items()
    for case in cases
    if not case.slow
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_meets_a_clear_refusal(case):
    outcome, detail = run_case(case)
    assert outcome == "clear", detail


def test_there_are_cases_on_every_surface_and_the_issues_own():
    counts = {surface: len(cases) for surface, cases in all_cases().items()}
    assert all(n >= 20 for n in counts.values()), counts
    everything = [case for cases in all_cases().values() for case in cases]
    issue = [case for case in everything if case.issue]
    assert len(issue) >= 50 and len(everything) - len(issue) >= 150


FAKE = """
import sys
from pathlib import Path

from lib.cli import run_main


def main(argv=None):
    what = sys.argv[1]
    if what == "accept":
        return 0
    if what == "raise":
        return {}["a key the script forgot"]
    if what == "two-lines":
        print("warning: something", file=sys.stderr)
        print("script: error: --x is bad", file=sys.stderr)
        return 2
    if what == "write-then-refuse":
        Path("out.txt").write_text("a file")
        print("script: error: --x is bad", file=sys.stderr)
        return 2
    if what == "train":
        from lib.trainer import Trainer

        Trainer.fit(None)
    if what == "wait":
        import time

        time.sleep(30)
    if what == "unnamed":
        print("script: error: something is wrong", file=sys.stderr)
        return 2
    print("script: error: --x is bad", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(run_main(main))
"""


@pytest.fixture
def fake_script(tmp_path, monkeypatch):
    path = tmp_path / "fake.py"
    path.write_text(textwrap.dedent(FAKE))
    monkeypatch.setitem(SCRIPTS, "fake", str(path))
    yield "fake"
    _LOADED.pop("fake", None)


@pytest.mark.parametrize(
    "argv, outcome",
    [
        (["accept"], "silent"),
        (["raise"], "raw"),
        (["two-lines"], "raw"),
        (["write-then-refuse"], "silent"),
        (["train"], "silent"),
        (["unnamed"], "raw"),
        (["refuse"], "clear"),
    ],
)
def test_the_script_classifier_can_fail(fake_script, argv, outcome):
    """Silence, a traceback, two lines, a file written before the refusal, training
    started and a message that names nothing are each told apart from a clear refusal."""
    _load(fake_script)
    assert run_case(Script("fake", fake_script, argv, "--x"))[0] == outcome


def test_a_script_that_does_not_answer_is_a_hang(fake_script):
    case = Script("fake", fake_script, ["wait"], "--x", seconds=1)
    assert run_case(case)[0] == "hang"


def test_an_answer_is_right_or_wrong():
    assert run_case(Answer("right", lambda: None))[0] == "clear"
    assert run_case(Answer("wrong", lambda: "read as True"))[0] == "silent"
    assert run_case(Answer("broken", lambda: {}["x"]))[0] == "raw"
