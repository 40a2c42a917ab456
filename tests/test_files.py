"""Tests for lib.files: the one digest every checksum of the book uses."""

import hashlib

import pytest

from lib.errors import DataError, ParameterError
from lib.files import BLOCK, file_digest


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_the_digest_of_a_file_read_in_blocks_is_the_digest_of_its_bytes(
    tmp_path, algorithm
):
    data = bytes(range(256)) * (BLOCK // 256 + 7)  # more than one block
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert file_digest(path, algorithm) == hashlib.new(algorithm, data).hexdigest()


def test_an_unreadable_file_or_unknown_algorithm_is_refused(tmp_path):
    with pytest.raises(DataError, match="cannot read .*none.bin to check its md5"):
        file_digest(tmp_path / "none.bin", "md5")
    with pytest.raises(ParameterError, match="algorithm"):
        file_digest(tmp_path / "none.bin", "sha1")


def test_atomic_write_replaces_whole_and_leaves_the_users_permissions(tmp_path):
    import os
    import stat

    from lib.files import atomic_write, temporary_beside

    target = atomic_write(tmp_path / "a" / "record.txt", "one\n")
    assert target.read_text() == "one\n"
    mode = stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # as any file the user writes, not mkstemp's 0600
    atomic_write(target, b"two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["record.txt"]
    first, second = temporary_beside(target), temporary_beside(target)
    assert first != second and first.parent == target.parent
