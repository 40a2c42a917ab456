"""Files the book checks before it trusts them: one digest function for every checksum.

Checkpoints record the sha256 of their weights (:mod:`lib.checkpoint`); the official data
files are known by their md5 (:mod:`lib.data.mnist`, :mod:`lib.data.dsprites`,
:mod:`lib.data.factor_files`). All of them read the file in blocks with :func:`file_digest`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import DataError, ParameterError

BLOCK = 1 << 20  # read 1 MiB at a time: a 3 GB file never sits in memory whole


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """The hex digest (``"sha256"`` or ``"md5"``) of the file at ``path``.

    A file that cannot be read is a :class:`~lib.errors.DataError` naming it.
    """
    if algorithm not in ("sha256", "md5"):
        raise ParameterError(f"algorithm must be 'sha256' or 'md5', got {algorithm!r}")
    digest = hashlib.new(algorithm)
    try:
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(BLOCK), b""):
                digest.update(block)
    except OSError as exc:
        raise DataError(f"cannot read {path} to check its {algorithm}: {exc}") from exc
    return digest.hexdigest()
