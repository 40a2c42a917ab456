"""A whole factor grid rendered once and kept on the device, images drawn by index.

On a GPU, rendering or copying images every step starves a small model. dSprites has
3 x 6 x 40 x 32 x 32 = 737,280 images of 64 x 64; as uint8 they take 3.0 GB, which fits on any
recent GPU. :class:`ResidentGrid` renders every image of a factor data set once, in the
order of :func:`lib.data.dsprites.flat_index`, stores them as uint8 on the device, and returns
float images for a tensor of indices with one gather. ``grid.images(flat_index(z))`` equals
``dataset.render(z)`` exactly: the images are stored losslessly (pixels of a binary data set are
0 and 1; others must be multiples of 1/255, else :class:`~lib.errors.DataError`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lib.data.dsprites import check_dataset, flat_index
from lib.errors import DataError, ParameterError, check_integer

__all__ = ["ResidentGrid", "grid_factors"]


def grid_factors(sizes: tuple[int, ...], start: int, stop: int) -> np.ndarray:
    """The factors of flat indices ``start..stop-1`` (the inverse of ``flat_index``)."""
    return np.stack(np.unravel_index(np.arange(start, stop), sizes), 1).astype(np.int64)


def _grid_key(dataset: Any, count: int) -> str:
    """What a cached grid must have been made from: the data set's class, its geometry (or
    other settings) and the number of images."""
    settings = getattr(dataset, "geometry", None)
    return f"{type(dataset).__module__}.{type(dataset).__name__}|{settings!r}|{count}"


def _render_rows(dataset: Any, sizes: tuple[int, ...], index: np.ndarray) -> np.ndarray:
    """The images of flat indices ``index``, rendered now."""
    return np.asarray(dataset.render(np.stack(np.unravel_index(index, sizes), 1)))


def _render_chunk(args: tuple[Any, tuple[int, ...], int, int]) -> np.ndarray:
    dataset, sizes, start, stop = args
    return np.asarray(dataset.render(grid_factors(sizes, start, stop)))


class ResidentGrid:
    """Every image of ``dataset`` (a factor grid: ``factor_sizes`` and ``render``) on ``device``.

    ``workers`` processes render the grid (dSprites: 36 s with 16 on an H200 machine's CPUs);
    ``cache``: a ``.npy`` file that keeps the rendered grid for the next sitting (read back in a
    few seconds; re-rendered when it was made from another data set, geometry or size, or is
    unreadable). ``limit`` keeps only the first ``limit`` flat indices (tests).
    ``images(index)`` -> float32 (*index.shape, C, H, W); ``index_of(factors)`` -> flat
    indices.
    """

    def __init__(
        self,
        dataset: Any,
        device: str | torch.device = "cpu",
        workers: int = 1,
        chunk: int = 8192,
        limit: int | None = None,
        cache: str | Path | None = None,
    ) -> None:
        self.sizes = check_dataset(dataset)
        check_integer("workers", workers, minimum=1)
        check_integer("chunk", chunk, minimum=1)
        total = math.prod(self.sizes)
        if limit is not None:
            total = min(total, check_integer("limit", limit, minimum=1))
        self.count = total
        self.device = torch.device(device)
        self.from_cache = False
        key = _grid_key(dataset, total)
        if cache is not None and self._read_cache(Path(cache), key, dataset):
            return
        jobs = [
            (dataset, self.sizes, start, min(total, start + chunk))
            for start in range(0, total, chunk)
        ]
        if workers > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(workers) as pool:
                parts = pool.map(_render_chunk, jobs)
                self.data = self._store(parts, total)
        else:
            self.data = self._store(map(_render_chunk, jobs), total)
        if cache is not None:
            self._write_cache(Path(cache), key)

    def _read_cache(self, path: Path, key: str, dataset: Any) -> bool:
        """Load the grid from ``path`` when its sidecar says it is this grid and a sample of
        its images equals what ``dataset`` renders now (a changed renderer is caught)."""
        try:
            record = json.loads(path.with_suffix(".json").read_text())
            if record.get("key") != key:
                return False
            images = np.load(path, mmap_mode="r")
        except (OSError, ValueError):
            return False  # absent, unreadable or truncated: render again
        if images.dtype != np.uint8 or len(images) != self.count:
            return False
        levels = float(record["levels"])
        rng = np.random.default_rng(0)
        sample = np.unique(np.r_[0, self.count - 1, rng.integers(0, self.count, 62)])
        rendered = np.rint(_render_rows(dataset, self.sizes, sample) * levels)
        if not np.array_equal(rendered, images[sample]):
            return False
        self.levels = levels
        self.data = torch.empty(images.shape, dtype=torch.uint8, device=self.device)
        for start in range(0, len(images), 65536):  # a bounded host buffer at a time
            part = np.array(images[start : start + 65536])  # a writable copy
            self.data[start : start + len(part)] = torch.from_numpy(part).to(
                self.device
            )
        self.from_cache = True
        return True

    def _write_cache(self, path: Path, key: str) -> None:
        """Write the grid and then its sidecar, each under a temporary name of its own
        moved into place: a killed or concurrent writer never leaves a grid that looks whole
        under another grid's key."""
        path.parent.mkdir(parents=True, exist_ok=True)
        sidecar = path.with_suffix(".json")
        sidecar.unlink(missing_ok=True)  # no key until the grid under it is whole
        handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".npy")
        with os.fdopen(handle, "wb") as f:
            np.save(f, self.data.cpu().numpy())
        os.replace(partial, path)
        handle, partial = tempfile.mkstemp(dir=path.parent, suffix=".json")
        with os.fdopen(handle, "w") as f:
            f.write(json.dumps({"key": key, "levels": self.levels}) + "\n")
        os.replace(partial, sidecar)

    def _store(self, parts: Any, total: int) -> torch.Tensor:
        data: torch.Tensor | None = None
        self.levels = 1.0
        at = 0
        for part in parts:
            if data is None:
                if part.ndim < 2:
                    raise DataError(
                        f"the data set renders arrays of shape {part.shape}, not images"
                    )
                binary = bool(np.isin(part, (0.0, 1.0)).all())
                self.levels = 1.0 if binary else 255.0
                data = torch.empty(
                    (total, *part.shape[1:]), dtype=torch.uint8, device=self.device
                )
            quantised = np.rint(part * self.levels)
            if not (
                np.array_equal(quantised / self.levels, part)
                and quantised.min() >= 0
                and quantised.max() <= 255
            ):
                raise DataError(
                    "the data set's pixels are not 0/1 or multiples of 1/255 in [0, 1]; "
                    "a uint8 grid would change them"
                )
            n = len(part)
            data[at : at + n] = torch.from_numpy(quantised.astype(np.uint8)).to(
                self.device
            )
            at += n
        assert data is not None
        return data

    @property
    def nbytes(self) -> int:
        return self.data.numel()

    def index_of(self, factors: np.ndarray) -> np.ndarray:
        """Flat indices of ``factors`` (n, n_factors) in this grid."""
        index = flat_index(factors, self.sizes)
        if len(index) and index.max() >= self.count:
            raise ParameterError(
                f"factors beyond the first {self.count} grid images (limit)"
            )
        return index

    def images(self, index: torch.Tensor) -> torch.Tensor:
        """float32 images of flat indices ``index`` (any shape), on the grid's device."""
        if not torch.is_tensor(index) or index.dtype not in (torch.int64, torch.int32):
            raise ParameterError(f"index must be an integer tensor, got {index!r:.60}")
        return self.data[index.to(self.device)].float() / self.levels
