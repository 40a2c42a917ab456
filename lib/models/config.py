"""Shared behaviour of the model configs: a JSON round trip (saved beside the weights) and checks."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any


class ConfigMixin:
    """Mix into a ``@dataclass`` config: ``to_dict`` / ``from_dict`` and a positive-integer check."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        return cls(**d)

    def require_positive_ints(self, *names: str) -> None:
        """Raise ValueError naming the first field that is not a positive integer."""
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
