"""Chapter "Measuring disentanglement": hand-made codes, a plain dSprites autoencoder, the
beta-VAE population.

The chapter's settings (:func:`get_config`: the sample sizes of every metric and the
autoencoders' budgets) and the run spec of one model live in :mod:`lib.measuring.runs`; the
reference sizes (disentanglement_lib: 10,000 train / 5,000 test points and votes) cost minutes
per code on a CPU, so the chapter states smaller ones and says so.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lib.data.dsprites import DSprites, FactorGrid
from lib.measuring.runs import (
    MeasuringChapterConfig,
    build_run,
    dsprites_batches,
    get_config,
)
from lib.nets import Conv64Autoencoder, Conv64VAE
from lib.notebook import Run, RunSettings, train_or_load
from lib.trainer import Trainer

# get_config and dsprites_batches are re-exported: their home is lib.measuring.runs
__all__ = [
    "HAND_MADE",
    "FactorObservations",
    "SCORING_CHUNK",
    "SmallChunkDSprites",
    "beta_vae_name",
    "dsprites_batches",
    "fit_beta_vae",
    "fit_dsprites_ae",
    "get_config",
    "hand_made_codes",
]

HAND_MADE = ("true factors", "rotated", "duplicated", "merged", "noise")


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
def fit_dsprites_ae(
    settings: RunSettings, chapter: MeasuringChapterConfig, data: DSprites
) -> Run:
    """The chapter's plain autoencoder, trained with BCE on fresh dSprites or loaded
    (``measuring/dsprites_ae``), with ``chapter``'s network, budget and optimiser (the
    notebook's :func:`get_config`; :meth:`MeasuringChapterConfig.run` built by
    :func:`~lib.measuring.runs.build_run`): a :class:`~lib.notebook.Run`."""
    steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    spec = chapter.run(seed=settings.seed, steps=steps)
    parts = build_run(spec, data, settings.device)

    def train_fn(net: Conv64Autoencoder) -> Trainer:
        trainer = parts.trainer()
        trainer.fit()
        return trainer

    meta = {"steps": steps, "batch_size": chapter.batch_size, "lr": chapter.lr}
    return train_or_load(
        settings, "measuring/dsprites_ae", parts.model, train_fn, meta=meta
    )


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
    with seed ``seed`` (weights, batches and noise) and ``chapter``'s budget
    (:meth:`MeasuringChapterConfig.vae_run` built by :func:`~lib.measuring.runs.build_run`),
    or loaded."""
    steps = settings.pick(full=chapter.vae_steps, quick=chapter.vae_quick_steps)
    parts = build_run(
        chapter.vae_run(beta, seed=seed, steps=steps), data, settings.device
    )

    def train_fn(net: Conv64VAE) -> Trainer:
        trainer = parts.trainer()
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
        settings, beta_vae_name(beta, seed), parts.model, train_fn, meta=meta
    )
