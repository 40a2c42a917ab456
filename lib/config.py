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

A config may hold configs (a **config tree**, minGPT's one config tree): a run spec holds the
model's config and a :class:`~lib.trainer.TrainerConfig`. ``to_dict`` writes each branch with
its own ``name``, ``from_dict`` reads it back as that class, :meth:`BaseConfig.override`
changes leaves by dotted path (``"trainer.lr"``) and refuses a path that is not a field, and
:func:`config_arguments` / :func:`config_from_args` give a script one command-line option
per leaf, generated from the fields (:func:`parse_overrides` reads ``PATH=VALUE`` items).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import types
import typing
from dataclasses import asdict, dataclass
from typing import Any

from .errors import ConfigError, is_integer, is_real


def _matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` is what the type hint ``hint`` of a config field promises.

    ``int`` is an integer that is not a bool; ``float`` a finite real (an int is welcome);
    ``X | None``, ``tuple[X, ...]`` and ``tuple[X, Y]`` (a list is taken for a tuple, as
    JSON writes one) are followed; any other hint is not checked.
    """
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return is_integer(value)
    if hint is float:
        return is_real(value)
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (tuple, list)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(v, args[0]) for v in value)
        return len(value) == len(args) and all(map(_matches, value, args))
    if isinstance(hint, type) and dataclasses.is_dataclass(
        hint
    ):  # a config tree's branch
        return isinstance(value, hint)
    return True


_PLAIN_NAMES = {
    int: "an integer",
    float: "a finite number",
    bool: "True or False",
    str: "a string",
}


@functools.cache
def _field_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name in hints}


def check_field_types(config: Any) -> None:
    """Raise :class:`~lib.errors.ConfigError` naming the first field of the dataclass
    ``config`` whose value is not of its annotated type: a bool where an int is meant, a
    NaN or infinite float, a string for a number. Ranges are each config's own check."""
    for name, hint in _field_hints(type(config)).items():
        value = getattr(config, name)
        if not _matches(value, hint):
            what = _PLAIN_NAMES.get(hint) or str(hint).replace("typing.", "")
            raise ConfigError(
                f"{type(config).__name__}.{name} must be {what}, got {value!r}"
            )


@dataclass
class BaseConfig:
    """Base of every model config: a ``name``, ``to_dict`` and a strict ``from_dict``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # every config checks its fields' types before its own range checks run
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__post_init__")
        if own is None:
            return

        @functools.wraps(own)
        def checked(self) -> None:
            check_field_types(self)
            own(self)

        cls.__post_init__ = checked

    def __post_init__(self) -> None:
        check_field_types(self)

    @property
    def name(self) -> str:
        """The config's class name, stored in the JSON to say what the numbers configure."""
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., field: value, ...}``, JSON-ready (tuples are written as lists);
        a branch of a config tree is written as its own ``to_dict``, with its name."""
        return {
            "name": self.name,
            **{
                f.name: _branch_or_leaf(getattr(self, f.name))
                for f in dataclasses.fields(self)
            },
        }

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
        hints = _field_hints(cls)
        for key, value in values.items():
            branch = _config_class(hints.get(key), value)
            if branch is not None and isinstance(value, dict):
                values[key] = _branch_from_dict(branch, value)
            elif isinstance(value, list) and isinstance(fields[key].default, tuple):
                values[key] = tuple(value)
        return cls(**values)

    def leaves(self, prefix: str = "") -> dict[str, Any]:
        """Every leaf of the config tree by dotted path, e.g. ``{"trainer.lr": 0.001}``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                out.update(_leaves_of(value, f"{prefix}{f.name}."))
            else:
                out[f"{prefix}{f.name}"] = value
        return out

    def branches(self, prefix: str = "") -> dict[str, Any]:
        """Every branch of the config tree by dotted path (``{"trainer": TrainerConfig(...)}``):
        :meth:`override` takes a whole branch there, e.g. a new model config."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                out[f"{prefix}{f.name}"] = value
                if isinstance(value, BaseConfig):
                    out.update(value.branches(f"{prefix}{f.name}."))
        return out

    def override(self, changes: dict[str, Any] | None = None, **named: Any):
        """A copy with leaves changed by dotted path: ``spec.override({"trainer.lr":
        1e-4})`` or ``spec.override(seed=2)``. A path that names no field is refused
        (:class:`ConfigError`, listing the paths there are), and every changed branch is
        checked again as it is built (types and ranges), so a wrong value never trains."""
        changes = {**(changes or {}), **named}
        known = {**self.leaves(), **self.branches()}
        for path, value in changes.items():
            if path not in known:
                near = [k for k in known if k.split(".")[-1] == path.split(".")[-1]]
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise ConfigError(
                    f"{self.name} has no setting {path!r}{hint} (settings: "
                    f"{', '.join(sorted(self.leaves()))})"
                )
            branch = known[path]
            if any(other.startswith(path + ".") for other in changes):
                raise ConfigError(
                    f"{self.name}: {path!r} is changed whole and by a path below it; "
                    "change one or the other"
                )
            if dataclasses.is_dataclass(branch):
                parent_path, _, leaf = path.rpartition(".")
                parent = known[parent_path] if parent_path else self
                hint = _field_hints(type(parent)).get(leaf)
                kinds = tuple(
                    c for c in (hint, *typing.get_args(hint)) if isinstance(c, type)
                ) or (type(branch),)
                if not isinstance(value, kinds):
                    names = " or ".join(k.__name__ for k in kinds)
                    raise ConfigError(f"{self.name}.{path} is a {names}, got {value!r}")
        return _replace_paths(self, changes)

    def require_positive_ints(self, *names: str) -> None:
        """Raise ValueError naming the first field that is not a positive integer."""
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _branch_or_leaf(value: Any) -> Any:
    if isinstance(value, BaseConfig):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return copy.deepcopy(value)


def _config_class(hint: Any, value: Any = None) -> type | None:
    """The dataclass a field's type hint names (``X``, ``X | None``; of ``X | Y`` the one
    whose name the written branch carries), or None."""
    candidates = [
        c
        for c in (hint, *typing.get_args(hint))
        if isinstance(c, type) and dataclasses.is_dataclass(c)
    ]
    if len(candidates) > 1 and isinstance(value, dict):
        named = [c for c in candidates if c.__name__ == value.get("name")]
        candidates = named or candidates
    return candidates[0] if candidates else None


def _branch_from_dict(cls: type, values: dict[str, Any]) -> Any:
    """A branch read back: a BaseConfig strictly (its ``from_dict``), a plain dataclass (a
    data spec, e.g. ``SpikeSpec``) from its fields, lists given back as tuples."""
    if issubclass(cls, BaseConfig):
        return cls.from_dict(values)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown keys {unknown}")
    return cls(
        **{
            k: tuple(v)
            if isinstance(v, list) and isinstance(fields[k].default, tuple)
            else v
            for k, v in values.items()
        }
    )


def _leaves_of(config: Any, prefix: str) -> dict[str, Any]:
    if isinstance(config, BaseConfig):
        return config.leaves(prefix)
    return {
        f"{prefix}{f.name}": getattr(config, f.name) for f in dataclasses.fields(config)
    }


def _replace_paths(config: Any, changes: dict[str, Any]) -> Any:
    """``dataclasses.replace`` along dotted paths (each branch rebuilt, so checked)."""
    here: dict[str, Any] = {}
    below: dict[str, dict[str, Any]] = {}
    for path, value in changes.items():
        head, _, rest = path.partition(".")
        if rest:
            below.setdefault(head, {})[rest] = value
        else:
            field_value = getattr(config, head)
            if isinstance(field_value, tuple) and isinstance(value, list):
                value = tuple(value)
            hint = _field_hints(type(config)).get(head)
            if hint is float and is_integer(value):  # --spring 3000 means 3000.0
                value = float(value)
            here[head] = value
    for head, sub in below.items():
        here[head] = _replace_paths(getattr(config, head), sub)
    return dataclasses.replace(config, **here) if here else config


def config_arguments(parser: Any, config: BaseConfig, flags: dict[str, Any]) -> None:
    """Add one command-line option per leaf of ``config`` named in ``flags``: dotted path ->
    option (``{"trainer.lr": "--lr"}``), or -> (option, argparse type) where the text needs
    a parser of its own (bounds, a seed). The default shown is the config's; an option
    without a type reads its text as JSON where it can (``1e-4``, ``[16, 32]``, ``true``).
    :func:`config_from_args` puts what was given into the config, checked."""
    leaves = config.leaves()
    for path, flag in flags.items():
        flag, kind = flag if isinstance(flag, tuple) else (flag, None)
        if path not in leaves:
            raise ConfigError(f"{config.name} has no setting {path!r} for {flag}")
        parser.add_argument(
            flag,
            dest=f"setting:{path}",
            type=kind or _json_or_text,
            default=None,
            metavar=path.split(".")[-1].upper(),
            help=f"{path} (default {leaves[path]!r})",
        )


def _json_or_text(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def config_from_args(parser: Any, args: Any, config: BaseConfig):
    """``config`` with the settings an ``argparse`` namespace was given through
    :func:`config_arguments`, each checked as it is put in: a wrong value stops the parser
    (``parser.error``, exit status 2) with one line naming the option."""
    flags = {a.dest: a.option_strings[0] for a in parser._actions if a.option_strings}
    for key, value in vars(args).items():
        if not key.startswith("setting:") or value is None:
            continue
        try:
            config = config.override({key.removeprefix("setting:"): value})
        except (ConfigError, ValueError, TypeError) as exc:
            parser.error(f"{flags.get(key, key)} {value!r}: {exc}")
    return config


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["trainer.lr=1e-4", "seed=2"]`` -> ``{"trainer.lr": 0.0001, "seed": 2}`` (values
    read as JSON where they can be); an item without ``=`` is refused naming it."""
    import json

    if isinstance(items, str) or not isinstance(items, (list, tuple)):
        raise ConfigError(f"overrides are a list of PATH=VALUE items, got {items!r}")
    out: dict[str, Any] = {}
    for item in items:
        path, sep, text = str(item).partition("=")
        if not sep or not path.strip():
            raise ConfigError(f"an override is PATH=VALUE, got {item!r}")
        try:
            out[path.strip()] = json.loads(text)
        except json.JSONDecodeError:
            out[path.strip()] = text
    return out


# --------------------------------------------------------------------------------------------
# BOOK_* environment settings: one reader for flags, one for folders
# --------------------------------------------------------------------------------------------
FLAG_TRUE = ("1", "true", "yes", "on")
FLAG_FALSE = ("", "0", "false", "no", "off")


def env_flag(variable: str) -> bool:
    """The boolean setting ``$variable``: 1/true/yes/on is True, unset, empty or
    0/false/no/off is False (any case); anything else is refused in one line naming it, so
    that a typo never silently means one or the other."""
    import os

    from .errors import ParameterError

    value = os.environ.get(variable, "").strip().lower()
    if value in FLAG_TRUE:
        return True
    if value in FLAG_FALSE:
        return False
    raise ParameterError(
        f"environment variable {variable}={value!r}: expected 1/true/yes/on or "
        "0/false/no/off"
    )


def env_folder(variable: str, *, writable: bool = False):
    """The folder setting ``$variable`` as a Path (None when unset or empty), checked now,
    before any work: it must not be a file, and with ``writable`` it must be a folder this
    user can create and write in. A bad value is refused in one line naming the variable."""
    import os
    from pathlib import Path

    from .errors import ParameterError

    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    folder = Path(value).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ParameterError(
            f"environment variable {variable}={value!r} names a file, not a folder"
        )
    nearest = folder
    while not nearest.exists() and nearest != nearest.parent:
        nearest = nearest.parent
    if not nearest.is_dir():  # a folder that could never be made
        raise ParameterError(
            f"environment variable {variable}={value!r} lies under {nearest}, a file"
        )
    if writable:
        check_writable_folder(folder, f"environment variable {variable}={value!r}")
    return folder


def check_writable_folder(folder, what: str) -> None:
    """Refuse, in one line naming ``what``, a folder that cannot be created or written in
    (checked by creating it and a probe file in it)."""
    import os
    import tempfile
    from pathlib import Path

    from .errors import ParameterError

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ParameterError(
            f"{what}: cannot write in {folder} ({exc.strerror or exc})"
        ) from None


def check_can_write(path, what: str, *, folder: bool = False):
    """``path`` as a Path, once it is clear this user can write it there; else a one-line
    :class:`~lib.errors.ParameterError` naming ``what``. Nothing is created: refused are an
    empty path, a folder where a file is meant (or a file where a folder is), a parent that
    is a file, and a folder that cannot be written in (the nearest folder that exists is
    tried with a probe file, removed at once, as :func:`check_writable_folder` does)."""
    import os
    import tempfile
    from pathlib import Path

    from .errors import ParameterError

    kind = "folder" if folder else "file"
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise ParameterError(f"{what} must name a {kind}, got {str(path)!r}")
    path = Path(path).expanduser()
    if folder and path.exists() and not path.is_dir():
        raise ParameterError(f"{what} {path} is a file, not a folder")
    if not folder and path.is_dir():
        raise ParameterError(f"{what} {path} is a folder, not a file")
    nearest = path if folder and path.is_dir() else path.parent
    while not nearest.exists() and nearest != nearest.parent:
        nearest = nearest.parent
    if not nearest.is_dir():
        raise ParameterError(f"{what} {path}: {nearest} is a file, not a folder")
    try:
        handle, probe = tempfile.mkstemp(dir=nearest, prefix=".write-probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ParameterError(
            f"{what} {path}: cannot write in {nearest} ({exc.strerror or exc})"
        ) from None
    if path.is_file() and not os.access(path, os.W_OK):
        raise ParameterError(f"{what} {path} is a read-only file")
    return path
