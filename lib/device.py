"""Choosing the compute device: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import re

import torch

from .errors import ParameterError

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Return the torch device named by ``device``.

    ``"auto"`` picks ``cuda`` when a GPU is visible, then ``mps``, then ``cpu``.
    Asking for an accelerator that is not present raises a
    :class:`~lib.errors.ParameterError` (a ``ValueError``) instead of silently falling back,
    so a reader who asked for a GPU knows they did not get one.
    """
    if isinstance(device, torch.device):
        return device
    if device not in DEVICE_CHOICES and not (
        isinstance(device, str) and re.fullmatch(r"cuda:\d+", device)
    ):
        raise ParameterError(
            f"device must be one of {DEVICE_CHOICES} (or 'cuda:N'), got {device!r}"
        )
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if (
            getattr(torch.backends, "mps", None) is not None
            and torch.backends.mps.is_available()
        ):
            return torch.device("mps")
        return torch.device("cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(
            f"device={device!r} was requested but no CUDA GPU is visible; use 'auto' or 'cpu'"
        )
    if device == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ParameterError(
            "device='mps' was requested but MPS is not available; use 'auto' or 'cpu'"
        )
    if ":" in device and int(device.partition(":")[2]) >= torch.cuda.device_count():
        raise ParameterError(
            f"device={device!r} was requested but this machine has "
            f"{torch.cuda.device_count()} CUDA GPU(s), numbered from 0"
        )
    return torch.device(device)


def describe_device(device: torch.device) -> str:
    """One human-readable line: the device and, for a GPU, its name."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type


def to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``x`` (on the CPU) on ``device``, without making the host wait for a GPU: a plain copy
    to CUDA waits for the copy to finish, which stalls a pipeline of queued steps; a copy from
    pinned memory with ``non_blocking=True`` does not."""
    if device.type != "cuda":
        return x.to(device)
    return x.pin_memory().to(device, non_blocking=True)
