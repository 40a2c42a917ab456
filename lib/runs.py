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
would alone (a loss that draws noise is refused: the seeds would share its generator).
Chapter 05 stacks inside its own builder
(``lib.pmp.build_run(..., seeds=...)``), because its pair stream gathers every seed's pairs in
one call.

A model's initial weights are drawn by :func:`seeded_init`: from ``torch.manual_seed(seed)``
inside :func:`torch.random.fork_rng`, so that building a model leaves torch's global random
state as it was (no hidden global seeding; the weights are those a global seed gives). Noise
a run draws afterwards (a VAE's sampling, PMP's hybrids in the chapter's recipe) comes from a
generator of the run's own (:func:`seeded_model`, :func:`run_noise`, :class:`NoisyLoss`, saved
with the trainer's checkpoints), which draws what the global generator drew when the builders
seeded it, so the shipped models are reproduced bit for bit
(``bench/bit_identity.py --check``). Only stacked seeds and a step replayed as a CUDA graph
still draw from the global generators (``torch.func.vmap`` takes no generator; a graph replays
the default generator's draws), which :func:`run_noise` then sets as a global seed would.
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


def seeded_model(
    seed: int, build: Callable[[], torch.nn.Module]
) -> tuple[torch.nn.Module, torch.Generator]:
    """``build()`` with its weights drawn as in :func:`seeded_init`, and a CPU generator that
    goes on where the weights' draw left off: the noise a run draws from it afterwards (a
    VAE's reparameterised samples, PMP's hybrids) is what ``torch.manual_seed(seed)``, the
    model's construction and then torch's global generator gave, so the shipped models'
    draws are kept while the global state is left alone."""
    with seeded_init(seed):
        model = build()
        noise = torch.Generator()
        noise.set_state(torch.get_rng_state())
    return model, noise


def run_noise(
    seed: int,
    device: str | torch.device,
    after_init: torch.Generator,
    shared: bool = False,
) -> torch.Generator | None:
    """The generator a run's noise comes from, drawing what torch's global generators drew
    when the run's builder seeded them (``torch.manual_seed(seed)``, then the weights):
    on a CPU ``after_init`` (:func:`seeded_model`'s), on a GPU a generator of the device
    seeded with ``seed`` (the weights are drawn on the CPU).

    ``shared``: stacked seeds or a step replayed as a CUDA graph, which draw from torch's
    global generators (``torch.func.vmap`` takes no generator; a graph replays only the
    default generator's draws): those are set here as the builder used to leave them, and
    None is returned.
    """
    device = torch.device(device)
    if shared:
        torch.set_rng_state(after_init.get_state())
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        return None
    if device.type == "cpu":
        return after_init
    return torch.Generator(device).manual_seed(seed)


class NoisyLoss:
    """``loss_fn(model, batch, generator=generator)``: a loss that draws noise (a VAE's
    reparameterised sample) from a generator of its own, not torch's global one. Its state is
    saved with the trainer's checkpoints and restored on resume (``state_dict``)."""

    def __init__(self, loss_fn: Callable[..., Any], generator: torch.Generator) -> None:
        if not callable(loss_fn):
            raise ParameterError(f"loss_fn must be callable, got {loss_fn!r:.60}")
        if not isinstance(generator, torch.Generator):
            raise ParameterError(
                f"generator must be a torch.Generator, got {type(generator).__name__}"
            )
        self.loss_fn, self.generator = loss_fn, generator

    def __call__(self, model: torch.nn.Module, batch: Any) -> Any:
        return self.loss_fn(model, batch, generator=self.generator)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])


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
    if any(isinstance(p.loss_fn, NoisyLoss) for p in parts):
        raise ParameterError(
            "stacked seeds cannot share one noise generator: a loss that draws noise from "
            "its own (a VAE's) trains one seed at a time"
        )
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
