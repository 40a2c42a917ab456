"""Chapter 04's runs: the chapter's settings, the run spec of one dSprites autoencoder (plain or
beta-VAE), and the one builder its recipes and scripts train through (:mod:`lib.runs`).

    spec = get_config().vae_run(4.0, seed=1)             # a DSpritesRun
    parts = build_run(spec, DSprites())                  # model, loss, batches
    trainer = parts.trainer(); trainer.fit()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from lib.config import check_field_types
from lib.data.dsprites import DSprites, check_dataset
from lib.errors import ParameterError
from lib.metrics import MetricSizes
from lib.nets import (
    Conv64AEConfig,
    Conv64Autoencoder,
    Conv64VAE,
    Conv64VAEConfig,
    bce_ae_loss,
    beta_vae_loss,
)
from lib.runs import (
    NoisyLoss,
    RunParts,
    RunSpec,
    run_noise,
    seeded_init,
    seeded_model,
)
from lib.trainer import TrainerConfig


@dataclass(frozen=True)
class MeasuringChapterConfig:
    """Everything chapter 04 fixes (the reference sizes are 10,000 / 5,000)."""

    sizes: MetricSizes = field(default_factory=MetricSizes)
    quick_sizes: MetricSizes = field(
        default_factory=lambda: MetricSizes(150, 100, 100, 50, 16)
    )
    model: Conv64AEConfig = field(default_factory=lambda: Conv64AEConfig(code_size=10))
    steps: int = 4000  # about 2.5 minutes on two CPU cores
    quick_steps: int = 10
    batch_size: int = 64
    lr: float = 5e-4  # Adam, the PMP authors' rate for the same network
    # the beta-VAE population (Locatello et al. 2019 train beta in {1, 2, 4, 6, 8, 16} for
    # 300,000 steps of 64 at lr 1e-4; this CPU budget is a small fraction of that, so the
    # rate is the chapter's 5e-4)
    betas: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    population_seeds: tuple[int, ...] = (0, 1)
    vae_steps: int = 1000  # one CPU thread: 3 minutes to train, 3 to score per model
    vae_quick_steps: int = 5

    def __post_init__(self) -> None:
        check_field_types(self)

    def run(self, *, seed: int = 0, steps: int | None = None) -> DSpritesRun:
        """The run spec of the chapter's plain autoencoder: its network, Adam at its rate,
        its batch size, ``steps`` (default the full budget) and ``seed``."""
        return DSpritesRun(
            model=self.model,
            trainer=TrainerConfig(
                steps=self.steps if steps is None else steps, lr=self.lr
            ),
            batch_size=self.batch_size,
            seed=seed,
        )

    def vae_run(
        self, beta: float, *, seed: int = 0, steps: int | None = None
    ) -> DSpritesRun:
        """The run spec of one beta-VAE of the population: the plain autoencoder's code
        size with the weight ``beta`` on the KL term, the population's budget (``steps``,
        default ``vae_steps``) and ``seed`` (its weights, its batches, its noise)."""
        config = Conv64VAEConfig(code_size=self.model.code_size, beta=float(beta))
        return self.run(
            seed=seed, steps=self.vae_steps if steps is None else steps
        ).override(model=config)


def get_config() -> MeasuringChapterConfig:
    """The chapter's settings (minGPT's ``get_config``)."""
    return MeasuringChapterConfig()


@dataclass
class DSpritesRun(RunSpec):
    """One training run of a dSprites autoencoder: a config tree (defaults: the chapter's
    plain autoencoder). The network's config says which: a :class:`Conv64AEConfig` trains
    with binary cross-entropy, a :class:`Conv64VAEConfig` as a beta-VAE."""

    model: Conv64AEConfig | Conv64VAEConfig = field(
        default_factory=lambda: get_config().model
    )
    trainer: TrainerConfig = field(default_factory=lambda: get_config().run().trainer)
    batch_size: int = field(default_factory=lambda: get_config().batch_size)
    seed: int = 0


def dsprites_batches(
    data: DSprites, batch_size: int, seed: int = 0, device: str | torch.device = "cpu"
) -> Callable[[int], torch.Tensor]:
    """A fresh batch of procedural dSprites every step (seed ``seed``, step)."""

    def batch(step: int) -> torch.Tensor:
        rng = np.random.default_rng([seed, step])
        images = data.render(data.sample_factors(batch_size, rng))
        return torch.from_numpy(images).to(device)

    return batch


def build_run(
    spec: DSpritesRun, data: DSprites, device: str | torch.device = "cpu"
) -> RunParts:
    """The parts of run ``spec``: a fresh network (weights from the seed), its loss
    (:func:`~lib.nets.bce_ae_loss`, or :func:`~lib.nets.beta_vae_loss` for a beta-VAE), fresh
    procedural dSprites every step (:func:`dsprites_batches` with the seed) and the trainer
    config. Building leaves torch's global generator alone (:func:`lib.runs.seeded_init`). A
    beta-VAE's sampling noise comes from a generator of the run's own
    (:func:`lib.runs.run_noise`, held by a :class:`lib.runs.NoisyLoss`), which draws what the
    global one drew after ``torch.manual_seed(seed)`` and the weights, as the shipped
    population was trained; a step replayed as a CUDA graph draws from the global one."""
    if not isinstance(spec, DSpritesRun):
        raise ParameterError(f"spec must be a DSpritesRun, got {type(spec).__name__}")
    check_dataset(data)  # a data set of factors that renders images: dSprites
    batches = dsprites_batches(data, spec.batch_size, spec.seed, device)
    if isinstance(spec.model, Conv64VAEConfig):
        model, after_init = seeded_model(spec.seed, lambda: Conv64VAE(spec.model))
        graphed = spec.trainer.cuda_graph and torch.device(device).type == "cuda"
        noise = run_noise(spec.seed, device, after_init, shared=graphed)
        loss = beta_vae_loss if noise is None else NoisyLoss(beta_vae_loss, noise)
        return RunParts(model.to(device), loss, batches, spec.trainer)
    with seeded_init(spec.seed):
        model = Conv64Autoencoder(spec.model)
    return RunParts(model.to(device), bce_ae_loss, batches, spec.trainer)
