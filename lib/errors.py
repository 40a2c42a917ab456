"""The book's own errors: one base class, one subclass per kind of bad input.

Every public function of ``lib`` checks what it is given at the door and raises one of these,
with a message that names the argument (or file), what was expected and what was found, so that
a bad input never comes back as a silent wrong number or as a raw NumPy, torch or zlib error
from deep inside. Each class also derives from the built-in exception a caller would catch
without knowing the book (a bad value is a ``ValueError``, a bad file a ``RuntimeError``).

=====================  ==================  ===================================================
error                  also a              raised when
=====================  ==================  ===================================================
``ParameterError``     ``ValueError``      an argument or notebook parameter has a wrong type,
                                           range, shape or dtype
``ConfigError``        ``ValueError``      a config dict does not describe its config class
``DataError``          ``RuntimeError``    a data file is missing, corrupt or not the data set
                                           it claims to be, or no source can provide the data
``CheckpointError``    ``RuntimeError``    a checkpoint is missing, corrupt, or does not match
                                           the model that wants to load it
``NonFiniteLossError`` ``FloatingPointError``  training produced a NaN or infinite loss
=====================  ==================  ===================================================
"""

from __future__ import annotations

import math
import numbers
from typing import Any


class BookError(Exception):
    """Base of every error the book's library raises on purpose."""


class ParameterError(BookError, ValueError):
    """An argument or notebook parameter has a value outside what it accepts."""


class ConfigError(BookError, ValueError):
    """A config dict does not describe this config class (unknown, missing or misnamed keys)."""


class DataError(BookError, RuntimeError):
    """A data file is corrupt, or no source could provide the data asked for."""


class CheckpointError(BookError, RuntimeError):
    """A checkpoint is missing, corrupt, or does not match the model that wants to load it."""


class NonFiniteLossError(BookError, FloatingPointError):
    """Training produced a NaN or infinite loss."""


def is_integer(value: Any) -> bool:
    """True for an integer that is not a bool (``True`` is an ``int`` to Python, not a count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """True for a finite real number that is not a bool."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def check_integer(name: str, value: Any, minimum: int | None = None) -> int:
    """``value`` as an ``int``, or a :class:`ParameterError` naming ``name``."""
    if not is_integer(value) or (minimum is not None and value < minimum):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ParameterError(f"{name} must be an integer{bound}, got {value!r}")
    return int(value)


def check_real(
    name: str,
    value: Any,
    minimum: float | None = None,
    *,
    strict: bool = False,
    maximum: float | None = None,
) -> float:
    """``value`` as a finite ``float`` in range, or a :class:`ParameterError` naming ``name``.

    ``minimum`` is inclusive unless ``strict`` (then ``value > minimum``); ``maximum`` inclusive.
    """
    ok = is_real(value)
    if ok and minimum is not None:
        ok = value > minimum if strict else value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if not ok:
        low = "" if minimum is None else f" {'>' if strict else '>='} {minimum}"
        high = "" if maximum is None else f" <= {maximum}"
        joint = " and" if low and high else ""
        raise ParameterError(
            f"{name} must be a finite number{low}{joint}{high}, got {value!r}"
        )
    return float(value)


def check_codes(z: Any, width: int, name: str = "z") -> None:
    """Raise :class:`ParameterError` unless ``z`` is a float tensor of codes ``(B, width)``.

    A wrong width would otherwise meet the decoder's first layer as "mat1 and mat2 shapes
    cannot be multiplied", which names neither the code nor the width the model wants.
    """
    import torch

    if not isinstance(z, torch.Tensor) or not z.is_floating_point():
        raise ParameterError(
            f"{name} must be a float tensor of codes (B, {width}), got {z!r:.60}"
        )
    if z.dim() != 2 or z.shape[1] != width:
        raise ParameterError(
            f"{name} must be codes (B, {width}) for this model, got shape {tuple(z.shape)}"
        )


def check_images(x: Any, channels: int, size: int, name: str = "x") -> None:
    """Raise :class:`ParameterError` unless ``x`` is a float batch ``(B, channels, size,
    size)``: an image of another size can pass a stack of convolutions and come out as a
    code of the right width, or meet a dense layer as a bare shape mismatch."""
    import torch

    want = f"(B, {channels}, {size}, {size})"
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ParameterError(f"{name} must be float images {want}, got {x!r:.60}")
    if x.dim() != 4 or tuple(x.shape[1:]) != (channels, size, size):
        raise ParameterError(
            f"{name} must be images {want} for this model, got shape {tuple(x.shape)}"
        )
