"""What each chapter costs a reader: run times in quick and full mode, and a reading time.

    python bench/notebook_times.py                      # every chapter, both modes, this machine
    python bench/notebook_times.py --only 04 --modes quick --out /tmp/times.json

Each chapter is executed with papermill from a fresh kernel, as a reader's "restart and run all"
would be: ``device="cpu"``, ``train="auto"`` (the shipped checkpoints load, nothing is trained
in full mode), outputs written to a temporary folder and nothing saved (``BOOK_SAVE=none``,
``BOOK_CACHE`` a temporary folder). The wall time includes the kernel's start and the imports.

The reading time is the chapter's prose (markdown words, solutions included) at a fixed pace,
:data:`WORDS_PER_MINUTE`, a documented choice for technical text with equations, not a
measurement of readers.

The result, ``lib/pretrained/run_times.json`` by default, is what each chapter's first cell
pastes in (:func:`lib.notebook.glue_run_times`). It names the machine, the thread count, the
torch version and the commit, so the numbers can be read for what they are: run it on the
machine whose times the book should quote, with nothing else running.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.cli import is_shipped, output_file, run_main  # noqa: E402
from lib.errors import ParameterError  # noqa: E402
from lib.files import atomic_write  # noqa: E402

WORDS_PER_MINUTE = (
    130  # a careful reading pace for prose with equations (a choice, see above)
)
DEFAULT_OUT = ROOT / "lib" / "pretrained" / "run_times.json"


def reading_minutes(path: Path) -> float:
    """Minutes to read the chapter's markdown at :data:`WORDS_PER_MINUTE`."""
    nb = json.loads(path.read_text())
    words = 0
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            words += len(re.findall(r"[A-Za-z0-9]+", text))
    return words / WORDS_PER_MINUTE


def run_seconds(path: Path, quick: bool, workdir: Path) -> float:
    """Wall seconds of one papermill execution of ``path`` on the CPU."""
    import papermill

    env_keep = dict(os.environ)
    os.environ.update(
        BOOK_NO_PROGRESS="1",
        BOOK_STATIC="1",
        BOOK_OFFLINE="1",
        BOOK_SAVE="none",
        BOOK_CACHE=str(workdir / "cache"),
    )
    try:
        start = time.perf_counter()
        papermill.execute_notebook(
            str(path),
            str(workdir / path.name),
            parameters={"device": "cpu", "quick": quick, "train": "auto"},
            kernel_name="python3",
            cwd=str(path.parent),
            progress_bar=False,
        )
        return time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(env_keep)


def machine_record() -> dict:
    import torch

    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],  # "-dirty": uncommitted notebooks
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "date": datetime.date.today().isoformat(),
        "commit": commit,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "words_per_minute": WORDS_PER_MINUTE,
        "command": "python bench/notebook_times.py",
    }


def earlier_chapters(path: Path) -> dict:
    """The ``chapters`` of an earlier run-times record at ``path``; a file that is not one
    is refused (:class:`~lib.errors.ParameterError`), so no other file is overwritten."""
    try:
        record = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(
            f"--out {path} is not a run-times record (not JSON: {exc})"
        ) from None
    if record != {} and not (
        isinstance(record, dict) and isinstance(record.get("chapters"), dict)
    ):
        raise ParameterError(
            f"--out {path} is not a run-times record (a JSON object with its chapters); "
            "name a new file or an earlier record"
        )
    return record.get("chapters", {})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="*", default=None, help="chapter number prefixes"
    )
    parser.add_argument("--modes", nargs="*", default=["quick", "full"])
    parser.add_argument("--out", type=output_file, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if is_shipped(args.out) and args.out.resolve() != DEFAULT_OUT.resolve():
        parser.error(
            f"--out {args.out} is a file shipped with the book, not its run times "
            f"({DEFAULT_OUT.relative_to(ROOT)})"
        )
    bad = set(args.modes) - {"quick", "full"}
    if bad:
        parser.error(f"unknown modes {sorted(bad)}: choose quick and/or full")
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.only is not None:
        paths = [p for p in paths if any(p.name.startswith(o) for o in args.only)]
    if not paths or not args.modes:
        parser.error("no chapter and mode to measure: check --only and --modes")
    # keep the chapters and modes this run does not measure (read before any is measured)
    chapters = earlier_chapters(args.out) if args.out.is_file() else {}
    record = {**machine_record(), "chapters": chapters}
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            entry = record["chapters"].setdefault(path.stem, {})
            entry["read_minutes"] = round(reading_minutes(path), 1)
            for mode in args.modes:
                seconds = run_seconds(path, mode == "quick", Path(tmp))
                entry[f"{mode}_cpu_seconds"] = round(seconds, 1)
                print(f"{path.stem}: {mode} mode {seconds:.0f} s", flush=True)
    atomic_write(args.out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
