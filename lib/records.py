"""Records of long runs: JSON lines, one object per line, read by one function.

The chapters ship what their scripts measured (a loss-weight sweep, a grid of seeds x models, a
spike model's evaluation points on a GPU) as JSON-lines files beside the checkpoints; each paper
package's ``record.py`` names its files and what a row holds, and reads them with
:func:`read_records`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import DataError, ParameterError


def read_records(
    path: str | Path, *, made_by: str, required: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The objects of the JSON-lines file ``path``, in file order (blank lines skipped).

    A missing file is a :class:`FileNotFoundError` that says which script (``made_by``)
    makes it; a line that is not a JSON object, or lacks one of the ``required`` keys, a
    :class:`~lib.errors.DataError` naming ``path:line``.
    """
    if not isinstance(path, (str, Path)):
        raise ParameterError(f"path must be a file path, got {path!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no record at {path}; run {made_by} to create one")
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
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
