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
