"""Small measurements shared by the chapters: linear fits and their R², errors by group."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class LinearFit:
    """y ≈ slope · x + intercept, with the coefficient of determination R²."""

    slope: float
    intercept: float
    r2: float

    def __str__(self) -> str:
        return f"slope {self.slope:.4g}, intercept {self.intercept:.4g}, R² = {self.r2:.4f}"


def _numpy(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64).reshape(-1)


def linear_fit(x, y) -> LinearFit:
    """Least-squares line through (x, y) and its R² = 1 − SS_res / SS_tot."""
    x, y = _numpy(x), _numpy(y)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y need the same length >= 2, got {x.size} and {y.size}")
    design = np.stack([x, np.ones_like(x)], axis=1)  # (n, 2)
    (slope, intercept), *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ np.array([slope, intercept])
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - float(np.sum(residual**2)) / float(total) if total > 0 else float("nan")
    return LinearFit(float(slope), float(intercept), r2)


def per_image_sse(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared error summed over each image's pixels: (B,)."""
    return (recon - x).pow(2).flatten(1).sum(1)
