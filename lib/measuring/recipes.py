"""Chapter "Measuring disentanglement": settings, hand-made codes, a plain dSprites autoencoder.

:func:`get_config` states the sample sizes of every metric and the autoencoder's budget; the
reference sizes (disentanglement_lib: 10,000 train / 5,000 test points and votes) cost minutes
per code on a CPU, so the chapter states smaller ones and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from lib.config import check_field_types
from lib.data.dsprites import DSprites, FactorGrid
from lib.metrics import MetricSizes
from lib.nets import (
    Conv64AEConfig,
    Conv64Autoencoder,
    Conv64VAE,
    Conv64VAEConfig,
    bce_ae_loss,
    beta_vae_loss,
)
from lib.notebook import Run, RunSettings, train_or_load
from lib.trainer import Trainer, TrainerConfig

HAND_MADE = ("true factors", "rotated", "duplicated", "merged", "noise")


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


def get_config() -> MeasuringChapterConfig:
    """The chapter's settings (minGPT's ``get_config``)."""
    return MeasuringChapterConfig()


# --------------------------------------------------------------------------------------------
# hand-made codes
# --------------------------------------------------------------------------------------------
class FactorObservations(FactorGrid):
    """A data set whose "image" is the factor vector itself (float (n, n_factors)).

    With it, a hand-made code is an ``encode`` function of the factors, and the metrics that
    sample their own batches (FactorVAE, BetaVAE) score it like any encoder.
    """

    def __init__(self, base: FactorGrid) -> None:
        self.factor_names = base.factor_names
        self.factor_sizes = base.factor_sizes

    def render(self, factors: np.ndarray) -> np.ndarray:
        return np.asarray(factors, dtype=np.float64)


def hand_made_codes(
    factor_sizes: tuple[int, ...], seed: int = 0
) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Encoders of factor vectors whose scores a reader can predict (:data:`HAND_MADE`).

    - true factors: each factor scaled to [0, 1], one code per factor;
    - rotated: the same codes mixed by a random rotation (every code sees every factor);
    - duplicated: the true codes twice (10 codes, each factor in two of them);
    - merged: shape and scale share one code (shape * 6 + scale, a bijective merge), the rest
      as the true codes;
    - noise: standard normal codes that ignore the factors (seeded by the input).
    """
    sizes = np.asarray(factor_sizes, dtype=np.float64)
    n = len(sizes)
    rotation, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))

    def true(f: np.ndarray) -> np.ndarray:
        return np.asarray(f, dtype=np.float64) / (sizes - 1)

    def merged(f: np.ndarray) -> np.ndarray:
        t = true(f)
        first_two = (f[:, 0] * factor_sizes[1] + f[:, 1]) / (sizes[0] * sizes[1] - 1)
        return np.column_stack([first_two, t[:, 2:]])

    def noise(f: np.ndarray) -> np.ndarray:
        local = np.random.default_rng([seed, len(f), int(np.asarray(f).sum())])
        return local.normal(size=(len(f), n))

    return {
        "true factors": true,
        "rotated": lambda f: (true(f) - 0.5) @ rotation,
        "duplicated": lambda f: np.hstack([true(f), true(f)]),
        "merged": merged,
        "noise": noise,
    }


# --------------------------------------------------------------------------------------------
# a plain autoencoder on dSprites
# --------------------------------------------------------------------------------------------
def dsprites_batches(
    data: DSprites, batch_size: int, seed: int = 0, device: str | torch.device = "cpu"
) -> Callable[[int], torch.Tensor]:
    """A fresh batch of procedural dSprites every step (seed ``seed``, step)."""

    def batch(step: int) -> torch.Tensor:
        rng = np.random.default_rng([seed, step])
        images = data.render(data.sample_factors(batch_size, rng))
        return torch.from_numpy(images).to(device)

    return batch


def fit_dsprites_ae(
    settings: RunSettings, chapter: MeasuringChapterConfig, data: DSprites
) -> Run:
    """The chapter's plain autoencoder, trained with BCE on fresh dSprites or loaded
    (``measuring/dsprites_ae``), with ``chapter``'s network, budget and optimiser (the
    notebook's :func:`get_config`): a :class:`~lib.notebook.Run`."""
    steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    torch.manual_seed(settings.seed)
    model = Conv64Autoencoder(chapter.model).to(settings.device)

    def train_fn(net: Conv64Autoencoder) -> Trainer:
        batches = dsprites_batches(
            data, chapter.batch_size, settings.seed, settings.device
        )
        config = TrainerConfig(steps=steps, lr=chapter.lr)
        trainer = Trainer(net, bce_ae_loss, batches, config)
        trainer.fit()
        return trainer

    meta = {"steps": steps, "batch_size": chapter.batch_size, "lr": chapter.lr}
    return train_or_load(settings, "measuring/dsprites_ae", model, train_fn, meta=meta)


# --------------------------------------------------------------------------------------------
# the beta-VAE population
# --------------------------------------------------------------------------------------------
SCORING_CHUNK = (
    64  # images rendered / encoded at a time when a population model is scored
)


class SmallChunkDSprites(DSprites):
    """:class:`~lib.data.dsprites.DSprites` that renders :data:`SCORING_CHUNK` images at a
    time: the same images (a test checks it), several times faster on one CPU thread than
    the default chunk of 4,096, whose arrays leave the cache (about 10,000 against 3,000
    images/s here). The metrics render hundreds of thousands of images per model."""

    def render(self, factors: np.ndarray, chunk: int = SCORING_CHUNK) -> np.ndarray:
        return super().render(factors, chunk)


def beta_vae_name(beta: float, seed: int) -> str:
    """The checkpoint name of one beta-VAE of the population: ``measuring/beta_vae_b4_s0``."""
    return f"measuring/beta_vae_b{beta:g}_s{seed}"


def fit_beta_vae(
    settings: RunSettings,
    chapter: MeasuringChapterConfig,
    data: DSprites,
    beta: float,
    seed: int,
) -> Run:
    """One beta-VAE of the population (:func:`beta_vae_name`), trained on fresh dSprites
    with seed ``seed`` (weights and batches) and ``chapter``'s budget, or loaded."""
    steps = settings.pick(full=chapter.vae_steps, quick=chapter.vae_quick_steps)
    torch.manual_seed(seed)
    config = Conv64VAEConfig(code_size=chapter.model.code_size, beta=float(beta))
    model = Conv64VAE(config).to(settings.device)

    def train_fn(net: Conv64VAE) -> Trainer:
        batches = dsprites_batches(data, chapter.batch_size, seed, settings.device)
        trainer = Trainer(
            net, beta_vae_loss, batches, TrainerConfig(steps=steps, lr=chapter.lr)
        )
        trainer.fit()
        return trainer

    meta = {
        "steps": steps,
        "batch_size": chapter.batch_size,
        "lr": chapter.lr,
        "beta": float(beta),
        "population_seed": seed,
    }
    return train_or_load(
        settings, beta_vae_name(beta, seed), model, train_fn, meta=meta
    )
