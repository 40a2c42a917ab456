"""Chapter 00's runs: the chapter's settings, the run spec of the warm-up autoencoder, and the
one builder its recipes train through (:mod:`lib.runs`).

    spec = get_config().run(seed=0)                      # a WarmupRun
    parts = build_run(spec, images)                      # model, loss, batches
    trainer = parts.trainer(); trainer.fit()
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lib.config import check_field_types
from lib.errors import ParameterError
from lib.intro.losses import warmup_loss
from lib.intro.model import WarmupAEConfig, WarmupAutoencoder
from lib.runs import RunParts, RunSpec, seeded_init
from lib.trainer import TensorSampler, TrainerConfig


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

    def run(self, *, seed: int = 0, steps: int | None = None) -> WarmupRun:
        """The run spec of the chapter's model: its network, Adam at its rate, its batch
        size, ``steps`` (default the full budget) and ``seed``."""
        return WarmupRun(
            model=self.model,
            trainer=TrainerConfig(
                steps=self.steps if steps is None else steps, lr=self.lr
            ),
            batch_size=self.batch_size,
            seed=seed,
        )


def get_config() -> IntroChapterConfig:
    """The chapter's settings (minGPT's ``get_config``), read once at the top of the notebook."""
    return IntroChapterConfig()


@dataclass
class WarmupRun(RunSpec):
    """One training run of the warm-up autoencoder: a config tree (defaults: the chapter's)."""

    model: WarmupAEConfig = field(default_factory=lambda: get_config().model)
    trainer: TrainerConfig = field(default_factory=lambda: get_config().run().trainer)
    batch_size: int = field(default_factory=lambda: get_config().batch_size)
    seed: int = 0


def build_run(
    spec: WarmupRun,
    images: torch.Tensor,
    device: str | torch.device | None = None,
    model: WarmupAutoencoder | None = None,
) -> RunParts:
    """The parts of run ``spec`` on ``images`` (N, 1, 28, 28), which should sit on the
    device: a fresh :class:`WarmupAutoencoder` of the spec's network (initial weights from
    its seed, :func:`lib.runs.seeded_init`) or the reader's own ``model``,
    :func:`warmup_loss`, minibatches shuffled epoch by epoch with the seed, and the spec's
    trainer config."""
    if not isinstance(spec, WarmupRun):
        raise ParameterError(f"spec must be a WarmupRun, got {type(spec).__name__}")
    if not torch.is_tensor(images):
        raise ParameterError(f"images must be a tensor, got {type(images).__name__}")
    if model is not None and not isinstance(model, WarmupAutoencoder):
        raise ParameterError(
            f"model must be a WarmupAutoencoder, got {type(model).__name__}"
        )
    if model is None:
        with seeded_init(spec.seed):
            model = WarmupAutoencoder(spec.model)
        model = model.to(device or images.device)
    sampler = TensorSampler(images, batch_size=spec.batch_size, seed=spec.seed)
    return RunParts(model, warmup_loss, sampler, spec.trainer)
