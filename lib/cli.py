"""The command-line scripts' front door: argument types that refuse bad values in one line,
and one wrapper for every script's ``main``.

A usage error or a library error (:class:`~lib.errors.BookError`, a missing file) is printed
as one line, ``PROG: error: MESSAGE``, and the script exits with status 2, as argparse does
for its own errors; nothing is trained or written before the arguments are checked. Each
script's ``main(argv)`` can be called in-process (the tests do), and returns its exit status.

    parser.add_argument("--steps", type=int_at_least(1))
    parser.add_argument("--seeds", type=seed_list)
    ...
    if __name__ == "__main__":
        sys.exit(run_main(main))
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence

from .errors import BookError

MAX_SEEDS = 1000  # a seed list longer than this is a typo, not a plan


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {value}"
            )
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


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


def threads(text: str) -> int:
    """An argparse type: a number of CPU threads, from 1 to the machine's core count."""
    cores = os.cpu_count() or 1
    value = int_at_least(1)(text)
    if value > 4 * cores:
        raise argparse.ArgumentTypeError(
            f"expected at most {4 * cores} threads on this {cores}-core machine, got {value}"
        )
    return value


def run_main(main: Callable[[Sequence[str] | None], int | None], argv=None) -> int:
    """Run a script's ``main(argv)``; a library error or a missing file becomes one line on
    stderr and exit status 2 (a usage error), never a traceback."""
    prog = os.path.basename(sys.argv[0]) if argv is None else "script"
    try:
        status = main(argv)
    except (BookError, FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    return 0 if status is None else int(status)
