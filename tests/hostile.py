"""Bad input, as a hostile user gives it: every case must meet a clear error from the library.

Each case is a call with one bad argument (a wrong type, range, shape, dtype, a corrupt file, a
setting that cannot be meant). :func:`classify` runs it and says what came back:

- ``clear``: the library's own error (a :class:`lib.errors.BookError`), or a ``ValueError`` /
  ``TypeError`` raised by a ``raise`` statement in ``lib`` itself, whose message names what
  was wrong (``Case.names``);
- ``silent``: no error at all, so the bad input gave a result (the worst outcome);
- ``raw``: an exception from NumPy, torch, zlib, SciPy... escaping a public API, or a library
  error whose message does not name the argument;
- ``hang``: no answer within the case's time limit.

The cases live beside this file, one module per layer (``hostile_core``, ``hostile_data``,
``hostile_metrics``); ``tests/test_hostile.py`` asserts every one is ``clear``, and

    python tests/hostile.py

prints the count per outcome and per module (the report a reviewer asks for).
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib"
OUTCOMES = ("clear", "silent", "raw", "hang")


@dataclass(frozen=True)
class Case:
    """One bad input: ``call()`` must raise a clear error whose message contains ``names``."""

    id: str
    call: Callable[[], object]
    names: str = ""  # a word the message must contain (the argument, file or field)
    seconds: int = 60  # longer than this is a hang


class _Hang(Exception):
    pass


def _raised_in_lib(exc: BaseException) -> bool:
    """True when the innermost frame of ``exc`` is a ``raise`` statement in ``lib``."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return False
    last = frames[-1]
    inside = Path(last.filename).resolve().is_relative_to(LIB)
    return inside and (last.line or "").lstrip().startswith("raise")


def classify(case: Case) -> tuple[str, str]:
    """``(outcome, detail)`` of running ``case`` (see the module docstring)."""
    from lib.errors import BookError

    def on_alarm(signum, frame):
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(case.seconds)
    try:
        result = case.call()
    except _Hang:
        return "hang", f"no answer in {case.seconds} s"
    except Exception as exc:  # the point: see what escapes
        detail = f"{type(exc).__name__}: {exc}"
        ours = isinstance(exc, BookError) or (
            isinstance(exc, (ValueError, TypeError)) and _raised_in_lib(exc)
        )
        if not ours:
            return "raw", detail
        if case.names and case.names.lower() not in str(exc).lower():
            return "raw", f"message does not name {case.names!r}: {detail}"
        return "clear", detail
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return "silent", f"returned {type(result).__name__}"


def all_cases() -> dict[str, list[Case]]:
    """Every module's cases, by module."""
    sys.path.insert(0, str(Path(__file__).parent))
    import hostile_core
    import hostile_data
    import hostile_metrics

    return {
        module.__name__: module.cases()
        for module in (hostile_core, hostile_data, hostile_metrics)
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    totals: Counter[str] = Counter()
    for module, cases in all_cases().items():
        counts: Counter[str] = Counter()
        for case in cases:
            outcome, detail = classify(case)
            counts[outcome] += 1
            if outcome != "clear":
                print(f"  {outcome:6s} {module}:{case.id}: {detail[:160]}")
        totals += counts
        print(
            f"{module}: {len(cases)} cases, "
            + ", ".join(f"{o} {counts[o]}" for o in OUTCOMES)
        )
    print(
        f"all: {sum(totals.values())} cases, "
        + ", ".join(f"{o} {totals[o]}" for o in OUTCOMES)
    )


if __name__ == "__main__":
    main()
