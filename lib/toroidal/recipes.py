"""Chapter "The toroidal autoencoder": its settings in one place, its training and evaluation recipes.

:func:`get_config` states the network, the loss weights, the budgets and the optimiser the chapter
uses; the notebook and the sweep script (``experiments/torus_sweep.py``) both read it, so the
sweep measures the network the chapter ships. :func:`torus_trainer` / :func:`train_torus_ae`
train a model, :func:`fit_torus_ae` trains or loads the shipped checkpoint (the notebook
contract), and :func:`evaluate_torus_ae` turns a trained model into the chapter's numbers.
:func:`sweep_trial` is one run of the loss-weight sweep as a trial of ``experiments/sweep.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lib.config import check_field_types
from lib.data.mnist import load_mnist_train_test
from lib.errors import ParameterError, check_integer, check_real
from lib.notebook import Run, RunSettings, train_or_load
from lib.toroidal.losses import TorusLossWeights, judge_loss, torus_ae_loss
from lib.toroidal.measure import sweep_measures
from lib.toroidal.model import (
    DigitJudge,
    DigitJudgeConfig,
    TorusAEConfig,
    TorusAutoencoder,
)
from lib.trainer import TensorSampler, Trainer, TrainerConfig

if TYPE_CHECKING:  # a type only: the paper package needs no sweep to import
    from lib.sweep import TrialContext


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

    def __post_init__(self) -> None:
        check_field_types(self)


def get_config() -> ToroidalChapterConfig:
    """The chapter's settings (minGPT's ``get_config``): one definition for notebook and sweep."""
    return ToroidalChapterConfig()


def new_torus_ae(
    config: TorusAEConfig, seed: int, device: str | torch.device = "cpu"
) -> TorusAutoencoder:
    """A fresh model whose initial weights depend on ``seed`` only, so models differ by loss alone."""
    torch.manual_seed(seed)
    return TorusAutoencoder(config).to(device)


def torus_trainer(
    model: TorusAutoencoder,
    images: torch.Tensor,
    labels: torch.Tensor,
    weights: TorusLossWeights,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool | None = None,
    log_every: int = 1,
    cuda_graph: bool = False,
) -> Trainer:
    """A :class:`~lib.trainer.Trainer` for ``model`` with :func:`torus_ae_loss` and Adam.

    Call ``.fit()`` to train (or ``.fit(n)`` to stop after n steps and go on later). ``images``
    (N, 1, 28, 28) in [0, 1] and ``labels`` (N,) should already sit on the model's device.
    Minibatches are shuffled epoch by epoch with ``seed``. The trainer's ``history`` holds the
    total loss and every unweighted term, including those with weight 0. ``log_every`` and
    ``cuda_graph``: the GPU options of :class:`~lib.trainer.TrainerConfig` (``bench/scale.py``).
    """
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"images and labels differ in length: {images.shape[0]} vs {labels.shape[0]}"
        )
    loss_fn = functools.partial(torus_ae_loss, weights=weights)
    sampler = TensorSampler(images, labels, batch_size=batch_size, seed=seed)
    config = TrainerConfig(
        steps=steps,
        lr=lr,
        progress=progress,
        log_every=log_every,
        cuda_graph=cuda_graph,
    )
    return Trainer(model, loss_fn, sampler, config)


SWEEP_PARAMS = (
    "name",
    "seed",
    "steps",
    "every",
    "batch_size",
    "lr",
    "spring",
    "quantile",
    "classifier",
    "decorrelation",
)


def sweep_trial(params: dict[str, Any], ctx: TrialContext) -> list[dict[str, Any]]:
    """One run of the loss-weight sweep as a trial (``experiments/sweep.py torus``).

    ``params``: ``name`` and any of ``seed``, ``steps``, ``every``, ``batch_size``, ``lr``
    and the four loss weights ``spring``, ``quantile``, ``classifier``, ``decorrelation``
    (defaults: the chapter's, :func:`get_config`). The network, its initial weights, the
    MNIST split and the trainer are ``experiments/torus_sweep.py``'s; the run trains in
    sittings that resume and is measured every ``every`` steps
    (:meth:`lib.sweep.TrialContext.evaluate`). Returns one line per evaluation point in the format of the shipped
    sweep record (``lib/pretrained/toroidal/sweep.jsonl``, read by
    :func:`~lib.toroidal.record.load_sweep`): the settings, ``threads``, ``device``,
    ``step``, ``seconds`` (training seconds so far; the script's are wall seconds),
    ``val`` / ``train`` (:func:`~lib.toroidal.measure.sweep_measures`) and
    ``spring_last50``.
    """
    unknown = set(params) - set(SWEEP_PARAMS)
    if unknown or "name" not in params:
        raise ParameterError(
            f"sweep_trial: needs 'name'; unknown parameters {sorted(unknown)}"
        )
    chapter = get_config()
    weights = chapter.torus_weights
    settings = {
        "name": params["name"],
        "seed": params.get("seed", 0),
        "steps": params.get("steps", chapter.steps),
        "every": params.get("every", 250),
        "batch_size": params.get("batch_size", chapter.batch_size),
        "lr": params.get("lr", chapter.lr),
        "spring": params.get("spring", weights.spring),
        "quantile": params.get("quantile", weights.quantile),
        "classifier": params.get("classifier", weights.classifier),
        "decorrelation": params.get("decorrelation", weights.decorrelation),
    }
    for key in ("seed", "steps", "every", "batch_size"):
        check_integer(key, settings[key], minimum=0 if key == "seed" else 1)
    check_real("lr", settings["lr"], 0.0, strict=True)
    for key in ("spring", "quantile", "classifier", "decorrelation"):
        check_real(key, settings[key], 0.0)
    device = ctx.device
    x_train, y_train, x_val, y_val = load_mnist_train_test().tensors(device)
    loss_weights = TorusLossWeights(
        recon=1.0,
        classifier=settings["classifier"],
        spring=settings["spring"],
        quantile=settings["quantile"],
        decorrelation=settings["decorrelation"],
    )
    model = new_torus_ae(chapter.model, settings["seed"], device)
    trainer = torus_trainer(
        model,
        x_train,
        y_train,
        loss_weights,
        steps=settings["steps"],
        batch_size=settings["batch_size"],
        lr=settings["lr"],
        seed=settings["seed"],
        progress=False,
    )
    stamp = {**settings, "threads": ctx.threads, "device": str(device)}

    def measure(trainer: Trainer) -> dict[str, Any]:
        return {
            **stamp,
            "step": trainer.step,
            "seconds": round(trainer.seconds, 1),
            "val": sweep_measures(model, x_val, y_val),
            "train": sweep_measures(model, x_train, y_train),
            "spring_last50": round(float(np.mean(trainer.history["spring"][-50:])), 4),
        }

    return ctx.evaluate(trainer, settings, settings["every"], measure)


def train_torus_ae(
    model: TorusAutoencoder,
    images: torch.Tensor,
    labels: torch.Tensor,
    weights: TorusLossWeights,
    **options: Any,
) -> Trainer:
    """Train ``model`` in place (see :func:`torus_trainer` for the options); return the Trainer."""
    trainer = torus_trainer(model, images, labels, weights, **options)
    trainer.fit()
    return trainer


def fit_torus_ae(
    settings: RunSettings,
    chapter: ToroidalChapterConfig,
    name: str,
    weights: TorusLossWeights,
    images: torch.Tensor,
    labels: torch.Tensor,
) -> Run:
    """A new chapter model (:func:`new_torus_ae`) trained on the digits, or the shipped
    ``toroidal/<name>``: a :class:`~lib.notebook.Run`.

    Network, budget, batch size and learning rate come from ``chapter`` (the notebook's
    :func:`get_config`).
    """
    steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    model = new_torus_ae(chapter.model, settings.seed, settings.device)

    def train_fn(net: TorusAutoencoder) -> Trainer:
        options = dict(batch_size=chapter.batch_size, lr=chapter.lr, seed=settings.seed)
        return train_torus_ae(net, images, labels, weights, steps=steps, **options)

    meta = {
        "loss_weights": weights.to_dict(),
        "steps": steps,
        "batch_size": chapter.batch_size,
    }
    return train_or_load(settings, f"toroidal/{name}", model, train_fn, meta=meta)


def train_digit_judge(
    model: DigitJudge,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool | None = None,
) -> Trainer:
    """Train the digit classifier ``model`` in place with cross-entropy and Adam; return the Trainer.

    ``images`` (N, 1, 28, 28) and ``labels`` (N,) are real digits on the model's device.
    """
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"images and labels differ in length: {images.shape[0]} vs {labels.shape[0]}"
        )
    sampler = TensorSampler(images, labels, batch_size=batch_size, seed=seed)
    config = TrainerConfig(steps=steps, lr=lr, progress=progress)
    trainer = Trainer(model, judge_loss, sampler, config)
    trainer.fit()
    return trainer


def fit_digit_judge(
    settings: RunSettings,
    chapter: ToroidalChapterConfig,
    images: torch.Tensor,
    labels: torch.Tensor,
) -> Run:
    """The chapter's digit judge, trained on the real training digits or loaded
    (``toroidal/digit_judge``): a :class:`~lib.notebook.Run`."""
    steps = settings.pick(full=chapter.judge_steps, quick=chapter.judge_quick_steps)
    torch.manual_seed(settings.seed)
    judge = DigitJudge(chapter.judge).to(settings.device)

    def train_fn(net: DigitJudge) -> Trainer:
        options = dict(batch_size=chapter.batch_size, lr=chapter.lr, seed=settings.seed)
        return train_digit_judge(net, images, labels, steps=steps, **options)

    meta = {"steps": steps, "batch_size": chapter.batch_size}
    return train_or_load(settings, "toroidal/digit_judge", judge, train_fn, meta=meta)
