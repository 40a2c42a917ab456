"""The notebook contract: validated parameters, run settings, train-or-load, environment record.

Every chapter's first code cell (tagged ``parameters`` for papermill) sets ``device``, ``seed``,
``quick`` and ``train``; the next cell calls :func:`setup`, which validates them (one clear error
naming the parameter and the allowed values), seeds everything, picks the device and prints one
line saying what will happen.

Where trained weights go is a setting of its own, ``save``: ``"cache"`` (the default: the
reader's cache folder, :func:`lib.checkpoint.user_cache_dir`), ``"none"`` (write nothing) or
``"shipped"`` (the package's checkpoints, for a maintainer: ``make execute`` sets
``BOOK_SAVE=shipped``). :func:`train_or_load` hands back a :class:`Run`: the model, its
history, its checkpoint record and whether this run trained it. A reader's weights are loaded in place of the shipped ones only when
asked: ``prefer_cache=True`` or ``BOOK_PREFER_CACHE=1``.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .checkpoint import (
    cached_path,
    check_json_fields,
    checkpoint_paths,
    chosen_checkpoint,
    load_checkpoint,
    pretrained_path,
    save_checkpoint,
)
from .config import check_writable_folder, env_flag
from .device import DEVICE_CHOICES, describe_device, resolve_device
from .errors import DataError, ParameterError, is_integer
from .seeding import seed_everything
from .trainer import Trainer

TRAIN_CHOICES = ("auto", "always", "never")
SAVE_CHOICES = ("cache", "none", "shipped")


def quick_default() -> bool:
    """Default of the ``quick`` parameter: True when the environment sets ``BOOK_QUICK=1``."""
    return env_flag("BOOK_QUICK")


def prefer_cache_default() -> bool:
    """Default of ``prefer_cache``: True when the environment sets ``BOOK_PREFER_CACHE=1``."""
    return env_flag("BOOK_PREFER_CACHE")


def save_default() -> str:
    """Default of ``save``: ``$BOOK_SAVE`` (one of :data:`SAVE_CHOICES`), else ``"cache"``."""
    value = os.environ.get("BOOK_SAVE", "").strip().lower() or "cache"
    if value not in SAVE_CHOICES:
        raise ParameterError(
            f"environment variable BOOK_SAVE={value!r}: expected one of {SAVE_CHOICES}"
        )
    return value


def static_default() -> bool:
    """True when outputs are rendered for the static book (``BOOK_STATIC=1``), not a live kernel."""
    return env_flag("BOOK_STATIC")


def _check(name: str, value: Any, ok: bool, allowed: str) -> None:
    if not ok:
        raise ParameterError(f"parameter {name!r} must be {allowed}, got {value!r}")


@dataclass(frozen=True)
class RunSettings:
    """Validated parameters of one notebook run."""

    device: torch.device
    seed: int
    quick: bool
    train: str
    generator: torch.Generator
    save: str = "cache"
    prefer_cache: bool = False

    def __post_init__(self) -> None:
        # built by setup() from checked parameters; built directly, it checks them itself
        _check(
            "device",
            self.device,
            isinstance(self.device, torch.device),
            "a torch.device",
        )
        _check(
            "seed",
            self.seed,
            is_integer(self.seed) and 0 <= self.seed < 2**32,
            "an integer in [0, 2**32)",
        )
        _check("quick", self.quick, isinstance(self.quick, bool), "True or False")
        _check(
            "train", self.train, self.train in TRAIN_CHOICES, f"one of {TRAIN_CHOICES}"
        )
        _check("save", self.save, self.save in SAVE_CHOICES, f"one of {SAVE_CHOICES}")
        _check(
            "prefer_cache",
            self.prefer_cache,
            isinstance(self.prefer_cache, bool),
            "True or False",
        )
        _check(
            "generator",
            self.generator,
            isinstance(self.generator, torch.Generator),
            "a torch.Generator",
        )

    def checkpoint(self, name: str) -> Path:
        """The checkpoint this run loads for ``name``: the reader's own in the user cache when
        ``prefer_cache`` is set and one is there, else the shipped one."""
        return chosen_checkpoint(name, self.prefer_cache)

    def save_path(self, name: str) -> Path | None:
        """Where a full-mode training run of ``name`` is written (``None``: nowhere)."""
        if self.quick or self.save == "none":
            return None  # quick models are a smoke test, never kept
        return pretrained_path(name) if self.save == "shipped" else cached_path(name)

    def should_train(self, checkpoint: str | Path | None) -> bool:
        """Decide whether to train, per the ``train`` parameter.

        ``"always"`` trains, ``"never"`` loads (and fails if no checkpoint is shipped). ``"auto"``
        trains in quick mode (to exercise the training code), on a GPU, or when no checkpoint is
        shipped, and otherwise loads the shipped checkpoint.
        """
        exists = checkpoint is not None and checkpoint_paths(checkpoint)[0].is_file()
        if self.train == "always":
            return True
        if self.train == "never":
            if not exists:
                raise ParameterError(
                    f"train='never' but no checkpoint is shipped at {checkpoint}; use train='auto'"
                )
            return False
        return self.quick or self.device.type != "cpu" or not exists

    def trained_on(self, checkpoint: str | Path | None) -> str:
        """Where the model of ``checkpoint`` in this run was trained, for a verdict's budget:
        this run's device when it trains, else the 2-core CPU that made the shipped weights."""
        if self.should_train(checkpoint):
            return {"cuda": "GPU", "mps": "Apple GPU"}.get(self.device.type, "CPU")
        return "CPU (shipped checkpoint)"

    def pick(self, full: Any, quick: Any) -> Any:
        """``quick`` in quick mode, else ``full``: keeps budgets readable in the notebook."""
        return quick if self.quick else full


def setup(
    device: str = "auto",
    seed: int = 0,
    quick: bool = False,
    train: str = "auto",
    *,
    save: str | None = None,
    prefer_cache: bool | None = None,
) -> RunSettings:
    """Validate the notebook parameters, seed everything, pick the device; print one summary line.

    The environment variable ``BOOK_QUICK=1`` turns quick mode on whatever ``quick`` says, so that
    CI and nbval can run every notebook quickly without editing it. ``save`` and
    ``prefer_cache`` default to ``BOOK_SAVE`` and ``BOOK_PREFER_CACHE`` (see the module
    docstring); nothing is seeded before every parameter has passed its check.
    """
    _check(
        "device",
        device,
        isinstance(device, str)
        and (device in DEVICE_CHOICES or device.startswith("cuda:")),
        f"one of {DEVICE_CHOICES}",
    )
    _check(
        "seed",
        seed,
        isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32,
        "an integer in [0, 2**32)  (NumPy's seeds are 32-bit)",
    )
    _check("quick", quick, isinstance(quick, bool), "True or False")
    _check("train", train, train in TRAIN_CHOICES, f"one of {TRAIN_CHOICES}")
    save = save_default() if save is None else save
    _check("save", save, save in SAVE_CHOICES, f"one of {SAVE_CHOICES}")
    prefer_cache = prefer_cache_default() if prefer_cache is None else prefer_cache
    _check(
        "prefer_cache", prefer_cache, isinstance(prefer_cache, bool), "True or False"
    )
    quick = quick or quick_default()
    try:
        resolved = resolve_device(device)
    except ValueError as exc:
        raise ParameterError(f"parameter 'device': {exc}") from exc
    generator = seed_everything(seed)
    mode = "quick mode (a few steps on small data)" if quick else "full mode"
    print(
        f"device: {describe_device(resolved)} | seed {seed} | {mode} | train={train!r}"
    )
    return RunSettings(resolved, seed, quick, train, generator, save, prefer_cache)


@dataclass
class Run:
    """What :func:`train_or_load`, and so every chapter's ``fit_*`` recipe, hands back.

    ``model`` (on the run's device, in eval mode); its training ``history``; ``meta``, the
    checkpoint's record (the loaded one's, or the one this run saved or would have saved:
    device, seed, training seconds and the recipe's own fields); ``trained``: whether this run
    trained the model (False: loaded it); ``name``: the checkpoint's name. It unpacks as
    ``model, history``, the two a notebook uses most (as HuggingFace's ``ModelOutput`` unpacks
    into a tuple).
    """

    name: str
    model: torch.nn.Module
    history: dict[str, list[float]]
    meta: dict[str, Any]
    trained: bool

    def __iter__(self):
        return iter((self.model, self.history))


def train_or_load(
    settings: RunSettings,
    name: str,
    model: torch.nn.Module,
    train_fn: Callable[[torch.nn.Module], Trainer | dict[str, list[float]]],
    meta: dict[str, Any] | None = None,
) -> Run:
    """Train ``model`` with ``train_fn`` or load the checkpoint ``name``: a :class:`Run`.

    ``train_fn(model)`` trains in place and returns the :class:`~lib.trainer.Trainer` (its one-line
    summary is printed) or the history dict.

    ``model.config`` (a :class:`~lib.config.BaseConfig`) is saved beside the weights, and a
    checkpoint loads only if its stored config equals it key by key. The checkpoint loaded is
    :meth:`RunSettings.checkpoint` (the shipped one unless the reader asks for their own).

    A full-mode training run is written where :meth:`RunSettings.save_path` says: the reader's
    cache by default, so that the shipped checkpoints never change under a reader's run; only
    ``save="shipped"`` (``make execute``) writes them. Quick mode writes nothing. Either way the
    returned history is what the notebook plots, so a loaded model still shows its curve.
    ``train_fn`` may add to ``meta`` while it trains (what it measured on the way): the record
    is made after it returns.
    """
    _check(
        "settings", settings, isinstance(settings, RunSettings), "setup()'s RunSettings"
    )
    _check(
        "model",
        model,
        isinstance(model, torch.nn.Module)
        and callable(getattr(getattr(model, "config", None), "to_dict", None)),
        "a torch.nn.Module with a config (a lib.config.BaseConfig)",
    )
    _check("train_fn", train_fn, callable(train_fn), "a function of the model")
    _check("meta", meta, meta is None or isinstance(meta, dict), "a dict or None")
    # a value JSON cannot hold is refused now, before the training
    check_json_fields(meta=meta or {})
    path = settings.checkpoint(name)
    model_config = model.config.to_dict()
    if settings.should_train(path):
        target = settings.save_path(name)
        if target is not None:  # before training: a model trained is never lost to it
            where = "BOOK_CACHE" if settings.save == "cache" else "the shipped folder"
            check_writable_folder(target.parent, f"checkpoint {name} ({where})")
        start = time.perf_counter()
        result = train_fn(model)
        seconds = time.perf_counter() - start
        if isinstance(result, Trainer):
            print(result.summary())
            result = result.history
        if not isinstance(result, dict) or not all(
            isinstance(v, (list, tuple)) for v in result.values()
        ):
            raise ParameterError(
                f"train_fn of {name} must return its Trainer or a history dict of lists, "
                f"got {type(result).__name__}"
            )
        history = dict(result)
        record = {
            "device": describe_device(settings.device),
            "seed": settings.seed,
            "train_seconds": round(seconds, 1),
            **(meta or {}),
        }
        if target is not None:
            save_checkpoint(target, model, model_config, history=history, meta=record)
            where = "shipped" if settings.save == "shipped" else f"your cache, {target}"
            print(f"trained and saved checkpoint {name} ({where})")
        else:
            why = "quick mode" if settings.quick else "save='none'"
            print(f"trained ({why}, checkpoint not written)")
        model.to(settings.device).eval()
        return Run(name, model, history, record, trained=True)
    ckpt = load_checkpoint(path, model.cpu(), expected_config=model_config)
    model.to(settings.device).eval()
    steps = len(ckpt.history.get("loss", []))
    origin = "shipped" if path == pretrained_path(name) else "your cached"
    print(
        f"loaded {origin} checkpoint {name}: {steps} steps, trained in "
        f"{ckpt.meta.get('train_seconds', '?')} s on {ckpt.meta.get('device', '?')}"
    )
    return Run(name, model, ckpt.history, ckpt.meta, trained=False)


def environment_record() -> str:
    """Package versions and device, printed at the end of every chapter."""
    import matplotlib
    import numpy
    import scipy

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return (
        f"python {platform.python_version()} | torch {torch.__version__} | numpy {numpy.__version__} | "
        f"scipy {scipy.__version__} | matplotlib {matplotlib.__version__} | GPU: {gpu} | "
        f"{platform.system()} {platform.machine()}"
    )


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record ``value`` for the book's text (myst-nb ``glue``): ``{glue:text}`name:.3f` ``.

    A measured number quoted in a chapter's prose is glued, never typed, so that the text follows
    the outputs of whichever machine executed the notebook. Where myst-nb is not installed (e.g.
    Colab) nothing is recorded and, with ``display=True``, the value is printed.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    elif hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        # a NumPy scalar: its repr "np.float64(...)" is not a number the text can format
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # pragma: no cover - Colab and other bare kernels
        if display:
            print(f"{name} = {value!r}")
        return
    myst_glue(name, value, display=display)


RUN_TIMES_RECORD = (
    "run_times.json"  # lib/pretrained/run_times.json: bench/notebook_times.py
)


def _minutes(seconds: float) -> str:
    """A run time as a reader plans with it: "40 s", "3 min", "1 h 5 min"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def glue_run_times(chapter: str, record: str | Path | None = None) -> dict[str, str]:
    """Glue what the chapter costs a reader, from the measured record, for its first cell.

    ``chapter`` is the notebook's name (``"04_measuring_disentanglement"``); the record
    (default ``lib/pretrained/run_times.json``, written by ``bench/notebook_times.py``) holds
    its reading time and its run times in quick and full mode on the machine it names. Glued as
    ``read_minutes``, ``run_quick``, ``run_full`` and ``run_machine``; returned as well.
    """
    if not isinstance(chapter, str):
        raise ParameterError(f"chapter must be a notebook's name, got {chapter!r}")
    if record is not None and not isinstance(record, (str, Path)):
        raise ParameterError(f"record must be a path, got {record!r}")
    path = Path(record) if record is not None else pretrained_path(RUN_TIMES_RECORD)
    if not path.is_file():
        raise DataError(f"no run-time record at {path}: run bench/notebook_times.py")
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path.name} is not a JSON run-time record: {exc}") from exc
    if chapter not in data.get("chapters", {}):
        raise ParameterError(
            f"chapter {chapter!r} is not in {path.name} "
            f"(it has {sorted(data.get('chapters', {}))})"
        )
    entry = data["chapters"][chapter]
    wanted = ("read_minutes", "quick_cpu_seconds", "full_cpu_seconds")
    missing = [k for k in wanted if not isinstance(entry, dict) or k not in entry]
    missing += [
        k for k in ("machine", "torch_threads", "torch", "date") if k not in data
    ]
    if missing:
        raise DataError(
            f"{path.name}: chapter {chapter!r} lacks {missing}; run bench/notebook_times.py"
        )
    values = {
        "read_minutes": f"{entry['read_minutes']:.0f}",
        "run_quick": _minutes(entry["quick_cpu_seconds"]),
        "run_full": _minutes(entry["full_cpu_seconds"]),
        "run_machine": (
            f"{data['machine']} with {data['torch_threads']} torch threads "
            f"(torch {data['torch']}, {data['date']})"
        ),
    }
    for key, value in values.items():
        glue(key, value)
    return values


CLAIM_VERDICTS = (
    "reproduced",
    "partly reproduced",
    "not reproduced",
    "inconclusive",
    "inconclusive (under-trained)",
    "PMP under-trained where Ada-GVAE is not",  # chapter 05's one-sided outcome
)


def glue_claim(measured: str, verdict: str, budget: str, key: str = "claim") -> None:
    """Record a chapter's test of its paper's central claim for the landing page.

    ``measured`` is a short phrase with the numbers of this run (formatted by the caller from
    its variables, never typed); ``verdict`` is one of :data:`CLAIM_VERDICTS`, decided in the
    chapter by a stated criterion; ``budget`` says what the verdict rests on: the training
    steps as a fraction of the paper's (or that the paper states none) and the device. Glued
    as ``claim_measured``, ``claim_verdict`` and ``claim_budget``, which ``book/intro.md``
    pastes into its results table; also printed, so that the chapter shows it. A chapter that
    tests a second claim glues it under another ``key`` (``hole``: ``hole_measured``, ...).
    """
    if not (isinstance(key, str) and key.isidentifier()):
        raise ValueError(
            f"key must be a Python identifier such as 'claim', got {key!r}"
        )
    if verdict not in CLAIM_VERDICTS:
        raise ValueError(f"verdict must be one of {CLAIM_VERDICTS}, got {verdict!r}")
    if not measured.strip():
        raise ValueError("measured must say what was measured")
    if not budget.strip():
        raise ValueError("budget must say what the verdict rests on (steps, device)")
    glue(f"{key}_measured", measured)
    glue(f"{key}_verdict", verdict)
    glue(f"{key}_budget", budget)
    label = "claim check" if key == "claim" else f"claim check ({key})"
    print(f"{label}: {measured} -> {verdict} (budget: {budget})")
