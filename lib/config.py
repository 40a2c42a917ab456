"""One config style for every model of the book (after pythae's ``BaseConfig``).

A model's hyper-parameters are a ``@dataclass`` that subclasses :class:`BaseConfig`. It is saved
beside the weights as JSON (``to_dict``) and read back strictly (``from_dict``): the JSON names the
config class it was written from, and an unknown, missing or misnamed key is a
:class:`ConfigError` that says which, so a checkpoint never loads into a model it was not
trained as.

    @dataclass
    class MyConfig(BaseConfig):
        width: int = 16

    MyConfig(width=8).to_dict()            # {"name": "MyConfig", "width": 8}
    MyConfig.from_dict({"name": "MyConfig", "width": 8})
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any


class ConfigError(ValueError):
    """A config dict does not describe this config class (unknown, missing or misnamed keys)."""


@dataclass
class BaseConfig:
    """Base of every model config: a ``name``, ``to_dict`` and a strict ``from_dict``."""

    @property
    def name(self) -> str:
        """The config's class name, stored in the JSON to say what the numbers configure."""
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., field: value, ...}``, JSON-ready (tuples are written as lists)."""
        return {"name": self.name, **asdict(self)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        """Rebuild the config; every field must be present, and nothing else.

        JSON turns tuples into lists; fields whose default is a tuple get a tuple back.
        """
        values = dict(values)
        name = values.pop("name", None)
        if name != cls.__name__:
            raise ConfigError(f"config is named {name!r}, expected {cls.__name__!r}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown, missing = (
            sorted(set(values) - set(fields)),
            sorted(set(fields) - set(values)),
        )
        if unknown or missing:
            raise ConfigError(
                f"{cls.__name__}: unknown keys {unknown}, missing keys {missing}"
                if unknown and missing
                else f"{cls.__name__}: unknown keys {unknown}"
                if unknown
                else f"{cls.__name__}: missing keys {missing}"
            )
        for key, value in values.items():
            if isinstance(value, list) and isinstance(fields[key].default, tuple):
                values[key] = tuple(value)
        return cls(**values)

    def require_positive_ints(self, *names: str) -> None:
        """Raise ValueError naming the first field that is not a positive integer."""
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
