"""The command-line scripts' front door: argument types that refuse bad values in one line,
and one wrapper for every script's ``main``.

A usage error or a library error (:class:`~lib.errors.BookError`, a file that cannot be
read or written, a ``ValueError`` raised by the book's own checks) is printed as one line,
``PROG: error: MESSAGE``, and the script exits with status 2, as argparse does for its own
errors; nothing is trained or written before the arguments are checked: the output paths
too (:func:`output_file`, :func:`output_folder`: writable, and nothing created to find out),
and a path among the shipped files is refused unless the maintainer's flag says so
(:func:`refuse_shipped`). Each script's ``main(argv)`` can be called in-process (the tests
do), and returns its exit status.

    parser.add_argument("--steps", type=int_at_least(1, MAX_STEPS))
    parser.add_argument("--seeds", type=seed_list)
    parser.add_argument("--out", type=record_file, required=True)
    ...
    args = parser.parse_args(argv)
    if not args.update_shipped:
        refuse_shipped(args.out, "--out")
    ...
    if __name__ == "__main__":
        sys.exit(run_main(main))
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from .config import check_can_write
from .errors import BookError, ParameterError

MAX_SEEDS = 1000  # a seed list longer than this is a typo, not a plan
# Larger than any budget, batch or evaluation set the book plans (the paper budgets are
# 691,200 and 1,000,000 steps; 65,536 images of 64 x 64 pixels already take 1 GiB), so a
# value above is a typo, refused before it trains for ever or asks for terabytes.
MAX_STEPS = 10**9
MAX_BATCH = 2**16
MAX_IMAGES = 10**5  # an evaluation set


def int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum`` (and <= ``maximum``, when given)."""
    within = f">= {minimum}" + ("" if maximum is None else f" and <= {maximum:,}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer {within}, got {text!r}"
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(
                f"expected an integer {within}, got {value}"
            )
        return value

    parse.__name__ = f"integer {within}"
    return parse


def seed_value(text: str) -> int:
    """An argparse type: one seed, an integer in [0, 2**32) (NumPy's seeds are 32-bit)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"expected a seed, an integer in [0, 2**32), got {text!r}"
        )
    return value


def real_at_least(minimum: float, *, strict: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number >= ``minimum`` (> with ``strict``)."""
    sign = ">" if strict else ">="

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(
                f"expected a finite number {sign} {minimum:g}, got {text!r}"
            )
        return value

    parse.__name__ = f"number {sign} {minimum:g}"
    return parse


def seed_list(text: str) -> tuple[int, ...]:
    """An argparse type: ``"0-4"`` -> (0, 1, 2, 3, 4); ``"0,2"`` -> (0, 2); at most
    :data:`MAX_SEEDS` seeds, each in [0, 2**32)."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"seeds like 0-4 or 0,2, got {text!r}"
            ) from None
        if first < 0 or last < first or last >= 2**32:
            raise argparse.ArgumentTypeError(
                f"seeds like 0-4 or 0,2 (each in [0, 2**32)), got {text!r}"
            )
        if last - first + 1 + len(seeds) > MAX_SEEDS:
            raise argparse.ArgumentTypeError(f"at most {MAX_SEEDS} seeds, got {text!r}")
        seeds.extend(range(first, last + 1))
    return tuple(dict.fromkeys(seeds))


def budget_steps(text: str, chapter_steps: int, paper_steps: int | None) -> int:
    """A training budget given on a command line: ``paper`` (``paper_steps``; None: the
    paper states none, refused), ``cpu`` (the chapter's budget, ``chapter_steps``) or a
    number of steps, from 1 to :data:`MAX_STEPS`. A bad one is an
    ``argparse.ArgumentTypeError`` that says what is allowed."""
    if text == "paper":
        if paper_steps is None:
            raise argparse.ArgumentTypeError(
                "the paper states no training budget for this chapter; give a number "
                "of steps"
            )
        return paper_steps
    if text == "cpu":
        return chapter_steps
    try:
        steps = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--budget is paper, cpu or a number of steps, got {text!r}"
        ) from None
    if not 1 <= steps <= MAX_STEPS:
        raise argparse.ArgumentTypeError(
            f"--budget must be from 1 to {MAX_STEPS:,} steps, got {steps}"
        )
    return steps


def threads(text: str) -> int:
    """An argparse type: a number of CPU threads, from 1 to the machine's core count."""
    cores = os.cpu_count() or 1
    value = int_at_least(1)(text)
    if value > 4 * cores:
        raise argparse.ArgumentTypeError(
            f"expected at most {4 * cores} threads on this {cores}-core machine, got {value}"
        )
    return value


def output_file(text: str) -> Path:
    """An argparse type: a file this user can write (not a folder, its folder writable or
    creatable); nothing is created (:func:`lib.config.check_can_write`)."""
    try:
        return check_can_write(text, "file", folder=False)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def record_file(text: str) -> Path:
    """An argparse type: a JSON-lines record to append to (:func:`output_file`, and an
    existing file must be a record: :func:`lib.records.check_appendable`)."""
    from .records import check_appendable

    path = output_file(text)
    try:
        return check_appendable(path, "file")
    except BookError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def output_folder(text: str) -> Path:
    """An argparse type: a folder this user can write in, or create (not a file)."""
    try:
        return check_can_write(text, "folder", folder=True)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def is_shipped(path: str | os.PathLike) -> bool:
    """Whether ``path`` lies in the book's shipped files, ``lib/pretrained/``."""
    from .checkpoint import is_shipped as shipped

    return shipped(Path(path).expanduser())


def refuse_shipped(
    path: str | os.PathLike | None,
    option: str,
    *,
    flag: str | None = "--update-shipped",
) -> None:
    """A :class:`~lib.errors.ParameterError` naming ``option`` when ``path`` lies in the
    shipped files: they change only when a maintainer asks (``flag``; ``None``: this
    option never writes there)."""
    if path is None or not is_shipped(path):
        return
    how = (
        f"pass {flag} to change them (maintainers)"
        if flag
        else "name a path outside lib/pretrained"
    )
    raise ParameterError(
        f"{option} {path} is among the files shipped with the book; {how}"
    )


def _ours(exc: BaseException, folders: Sequence[Path]) -> bool:
    """Whether ``exc`` was raised by a ``raise`` statement of the book's own code."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return False
    last = frames[-1]
    inside = any(Path(last.filename).resolve().is_relative_to(f) for f in folders)
    return inside and (last.line or "").lstrip().startswith("raise")


def run_main(main: Callable[[Sequence[str] | None], int | None], argv=None) -> int:
    """Run a script's ``main(argv)``; a library error, a file that cannot be read or
    written, or a ``ValueError`` / ``TypeError`` the book's own code raises about its
    input becomes one line on stderr and exit status 2 (a usage error), never a
    traceback."""
    prog = os.path.basename(sys.argv[0]) if argv is None else "script"
    try:
        status = main(argv)
    except (BookError, OSError, ValueError, TypeError) as exc:
        code = getattr(main, "__code__", None)
        folders = [Path(__file__).resolve().parent]
        if code is not None:
            folders.append(Path(code.co_filename).resolve().parent)
        if not isinstance(exc, (BookError, OSError)) and not _ours(exc, folders):
            raise  # a bug, not a bad input: its traceback is what a maintainer needs
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    return 0 if status is None else int(status)
