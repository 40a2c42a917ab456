"""Files the book checks before it trusts them: one digest function for every checksum.

Checkpoints record the sha256 of their weights (:mod:`lib.checkpoint`); the official data
files are known by their md5 (:mod:`lib.data.mnist`, :mod:`lib.data.dsprites`,
:mod:`lib.data.factor_files`). All of them read the file in blocks with :func:`file_digest`.

Files the book writes are written all or nothing (:func:`atomic_write`: a temporary file of
the writer's own, then a rename), and a pair of files that must agree (a checkpoint's weights
and JSON) is written and read under one lock (:func:`locked`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
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


LOCK_TIMEOUT_S = (
    300.0  # a checkpoint save takes seconds; a lock held this long is stuck
)


def temporary_beside(path: str | Path) -> Path:
    """A new, empty file in ``path``'s folder, named after it and unique to this writer.

    Two processes writing the same file each get their own temporary name, so one never
    writes into the other's half-written file; move it into place with ``os.replace``.
    """
    path = Path(path)
    while (
        True
    ):  # a random name, created exclusively (with the user's umask, as any file)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
        try:
            with open(partial, "xb"):
                return partial
        except FileExistsError:
            continue


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` all or nothing: a temporary file of this writer's own,
    flushed to disk, then moved into place. A kill while writing leaves the previous file
    (or none), never a cut one; concurrent writers leave one of their files whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = temporary_beside(path)
    try:
        with open(partial, "wb") as stream:
            stream.write(data.encode() if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def lock_path(path: str | Path) -> Path:
    """The lock file that guards ``path``: in a folder of this user's locks under the
    system's temporary folder, never beside ``path`` (so that a read-only folder, or the
    package's shipped checkpoints, can be locked too, and no lock file lies among them).
    It guards the processes of one machine, which is what the book runs."""
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:32]
    user = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"latent-geometry-book-locks-{user}" / key


@contextlib.contextmanager
def locked(path: str | Path, *, timeout: float = LOCK_TIMEOUT_S, required: bool = True):
    """Hold the machine-wide lock of ``path`` (``filelock``) for the ``with`` block.

    Writers of a file pair (a checkpoint's weights and JSON) hold it while they move both
    into place, readers while they read both: no reader sees one writer's weights under
    another's metadata. When the lock folder cannot be made, ``required=False`` (a reader)
    goes on without the lock; a writer raises :class:`~lib.errors.DataError`.
    """
    import filelock

    lock_file = lock_path(path)
    try:
        lock_file.parent.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        if required:
            raise DataError(
                f"cannot make the lock folder {lock_file.parent} to write {path}: {exc}"
            ) from exc
        yield
        return
    try:
        with filelock.FileLock(str(lock_file) + ".lock", timeout=timeout):
            yield
    except filelock.Timeout:
        raise DataError(
            f"{path} is locked by another process ({lock_file}.lock) for over "
            f"{timeout:g} s; wait for it to finish or end it"
        ) from None
