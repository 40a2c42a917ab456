"""Chapter 02's runs: the chapter's settings, the run spec of one autoencoder, and the one
builder that the notebook's recipe, ``experiments/torus_sweep.py``, the sweep trial and
``experiments/reproduce.py torus`` all train through (:mod:`lib.runs`).

    spec = get_config().run("faithful", seed=1, steps=30_000)    # a TorusRun
    spec = spec.override({"weights.spring": 3_000.0})             # strict: a typo is refused
    parts = build_run(spec, images, labels)                      # model, loss, batches
    trainer = parts.trainer(); trainer.fit()
    line = sweep_point(parts.model, trainer, digits, stamp)      # what a sweep line keeps
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lib.config import check_field_types
from lib.errors import ParameterError
from lib.runs import RunParts, RunSpec, seeded_init
from lib.toroidal.losses import TorusLossWeights, judge_loss, torus_ae_loss
from lib.toroidal.measure import sweep_measures
from lib.toroidal.model import (
    DigitJudge,
    DigitJudgeConfig,
    TorusAEConfig,
    TorusAutoencoder,
)
from lib.trainer import TensorSampler, Trainer, TrainerConfig


@dataclass(frozen=True)
class ToroidalChapterConfig:
    """Everything chapter 02 fixes. The paper gives only d = 3 and the layer types.

    The network is narrower than :class:`TorusAEConfig`'s defaults so that full mode fits in 15
    CPU minutes; the loss weights are those the sweep chose (see :class:`TorusLossWeights`).
    """

    model: TorusAEConfig = field(
        default_factory=lambda: TorusAEConfig(
            d=3, channels=(16, 32, 32), hidden=128, classifier_hidden=64
        )
    )
    torus_weights: TorusLossWeights = field(default_factory=TorusLossWeights)
    plain_weights: TorusLossWeights = field(default_factory=TorusLossWeights.plain)
    # beyond the paper: the decorrelation term of the chapter's last section
    decorrelated_weights: TorusLossWeights = field(
        default_factory=lambda: TorusLossWeights(decorrelation=30_000.0)
    )
    steps: int = 1000  # optimiser steps per autoencoder
    quick_steps: int = 20  # quick mode exercises the code; its numbers mean nothing
    batch_size: int = 128
    lr: float = 1e-3  # Adam
    quick_train_size: int = 512  # training digits in quick mode
    judge: DigitJudgeConfig = field(
        default_factory=lambda: DigitJudgeConfig(channels=16, hidden=64)
    )
    judge_steps: int = 1500
    judge_quick_steps: int = 20
    paper_steps: int | None = None  # the paper states no training budget

    def __post_init__(self) -> None:
        check_field_types(self)

    def weights_named(self, name: str) -> TorusLossWeights:
        """The loss weights of a setting the chapter names: ``faithful`` (the paper's terms
        with the sweep's weights), ``plain`` (reconstruction only) or ``decorrelated``."""
        table = {
            "faithful": self.torus_weights,
            "plain": self.plain_weights,
            "decorrelated": self.decorrelated_weights,
        }
        if name not in table:
            raise ParameterError(
                f"weights must be one of {sorted(table)}, got {name!r}"
            )
        return table[name]

    def judge_run(self, *, seed: int = 0, steps: int | None = None) -> DigitJudgeRun:
        """The run spec of the digit judge: its network, Adam at the chapter's rate, the
        chapter's batch size, ``steps`` (default ``judge_steps``) and ``seed``."""
        return DigitJudgeRun(
            model=self.judge,
            trainer=TrainerConfig(
                steps=self.judge_steps if steps is None else steps, lr=self.lr
            ),
            batch_size=self.batch_size,
            seed=seed,
        )

    def run(
        self,
        weights: str | TorusLossWeights = "faithful",
        *,
        seed: int = 0,
        steps: int | None = None,
    ) -> TorusRun:
        """The run spec of one of the chapter's autoencoders: its network, ``weights`` (a
        setting's name or the weights), Adam at the chapter's rate, its batch size, ``steps``
        (default the chapter's full budget) and ``seed``."""
        if isinstance(weights, str):
            weights = self.weights_named(weights)
        return TorusRun(
            model=self.model,
            weights=weights,
            trainer=TrainerConfig(
                steps=self.steps if steps is None else steps, lr=self.lr
            ),
            batch_size=self.batch_size,
            seed=seed,
        )


def get_config() -> ToroidalChapterConfig:
    """The chapter's settings (minGPT's ``get_config``): one definition for notebook and sweep."""
    return ToroidalChapterConfig()


@dataclass
class TorusRun(RunSpec):
    """One training run of chapter 02's autoencoder: a config tree saved beside its record.

    Defaults: the chapter's faithful run (:meth:`ToroidalChapterConfig.run`).
    """

    model: TorusAEConfig = field(default_factory=lambda: get_config().model)
    weights: TorusLossWeights = field(
        default_factory=lambda: get_config().torus_weights
    )
    trainer: TrainerConfig = field(default_factory=lambda: get_config().run().trainer)
    batch_size: int = field(default_factory=lambda: get_config().batch_size)
    seed: int = 0


@dataclass
class DigitJudgeRun(RunSpec):
    """The training run of the digit judge (the classifier the chapter measures decoded
    images with): cross-entropy on the real training digits. Defaults: the chapter's
    (:meth:`ToroidalChapterConfig.judge_run`)."""

    model: DigitJudgeConfig = field(default_factory=lambda: get_config().judge)
    trainer: TrainerConfig = field(
        default_factory=lambda: get_config().judge_run().trainer
    )
    batch_size: int = field(default_factory=lambda: get_config().batch_size)
    seed: int = 0


# a sweep line's flat names for the settings it varies -> their path in the spec (the
# shipped record, lib/pretrained/toroidal/sweep.jsonl, is written with these names)
SWEEP_SETTINGS = {
    "seed": "seed",
    "steps": "trainer.steps",
    "batch_size": "batch_size",
    "lr": "trainer.lr",
    "spring": "weights.spring",
    "quantile": "weights.quantile",
    "classifier": "weights.classifier",
    "decorrelation": "weights.decorrelation",
}


def new_torus_ae(
    config: TorusAEConfig, seed: int, device: str | torch.device = "cpu"
) -> TorusAutoencoder:
    """A fresh model whose initial weights depend on ``seed`` only, so models differ by loss
    alone (drawn by :func:`lib.runs.seeded_init`: torch's global random state is kept)."""
    with seeded_init(seed):
        model = TorusAutoencoder(config)
    return model.to(device)


def build_run(
    spec: TorusRun | DigitJudgeRun,
    images: torch.Tensor,
    labels: torch.Tensor,
    device: str | torch.device | None = None,
) -> RunParts:
    """The parts of run ``spec`` on the digits ``images`` (N, 1, 28, 28) in [0, 1] and
    ``labels`` (N,), which should already sit on the device the model is made on
    (``device``, default theirs).

    A :class:`TorusRun`: a fresh :func:`new_torus_ae`, :func:`torus_ae_loss` with the spec's
    weights (the trainer's ``history`` holds the total loss and every unweighted term,
    including those with weight 0). A :class:`DigitJudgeRun`: a fresh
    :class:`~lib.toroidal.model.DigitJudge` (weights from the seed) with
    :func:`~lib.toroidal.losses.judge_loss`. Either way minibatches are shuffled epoch by
    epoch with the spec's seed (:class:`~lib.trainer.TensorSampler`), and the trainer config
    is the spec's.
    """
    if not isinstance(spec, (TorusRun, DigitJudgeRun)):
        raise ParameterError(
            f"spec must be a TorusRun or a DigitJudgeRun, got {type(spec).__name__}"
        )
    for name, value in (("images", images), ("labels", labels)):
        if not torch.is_tensor(value):
            raise ParameterError(f"{name} must be a tensor, got {type(value).__name__}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"images and labels differ in length: {images.shape[0]} vs {labels.shape[0]}"
        )
    sampler = TensorSampler(images, labels, batch_size=spec.batch_size, seed=spec.seed)
    if isinstance(spec, DigitJudgeRun):
        with seeded_init(spec.seed):
            judge = DigitJudge(spec.model)
        return RunParts(
            judge.to(device or images.device), judge_loss, sampler, spec.trainer
        )
    model = new_torus_ae(spec.model, spec.seed, device or images.device)
    loss_fn = functools.partial(torus_ae_loss, weights=spec.weights)
    return RunParts(model, loss_fn, sampler, spec.trainer)


def sweep_settings(spec: TorusRun) -> dict[str, Any]:
    """The spec's settings under a sweep line's flat names (:data:`SWEEP_SETTINGS`)."""
    leaves = spec.leaves()
    return {name: leaves[path] for name, path in SWEEP_SETTINGS.items()}


def spec_from_sweep(settings: dict[str, Any]) -> TorusRun:
    """The chapter's faithful run with a sweep line's flat settings put in (strict)."""
    unknown = sorted(set(settings) - set(SWEEP_SETTINGS))
    if unknown:
        raise ParameterError(
            f"unknown settings {unknown}; a run of the sweep sets "
            f"{sorted(SWEEP_SETTINGS)} (a trial also takes name and every)"
        )
    changes = {SWEEP_SETTINGS[name]: value for name, value in settings.items()}
    return TorusRun().override(changes)


def sweep_point(
    model: TorusAutoencoder,
    trainer: Trainer,
    digits: tuple[torch.Tensor, ...],
    stamp: dict[str, Any],
) -> dict[str, Any]:
    """One line of the sweep record: ``stamp`` (the run's settings), the step, the training
    seconds so far, :func:`~lib.toroidal.measure.sweep_measures` on the validation and the
    training digits (``digits`` = x_train, y_train, x_val, y_val) and the spring term's mean
    over the last 50 steps."""
    x_train, y_train, x_val, y_val = digits
    return {
        **stamp,
        "step": trainer.step,
        "seconds": round(trainer.seconds, 1),
        "val": sweep_measures(model, x_val, y_val),
        "train": sweep_measures(model, x_train, y_train),
        "spring_last50": round(float(np.mean(trainer.history["spring"][-50:])), 4),
    }
