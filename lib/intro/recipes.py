"""Chapter 00 "Introduction": its settings in one place and its training recipe.

:func:`get_config` states the network, the budgets and the optimiser; :func:`train_warmup_ae`
trains a model, :func:`fit_warmup_ae` trains or loads the shipped checkpoint (the notebook
contract).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lib.config import check_field_types
from lib.intro.losses import warmup_loss
from lib.intro.model import WarmupAEConfig, WarmupAutoencoder
from lib.notebook import Run, RunSettings, train_or_load
from lib.trainer import TensorSampler, Trainer, TrainerConfig


@dataclass(frozen=True)
class IntroChapterConfig:
    """Everything chapter 00 fixes: a 2-d code, 3,000 Adam steps (150 in quick mode, on 512
    training digits, to exercise the code)."""

    model: WarmupAEConfig = field(default_factory=lambda: WarmupAEConfig(latent_dim=2))
    steps: int = 3000
    quick_steps: int = 150
    batch_size: int = 128
    lr: float = 2e-3  # Adam
    quick_train_size: int = 512  # training digits in quick mode

    def __post_init__(self) -> None:
        check_field_types(self)


def get_config() -> IntroChapterConfig:
    """The chapter's settings (minGPT's ``get_config``), read once at the top of the notebook."""
    return IntroChapterConfig()


def train_warmup_ae(
    model: WarmupAutoencoder,
    images: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    progress: bool | None = None,
) -> Trainer:
    """Train ``model`` in place on ``images`` (N, 1, 28, 28) with :func:`warmup_loss` and Adam.

    Minibatches are shuffled epoch by epoch with ``seed``. Returns the Trainer (history, summary).
    """
    sampler = TensorSampler(images, batch_size=batch_size, seed=seed)
    config = TrainerConfig(steps=steps, lr=lr, progress=progress)
    trainer = Trainer(model, warmup_loss, sampler, config)
    trainer.fit()
    return trainer


def fit_warmup_ae(
    settings: RunSettings, chapter: IntroChapterConfig, images: torch.Tensor
) -> Run:
    """A new :class:`WarmupAutoencoder` of ``chapter.model`` (initial weights from the
    notebook's seed) trained on ``images`` with the chapter's budget, or the shipped
    checkpoint ``intro/warmup_ae``: a :class:`~lib.notebook.Run`."""
    steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    torch.manual_seed(settings.seed)
    model = WarmupAutoencoder(chapter.model).to(settings.device)

    def train_fn(net: WarmupAutoencoder) -> Trainer:
        options = dict(batch_size=chapter.batch_size, lr=chapter.lr, seed=settings.seed)
        return train_warmup_ae(net, images, steps=steps, **options)

    return train_or_load(settings, "intro/warmup_ae", model, train_fn)
