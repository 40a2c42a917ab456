"""One way to train a chapter's models: the parts of a run, built once, driven by anyone.

Each chapter package has a ``runs.py`` with a **run spec** (a :class:`RunSpec`: a
:class:`~lib.config.BaseConfig` tree of the model's config, the loss weights, a nested
:class:`~lib.trainer.TrainerConfig`, the batch size and the seed) and **one builder**,
``build_run(spec, <the data>, ...)`` (its data arguments are the chapter's: digits, disks, a
stream of spikes, dSprites pairs), which returns the :class:`RunParts` of one seed: the model,
its loss, its batches and its trainer's config. The notebook's ``fit_*`` recipe, the experiment
scripts, the sweep trials and ``experiments/reproduce.py`` all train through it;
:func:`stacked_trainer` trains several seeds' parts as one batched model
(:class:`lib.scale.StackedModels`): on CUDA streams, or on a CPU, each seed computes what it
would alone, unless its loss draws noise from torch's global generator (a VAE's sampling),
which the seeds then share. Chapter 05 stacks inside its own builder
(``lib.pmp.build_run(..., seeds=...)``), because its pair stream gathers every seed's pairs in
one call.

A model's initial weights are drawn by :func:`seeded_init`: from ``torch.manual_seed(seed)``
inside :func:`torch.random.fork_rng`, so that building a model leaves torch's global random
state as it was (no hidden global seeding; the weights are those a global seed gives).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .config import BaseConfig
from .errors import ConfigError, ParameterError, check_integer
from .scale import BATCHINGS, StackedBatches, StackedModels, stacked_loss
from .trainer import Trainer, TrainerConfig


@dataclass
class RunSpec(BaseConfig):
    """Base of every package's run spec (a config tree; the fields are the package's). What
    every spec holds is checked here: a ``trainer`` branch that is a
    :class:`~lib.trainer.TrainerConfig`, a positive ``batch_size`` and a ``seed`` >= 0."""

    def __post_init__(self) -> None:
        trainer = getattr(self, "trainer", None)
        if not isinstance(trainer, TrainerConfig):
            raise ConfigError(f"{self.name} needs a trainer branch (a TrainerConfig)")
        check_integer(f"{self.name}.trainer.steps", trainer.steps, minimum=1)
        check_integer(
            f"{self.name}.batch_size", getattr(self, "batch_size", None), minimum=1
        )
        check_integer(f"{self.name}.seed", getattr(self, "seed", None), minimum=0)


@contextlib.contextmanager
def seeded_init(seed: int) -> Iterator[None]:
    """Draw what is built inside from ``torch.manual_seed(seed)``, torch's global random
    state restored afterwards (CPU, and the GPUs, whose state ``manual_seed`` also sets)."""
    check_integer("seed", seed, minimum=0)
    gpus = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=gpus):
        torch.manual_seed(seed)
        yield


@dataclass
class RunParts:
    """One seed's training, as its package's ``build_run`` made it.

    ``model`` sits on the run's device; ``loss_fn(model, batch) -> (total, parts)``;
    ``batch_fn(step) -> batch`` (with ``state_dict`` where it has state, so a checkpoint
    resumes it); ``trainer_config`` is the spec's ``trainer`` branch.
    """

    model: torch.nn.Module
    loss_fn: Callable[..., Any]
    batch_fn: Callable[[int], Any]
    trainer_config: TrainerConfig
    # the layout the model trains in (e.g. torch.channels_last, which the CPU convolution
    # kernels prefer), set when the trainer is made; None: as built
    memory_format: torch.memory_format | None = None
    # what else than the batch decides a step recorded as a CUDA graph (a schedule's epoch):
    # lib.trainer.Trainer's graph_key
    graph_key: Callable[[int], Any] | None = None
    # a builder that stacked several seeds into ``model`` gives their own models here
    seed_models: list[torch.nn.Module] | None = None

    def trainer(self, **changes: Any) -> Trainer:
        """A :class:`~lib.trainer.Trainer` of these parts; ``changes`` override fields of
        the trainer config (e.g. ``progress=False``) for this driver only."""
        config = (
            self.trainer_config.override(changes) if changes else self.trainer_config
        )
        if self.memory_format is not None:
            self.model.to(memory_format=self.memory_format)
        return Trainer(
            self.model, self.loss_fn, self.batch_fn, config, graph_key=self.graph_key
        )


def stacked_trainer(
    parts: Sequence[RunParts], *, batching: str = "streams", **changes: Any
) -> tuple[Trainer, list[torch.nn.Module]]:
    """One trainer for several seeds' parts, and the seeds' models.

    One seed: its own trainer. Several: their models stacked into one batched model
    (:class:`~lib.scale.StackedModels`, on CUDA streams or vmap'd as ``batching`` says),
    their losses summed (:func:`~lib.scale.stacked_loss`) and their batches drawn together
    (:class:`~lib.scale.StackedBatches`). The seeds must be runs of one spec but for the
    seed: the trainer config is checked equal, and the loss and graph key are the first
    seed's. ``changes`` override trainer-config fields for this driver.
    """
    parts = list(parts)
    if not parts or not all(isinstance(p, RunParts) for p in parts):
        raise ParameterError("stacked_trainer needs one or more RunParts")
    if batching not in BATCHINGS:
        raise ParameterError(f"batching must be one of {BATCHINGS}, got {batching!r}")
    models = [p.model for p in parts]
    if len(parts) == 1:
        return parts[0].trainer(**changes), models
    if any(p.memory_format is not None for p in parts):
        raise ParameterError(
            "stacked seeds train in the default layout: build them without a memory format "
            "(e.g. channels_last=False)"
        )
    first = parts[0].trainer_config
    if any(p.trainer_config != first for p in parts[1:]):
        raise ParameterError("stacked seeds must share one trainer config")
    config = first.override(changes) if changes else first
    stack = StackedModels(models, batching)
    loss = stacked_loss(parts[0].loss_fn)
    batches = StackedBatches([p.batch_fn for p in parts])
    trainer = Trainer(stack, loss, batches, config, graph_key=parts[0].graph_key)
    return trainer, models
