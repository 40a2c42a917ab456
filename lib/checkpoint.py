"""Checkpoints: a ``state_dict`` file beside a JSON file with the config, history and checksum.

The pattern is pythae's (config saved beside weights): ``NAME.pt`` holds only tensors and plain
containers, so it loads with ``torch.load(weights_only=True)``; ``NAME.json`` holds the model's
config, the training history, free metadata and the sha256 of ``NAME.pt``. Loading checks the
checksum (a corrupt or truncated file is named as such) and, when the caller passes the config it
expects, that the stored config matches key by key (a mismatch lists the differing keys).

One registry rebuilds a model from its JSON alone: a model class decorated with
:func:`register_model` is recorded under its class name, the JSON stores that name and the module
that defines it, and :func:`load_pretrained` imports the module, builds the config with its
strict ``from_dict`` and the model from the config, then loads the weights:

    model, ckpt = load_pretrained("toroidal/torus_ae")

The shipped checkpoints (``lib/pretrained/``) are read-only to a reader: weights a reader trains
go to the user cache (:func:`user_cache_dir`: ``$BOOK_CACHE``, else the platform's cache folder
from ``platformdirs``) and are loaded from there only when asked (``prefer_cache``). Only a
maintainer command writes the shipped files (``make execute``, a script's ``--update-shipped``).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import env_flag, env_folder
from .errors import CheckpointError, ParameterError, is_integer
from .files import file_digest, locked, temporary_beside

FORMAT_VERSION = 1
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
CACHE_ENV = "BOOK_CACHE"
APP_NAME = "latent-geometry-book"
MODEL_REGISTRY: dict[str, type[torch.nn.Module]] = {}


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns."""

    model_state: dict[str, torch.Tensor]
    config: dict[str, Any]
    history: dict[str, list[float]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    optimizer_state: dict[str, Any] | None = None
    extra_state: dict[str, Any] | None = None
    step: int = 0
    path: Path | None = None


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """``(weights .pt, metadata .json)`` for a checkpoint named by ``path`` (suffix optional)."""
    if not isinstance(path, (str, os.PathLike)) or not Path(path).name.strip():
        raise ParameterError(
            f"a checkpoint path names a file (without suffix), got {path!r}"
        )
    path = Path(path)
    base = path.with_suffix("") if path.suffix in (".pt", ".json") else path
    return base.with_name(base.name + ".pt"), base.with_name(base.name + ".json")


def sha256_of(path: str | Path) -> str:
    return file_digest(path, "sha256")


def _json_safe(value: Any) -> Any:
    """Make histories JSON-safe: tensors to floats, NaN/inf to strings JSON can hold."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().tolist()
    elif isinstance(value, (np.ndarray, np.generic)):  # numpy numbers in a run's meta
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def check_json_fields(**fields: Any) -> dict[str, str]:
    """Each field as the JSON text it is saved as; a value JSON cannot hold is a
    :class:`~lib.errors.ParameterError` naming the field, raised before any file is
    touched (a run's weights are never lost to a bad ``meta``)."""
    texts = {}
    for name, value in fields.items():
        try:
            texts[name] = json.dumps(_json_safe(value))
        except (TypeError, ValueError, RecursionError) as exc:
            raise ParameterError(
                f"{name} cannot be saved in a checkpoint's JSON: {exc}"
            ) from None
    return texts


def save_checkpoint(
    path: str | Path,
    model: torch.nn.Module,
    config: dict[str, Any],
    *,
    history: dict[str, list[float]] | None = None,
    meta: dict[str, Any] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    extra_state: dict[str, Any] | None = None,
    step: int = 0,
) -> Path:
    """Write ``path.pt`` (weights, optional optimizer state) and ``path.json``; return the .pt path."""
    if not is_integer(step) or step < 0:
        raise ParameterError(f"step must be a count of steps (>= 0), got {step!r}")
    if not isinstance(model, torch.nn.Module):
        raise ParameterError(f"model must be a torch.nn.Module, got {model!r:.60}")
    if not isinstance(config, dict):
        raise ParameterError(
            f"config must be a dict (the model's config), got {config!r:.60}"
        )
    if history is not None and not (
        isinstance(history, dict)
        and all(
            isinstance(v, (list, tuple, torch.Tensor, np.ndarray))
            for v in history.values()
        )
    ):
        raise ParameterError(f"history must be a dict of lists, got {history!r:.80}")
    if meta is not None and not isinstance(meta, dict):
        raise ParameterError(f"meta must be a dict, got {type(meta).__name__}")
    check_json_fields(config=config, history=history or {}, meta=meta or {})
    weights_path, meta_path = checkpoint_paths(path)
    try:
        weights_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(
            f"cannot write the checkpoint {weights_path}: {exc.strerror or exc}"
        ) from None
    for target in (weights_path, meta_path):
        if target.is_dir():
            raise CheckpointError(f"cannot write the checkpoint: {target} is a folder")
    payload: dict[str, Any] = {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()}
    }
    if optimizer is not None:
        payload["optimizer"] = optimizer.state_dict()
    if extra_state is not None:
        payload["extra"] = extra_state
    # Both files are written under temporary names of this writer's own and moved into place
    # under the checkpoint's lock: a run killed while saving keeps its previous checkpoint
    # whole (except in the instant between the two moves), and two processes saving the same
    # checkpoint never leave one's weights under the other's metadata.
    try:
        _write_pair(
            payload, weights_path, meta_path, model, config, history, meta, step
        )
    except OSError as exc:  # a full disk, a folder that became read-only
        raise CheckpointError(
            f"cannot write the checkpoint {weights_path}: {exc.strerror or exc}"
        ) from None
    return weights_path


def _write_pair(payload, weights_path, meta_path, model, config, history, meta, step):
    with locked(weights_path):
        weights_partial = temporary_beside(weights_path)
        meta_partial = temporary_beside(meta_path)
        try:
            torch.save(payload, weights_partial)
            record = {
                "format_version": FORMAT_VERSION,
                "model_class": type(model).__name__,
                "model_module": type(model).__module__,
                "config": _json_safe(config),
                "step": int(step),
                "sha256": sha256_of(weights_partial),
                "history": _json_safe(history or {}),
                "meta": _json_safe(meta or {}),
            }
            meta_partial.write_text(json.dumps(record, indent=1) + "\n")
            os.replace(weights_partial, weights_path)
            os.replace(meta_partial, meta_path)
        finally:
            weights_partial.unlink(missing_ok=True)
            meta_partial.unlink(missing_ok=True)


def _config_differences(stored: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    expected = _json_safe(expected)
    keys = sorted(set(stored) | set(expected))
    return [
        f"{k}: checkpoint has {stored.get(k, '<missing>')!r}, model wants {expected.get(k, '<missing>')!r}"
        for k in keys
        if stored.get(k, "<missing>") != expected.get(k, "<missing>")
    ]


def _read_record(meta_path: Path) -> dict[str, Any]:
    try:
        record = json.loads(meta_path.read_text())
    except (ValueError, RecursionError) as exc:  # JSON's, UTF-8's, nesting's
        raise CheckpointError(
            f"checkpoint metadata {meta_path} is not valid JSON ({exc}); the file is corrupt"
        ) from exc
    if not isinstance(record, dict):
        raise CheckpointError(
            f"checkpoint metadata {meta_path} holds a JSON {type(record).__name__}, "
            "not a checkpoint record"
        )
    return record


SHA256 = re.compile(r"[0-9a-f]{64}")


def _checked_record(record: dict[str, Any], meta_path: Path) -> dict[str, Any]:
    """``record`` with every field a load relies on checked, one by one: the JSON lies
    outside the weights' checksum, so a hand-edited or foreign file must not pass for one
    (a negative step, a history that is not a dict of lists)."""
    problems = []
    if record.get("format_version") != FORMAT_VERSION:
        problems.append(f"format_version is {record.get('format_version')!r}")
    if not isinstance(record.get("config"), dict):
        problems.append("config is not an object")
    step = record.get("step", 0)
    if not is_integer(step) or step < 0:
        problems.append(f"step is {step!r}, not a count of steps")
    if not isinstance(record.get("sha256"), str) or not SHA256.fullmatch(
        record["sha256"]
    ):
        problems.append(f"sha256 is {record.get('sha256')!r}, not a sha256 digest")
    history = record.get("history", {})
    if not isinstance(history, dict) or not all(
        isinstance(v, list) for v in history.values()
    ):
        problems.append("history is not an object of lists")
    if not isinstance(record.get("meta", {}), dict):
        problems.append("meta is not an object")
    for key in ("model_class", "model_module"):
        if key in record and not isinstance(record[key], str):
            problems.append(f"{key} is {record[key]!r}")
    if problems:
        raise CheckpointError(
            f"{meta_path} is not a checkpoint record of format version {FORMAT_VERSION}: "
            + "; ".join(problems)
        )
    return {
        **record,
        "step": int(step),
        "history": history,
        "meta": record.get("meta", {}),
    }


def read_checkpoint_meta(path: str | Path) -> dict[str, Any]:
    """The ``meta`` record of a checkpoint's JSON (no weights are read)."""
    _, meta_path = checkpoint_paths(path)
    if not meta_path.is_file():
        raise CheckpointError(
            f"checkpoint file {meta_path} is missing; train the model (train='always') to create it"
        )
    return _checked_record(_read_record(meta_path), meta_path)["meta"]


def load_checkpoint(
    path: str | Path,
    model: torch.nn.Module | None = None,
    *,
    expected_config: dict[str, Any] | None = None,
    map_location: str | torch.device = "cpu",
) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`, verifying checksum and config.

    If ``model`` is given its weights are loaded in place (strictly). Every failure raises
    :class:`CheckpointError` with a message that says what is wrong and what to do.
    """
    weights_path, meta_path = checkpoint_paths(path)
    if model is not None and not isinstance(model, torch.nn.Module):
        raise ParameterError(f"model must be a torch.nn.Module, got {model!r:.60}")
    try:
        torch.device(map_location)
    except (RuntimeError, TypeError):
        raise ParameterError(
            f"map_location must be a device such as 'cpu' or 'cuda', got {map_location!r}"
        ) from None
    # Under the checkpoint's lock: a save in another process moves both files at once.
    with locked(weights_path, required=False):
        for p in (weights_path, meta_path):
            if not p.is_file():
                raise CheckpointError(
                    f"checkpoint file {p} is missing; train the model (train='always') "
                    "to create it"
                )
        record = _checked_record(_read_record(meta_path), meta_path)
        actual = sha256_of(weights_path)
        if actual != record["sha256"]:
            raise CheckpointError(
                f"checkpoint {weights_path} is corrupt or was changed: its sha256 is "
                f"{actual[:12]}..., the metadata records {record['sha256'][:12]}...; "
                "re-train or restore the file"
            )
        if expected_config is not None:
            diffs = _config_differences(record["config"], expected_config)
            if diffs:
                raise CheckpointError(
                    f"checkpoint {weights_path.name} was trained with a different config:\n  "
                    + "\n  ".join(diffs)
                )
        try:
            payload = torch.load(
                weights_path, map_location=map_location, weights_only=True
            )
        except Exception as exc:  # torch raises several types for unreadable files
            raise CheckpointError(
                f"cannot read {weights_path} with torch.load(weights_only=True): {exc}"
            ) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("model"), dict):
        raise CheckpointError(f"{weights_path} holds no model state_dict")
    if model is not None:
        if type(model).__name__ != record.get("model_class"):
            raise CheckpointError(
                f"checkpoint holds a {record.get('model_class')}, not a {type(model).__name__}"
            )
        try:
            model.load_state_dict(payload["model"], strict=True)
        except RuntimeError as exc:
            raise CheckpointError(
                f"weights in {weights_path.name} do not fit the model: {exc}"
            ) from exc
    return Checkpoint(
        model_state=payload["model"],
        config=record["config"],
        history=record["history"],
        meta=record["meta"],
        optimizer_state=payload.get("optimizer"),
        extra_state=payload.get("extra"),
        step=record["step"],
        path=weights_path,
    )


def register_model(cls: type[torch.nn.Module]) -> type[torch.nn.Module]:
    """Class decorator: record a model class for :func:`load_pretrained`.

    The class must take its config as the only argument and name the config class in a
    ``config_class`` attribute (a :class:`~lib.config.BaseConfig` subclass).
    """
    if not hasattr(cls, "config_class"):
        raise TypeError(
            f"{cls.__name__} needs a config_class attribute to be registered"
        )
    known = MODEL_REGISTRY.get(cls.__name__)
    if known is not None and known.__module__ != cls.__module__:
        raise TypeError(
            f"two model classes named {cls.__name__}: {known.__module__}, {cls.__module__}"
        )
    MODEL_REGISTRY[cls.__name__] = cls
    return cls


def model_for(config: Any) -> torch.nn.Module:
    """A new model of the registered class whose ``config_class`` is ``config``'s type (the
    registry read the other way round, as pythae's ``AutoModel``): a recipe given a config
    builds the network it describes."""
    classes = [c for c in MODEL_REGISTRY.values() if c.config_class is type(config)]
    if len(classes) != 1:
        raise ParameterError(
            f"no registered model is configured by a {type(config).__name__} "
            f"({len(classes)} found); pass the config of a book model"
        )
    return classes[0](config)


def _checkpoint_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(
            f"checkpoint name must be a non-empty string, got {name!r}"
        )
    parts = Path(name).parts
    if Path(name).is_absolute() or ".." in parts:
        raise ParameterError(
            f"checkpoint name must be relative, like 'toroidal/torus_ae', got {name!r}"
        )
    return name


def pretrained_path(name: str) -> Path:
    """Path (without suffix) of a checkpoint shipped in the package, e.g. ``"toroidal/torus_ae"``."""
    return PRETRAINED_DIR / _checkpoint_name(name)


def user_cache_dir() -> Path:
    """Where a reader's runs write: ``$BOOK_CACHE`` if set, else the platform's user cache
    folder for the book (``platformdirs.user_cache_dir``, e.g. ``~/.cache/latent-geometry-book``
    on Linux). Never inside the package."""
    folder = env_folder(CACHE_ENV)  # a file there is refused
    if folder is not None:
        return folder
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def cached_path(name: str) -> Path:
    """Path (without suffix) of the reader's own checkpoint ``name`` in :func:`user_cache_dir`."""
    return user_cache_dir() / "checkpoints" / _checkpoint_name(name)


def chosen_checkpoint(name: str, prefer_cache: bool) -> Path:
    """The one decision of which checkpoint ``name`` loads: the reader's own in the user
    cache when ``prefer_cache`` is set and both of its files are there (weights and JSON),
    else the shipped one. The notebooks (:meth:`lib.notebook.RunSettings.checkpoint`) and
    :func:`load_pretrained` both ask here."""
    if not isinstance(prefer_cache, bool):
        raise ParameterError(
            f"prefer_cache must be True or False, got {prefer_cache!r}"
        )
    cached = cached_path(name)
    if prefer_cache and all(p.is_file() for p in checkpoint_paths(cached)):
        return cached
    return pretrained_path(name)


def is_shipped(path: str | Path) -> bool:
    """True when ``path`` lies in the package's shipped checkpoint folder."""
    return Path(path).resolve().is_relative_to(PRETRAINED_DIR.resolve())


# Model classes that left lib.nets for the one package that uses them (November 2026): a
# checkpoint written before names the old module, and is read from the new one.
MOVED_MODELS = {
    ("lib.nets", "WarmupAutoencoder"): "lib.intro.model",
    ("lib.nets", "DigitJudge"): "lib.toroidal.model",
    ("lib.nets", "DCGANAutoencoder"): "lib.taking_apart.model",
}


def model_class_of(record: dict[str, Any]) -> type[torch.nn.Module]:
    """The registered model class a checkpoint's JSON record names (its module is imported)."""
    name, module = record.get("model_class"), record.get("model_module")
    module = MOVED_MODELS.get((module, name), module)
    if not isinstance(module, str) or not (
        module == "lib" or module.startswith("lib.")
    ):
        raise CheckpointError(
            f"checkpoint names model module {module!r}; only modules of the book's package "
            "`lib` are imported"
        )
    try:
        importlib.import_module(module)  # registers the classes it defines
    except ImportError as exc:
        raise CheckpointError(
            f"the checkpoint's model module {module} cannot be imported: {exc}"
        ) from exc
    if name not in MODEL_REGISTRY:
        raise CheckpointError(
            f"no registered model class {name!r} (known: {sorted(MODEL_REGISTRY)})"
        )
    return MODEL_REGISTRY[name]


def load_pretrained(
    name: str | Path,
    map_location: str | torch.device = "cpu",
    *,
    prefer_cache: bool | None = None,
) -> tuple[torch.nn.Module, Checkpoint]:
    """Rebuild and load a model from a checkpoint's files alone: ``(model in eval mode, Checkpoint)``.

    ``name`` is a path, or a shipped checkpoint (``"toroidal/torus_ae"``); with
    ``prefer_cache`` (default: ``$BOOK_PREFER_CACHE``, as the notebooks' setting) the reader's
    own checkpoint of that name in the user cache is loaded when there is one. The JSON beside the weights says which class to build and with which
    config; checksum, config and weights are verified as in :func:`load_checkpoint`, and
    weights that are not all finite are refused.
    """
    if not isinstance(name, (str, Path)) or not Path(name).name.strip():
        raise ParameterError(f"name must be a checkpoint name or path, got {name!r}")
    if prefer_cache is None:
        prefer_cache = env_flag("BOOK_PREFER_CACHE")
    if not isinstance(prefer_cache, bool):
        raise ParameterError(
            f"prefer_cache must be True or False, got {prefer_cache!r}"
        )
    path = Path(name)
    if not checkpoint_paths(path)[1].is_file():  # a name, not the path of a checkpoint
        path = chosen_checkpoint(str(name), prefer_cache)
    meta_path = checkpoint_paths(path)[1]
    if not meta_path.is_file():
        raise CheckpointError(f"no checkpoint {name!r} (looked for {meta_path})")
    record = _read_record(meta_path)
    cls = model_class_of(record)
    try:
        config = cls.config_class.from_dict(record.get("config", {}))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{meta_path.name}: its config does not build a {cls.__name__}: {exc}"
        ) from exc
    model = cls(config)
    ckpt = load_checkpoint(
        path, model, expected_config=config.to_dict(), map_location=map_location
    )
    bad = [
        key
        for key, tensor in ckpt.model_state.items()
        if tensor.is_floating_point() and not torch.isfinite(tensor).all()
    ]
    if bad:  # a checksum proves the file is intact, not that training went well
        raise CheckpointError(
            f"checkpoint {ckpt.path} holds NaN or infinite weights in {bad[:3]}"
            f"{' ...' if len(bad) > 3 else ''}; it cannot decode anything"
        )
    return model.to(map_location).eval(), ckpt
