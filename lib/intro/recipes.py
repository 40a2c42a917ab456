"""Chapter 00 "Introduction": its training recipes.

The chapter's settings (:func:`get_config`: the network, the budgets and the optimiser) and the
run spec of its model live in :mod:`lib.intro.runs`; :func:`train_warmup_ae` trains a model of
the reader's with the chapter's recipe, :func:`fit_warmup_ae` trains or loads the shipped
checkpoint (the notebook contract). Both go through :func:`lib.intro.runs.build_run`.
"""

from __future__ import annotations

import torch

from lib.errors import ParameterError
from lib.intro.model import WarmupAutoencoder
from lib.intro.runs import IntroChapterConfig, build_run, get_config
from lib.notebook import Run, RunSettings, train_or_load
from lib.trainer import Trainer

# get_config is re-exported: the chapter config's home is lib.intro.runs
__all__ = ["fit_warmup_ae", "get_config", "train_warmup_ae"]


def train_warmup_ae(
    model: WarmupAutoencoder,
    images: torch.Tensor,
    *,
    steps: int,
    batch_size: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> Trainer:
    """Train ``model`` in place on ``images`` (N, 1, 28, 28) with :func:`warmup_loss` and Adam:
    the chapter's run (:func:`~lib.intro.runs.build_run`) on a model of the reader's.

    Minibatches are shuffled epoch by epoch with ``seed``; ``batch_size`` and ``lr``
    default to the chapter's. Returns the Trainer (history, summary).
    """
    if not isinstance(model, WarmupAutoencoder):
        raise ParameterError(
            f"model must be a WarmupAutoencoder, got {type(model).__name__}"
        )
    spec = get_config().run(seed=seed, steps=steps)
    changes = {"model": model.config, "trainer.progress": progress}
    if batch_size is not None:
        changes["batch_size"] = batch_size
    if lr is not None:
        changes["trainer.lr"] = lr
    spec = spec.override(changes)
    trainer = build_run(spec, images, model=model).trainer()
    trainer.fit()
    return trainer


def fit_warmup_ae(
    settings: RunSettings, chapter: IntroChapterConfig, images: torch.Tensor
) -> Run:
    """A new :class:`WarmupAutoencoder` of ``chapter.model`` (initial weights from the
    notebook's seed) trained on ``images`` with the chapter's budget, or the shipped
    checkpoint ``intro/warmup_ae``: a :class:`~lib.notebook.Run`."""
    steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    parts = build_run(
        chapter.run(seed=settings.seed, steps=steps), images, settings.device
    )

    def train_fn(net: WarmupAutoencoder) -> Trainer:
        trainer = parts.trainer()
        trainer.fit()
        return trainer

    return train_or_load(settings, "intro/warmup_ae", parts.model, train_fn)
