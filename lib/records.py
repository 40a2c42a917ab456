"""Records of long runs: JSON lines, one object per line, read by one function.

The chapters ship what their scripts measured (a loss-weight sweep, a grid of seeds x models, a
spike model's evaluation points on a GPU) as JSON-lines files beside the checkpoints; each paper
package's ``record.py`` names its files and what a row holds, and reads them with
:func:`read_records`. Every script appends with :func:`append_record`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import DataError, ParameterError
from .files import locked


def read_records(
    path: str | Path,
    *,
    made_by: str,
    required: Sequence[str] = (),
    skip_cut_tail: bool = False,
) -> list[dict[str, Any]]:
    """The objects of the JSON-lines file ``path``, in file order (blank lines skipped).

    A missing file is a :class:`FileNotFoundError` that says which script (``made_by``)
    makes it; a line that is not a JSON object, or lacks one of the ``required`` keys, a
    :class:`~lib.errors.DataError` naming ``path:line``. With ``skip_cut_tail`` a last line
    cut short by a kill (no newline after it, not JSON) is left out, as
    :func:`append_record` will set it aside: a run that resumes reads what was whole.
    """
    if not isinstance(path, (str, Path)):
        raise ParameterError(f"path must be a file path, got {path!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no record at {path}; run {made_by} to create one")
    rows: list[dict[str, Any]] = []
    text = path.read_text()
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            if skip_cut_tail and number == len(lines) and not text.endswith("\n"):
                break
            raise DataError(f"{path}:{number} is not a JSON line ({err.msg})") from None
        if not isinstance(row, dict):
            raise DataError(
                f"{path}:{number} is a JSON {type(row).__name__}, not a row"
            )
        missing = [key for key in required if key not in row]
        if missing:
            raise DataError(f"{path}:{number} lacks {missing}")
        rows.append(row)
    return rows


def check_appendable(path: str | Path, what: str = "record") -> Path:
    """``path`` as a Path if a record line may be appended to it: it is missing, empty, or
    a JSON-lines record (its last whole line a JSON object). Any other file (a notebook, a
    README, a checkpoint's JSON) is a :class:`~lib.errors.DataError` naming ``what`` and the
    file, so that no one's file gets a record glued to its end. A last line cut by a kill is
    not judged (:func:`append_record` sets it aside)."""
    path = Path(path)
    if not path.is_file():
        return path
    tail_bytes = 1 << 20  # a record's line is a few kB; a longer one is not judged
    with open(path, "rb") as stream:
        size = stream.seek(0, os.SEEK_END)
        start = max(0, size - tail_bytes)
        stream.seek(start)
        tail = stream.read()
    lines = tail.split(b"\n")[:-1]  # the lines a newline ends
    if start > 0:
        lines = lines[1:]  # the first may begin before the tail
    whole = [line for line in lines if line.strip()]
    if not whole:
        return path
    try:
        row = json.loads(whole[-1])
    except ValueError:  # not JSON, not UTF-8
        row = None
    if not isinstance(row, dict):
        raise DataError(
            f"{what} {path} is not a JSON-lines record (its last line is not a JSON "
            "object); name a new file or a record"
        )
    return path


def append_record(path: str | Path, record: dict[str, Any]) -> Path:
    """Append ``record`` as one JSON line to ``path``, safely, and return the path.

    The line is serialised before the file is touched (a record JSON cannot hold is refused
    and nothing is written), appended in one write under the file's lock
    (:func:`lib.files.locked`, so concurrent writers never interleave) and flushed to disk.
    A last line cut short by a kill is never glued to: it is moved, as it was, to
    ``path.cut`` (kept for a person to look at) and the file is cut back to its last whole
    line first. A file that is not a JSON-lines record is refused
    (:func:`check_appendable`).
    """
    if not isinstance(path, (str, Path)):
        raise ParameterError(f"path must be a file path, got {path!r}")
    if not isinstance(record, dict):
        raise ParameterError(f"record must be a dict, got {type(record).__name__}")
    try:
        line = json.dumps(record, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"record cannot be written as JSON: {exc}") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        check_appendable(path)
        with open(path, "a+b") as stream:
            size = stream.seek(0, os.SEEK_END)
            if size:
                tail_start = _last_line_start(stream, size)
                stream.seek(size - 1)
                if (
                    stream.read(1) != b"\n"
                ):  # a line cut short: keep it aside, cut it off
                    stream.seek(tail_start)
                    with open(path.with_name(path.name + ".cut"), "ab") as cut:
                        cut.write(stream.read() + b"\n")
                    stream.truncate(tail_start)
            stream.write(line.encode())
            stream.flush()
            os.fsync(stream.fileno())
    return path


def _last_line_start(stream, size: int) -> int:
    """The offset just after the last newline before the end (0 when there is none)."""
    block, end = 1 << 16, size
    while end > 0:
        start = max(0, end - block)
        stream.seek(start)
        chunk = stream.read(end - start)
        at = chunk.rfind(b"\n", 0, len(chunk) - 1 if end == size else len(chunk))
        if at >= 0:
            return start + at + 1
        end = start
    return 0
