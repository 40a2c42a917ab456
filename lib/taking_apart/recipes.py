"""Chapter "Taking apart autoencoders": its settings in one place, and its training recipe.

:func:`get_config` states the data sizes, budgets and optimiser settings the chapter uses (the
paper gives Table 1's batch 300 and learning rate 1e-3, but no budget; the choices and why are
in the chapter's text). :func:`fit_disk_ae` trains a model with the paper's loss, or loads the
shipped checkpoint, as the notebook contract says; :func:`fit_hole_models` trains (or loads)
every model of the hole experiment.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from lib.checkpoint import model_for
from lib.config import check_field_types
from lib.data.disks import make_disks
from lib.errors import check_integer
from lib.notebook import Run, RunSettings, train_or_load
from lib.taking_apart.losses import disk_ae_loss
from lib.taking_apart.model import DCGANAEConfig, DiskAEConfig
from lib.trainer import TensorSampler, Trainer, TrainerConfig


@dataclass(frozen=True)
class TakingApartChapterConfig:
    """Everything chapter 01 fixes: data sizes, budgets (optimiser steps) and optimisers."""

    n_train: int = 3000  # disks per training set (quick mode: quick_n_train)
    quick_n_train: int = 300
    batch_size: int = (
        64  # Table 1 says 300; 64 trains faster per CPU second (the chapter says so)
    )
    lr: float = 3e-3  # Adam; Table 1 says 1e-3
    steps: int = 2000  # radii on all of [0, 32]
    steps_restricted: int = 1500  # the max-radius experiment
    # the hole experiment: every model trained until its loss settles (the chapter's rule)
    hole_steps: int = 6000
    hole_seeds: tuple[int, ...] = (0, 1, 2)
    hole_regs: tuple[str, ...] = ("none", "type1", "type2", "type3")
    quick_steps: int = 20
    max_radius: float = 18.0  # Appendix B
    hole: tuple[float, float] = (11.0, 18.0)  # Section 3.2.3
    dcgan_code_sizes: tuple[int, ...] = (
        1,
        100,
    )  # the paper's fair comparison, and iGAN's
    dcgan_base_channels: int = 16
    dcgan_steps: int = 300
    dcgan_quick_steps: int = 8
    dcgan_lr: float = 1e-3

    def __post_init__(self) -> None:
        check_field_types(self)


def get_config() -> TakingApartChapterConfig:
    """The chapter's settings (minGPT's ``get_config``): one definition for notebook and scripts."""
    return TakingApartChapterConfig()


def training_disks(
    n: int,
    seed: int,
    radius_range: tuple[float, float] = (0.0, 32.0),
    hole: tuple[float, float] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` area-anti-aliased 64x64 disks, radii uniform on ``radius_range`` minus ``hole``.

    Returns ``(images (n, 1, 64, 64), radii (n,))`` on ``device``, drawn with a generator seeded
    by ``seed`` (each experiment of the chapter has its own data set).
    """
    generator = torch.Generator().manual_seed(seed)
    return make_disks(
        n,
        radius_range=radius_range,
        hole=hole,
        antialias="area",
        generator=generator,
        device=device,
    )


def disk_trainer(
    model: nn.Module,
    data: Sequence[torch.Tensor],
    *,
    steps: int,
    reg: str = "none",
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool | None = None,
) -> Trainer:
    """A Trainer for ``model`` on ``data`` = (images, radii) with :func:`disk_ae_loss` and Adam.

    ``reg`` picks the regulariser of Section 3.2.4; its neighbour pairing (Type 1) draws from a
    generator seeded by ``seed``, as does the minibatch shuffling.
    """
    device = data[0].device
    loss_generator = torch.Generator(device=device).manual_seed(seed)
    loss_fn = functools.partial(disk_ae_loss, reg=reg, generator=loss_generator)
    sampler = TensorSampler(*data, batch_size=min(batch_size, len(data[0])), seed=seed)
    return Trainer(
        model, loss_fn, sampler, TrainerConfig(steps=steps, lr=lr, progress=progress)
    )


def fit_disk_ae(
    settings: RunSettings,
    chapter: TakingApartChapterConfig,
    name: str,
    config: DiskAEConfig | DCGANAEConfig,
    data: Sequence[torch.Tensor],
    *,
    steps: int,
    reg: str = "none",
    batch_size: int | None = None,
    lr: float | None = None,
    quick_steps: int | None = None,
    seed: int | None = None,
) -> Run:
    """A new model of ``config`` (a :class:`DiskAutoencoder` or :class:`DCGANAutoencoder`,
    initialised from the global torch generator) trained with :func:`disk_trainer`, or the
    shipped checkpoint ``taking_apart/<name>``: a :class:`~lib.notebook.Run`.

    Unset options come from ``chapter`` (the notebook's :func:`get_config`); ``seed`` (the
    data order) defaults to the notebook's seed. In quick mode the budget is ``quick_steps``.
    """
    model = model_for(config).to(settings.device)
    batch_size = chapter.batch_size if batch_size is None else batch_size
    lr = chapter.lr if lr is None else lr
    quick_steps = chapter.quick_steps if quick_steps is None else quick_steps
    seed = settings.seed if seed is None else seed

    def train_fn(net: nn.Module) -> Trainer:
        budget = settings.pick(full=steps, quick=quick_steps)
        trainer = disk_trainer(
            net, data, steps=budget, reg=reg, batch_size=batch_size, lr=lr, seed=seed
        )
        trainer.fit()
        return trainer

    meta = {"reg": reg, "batch_size": batch_size, "lr": lr, "data_seed": seed}
    return train_or_load(settings, f"taking_apart/{name}", model, train_fn, meta=meta)


def fit_hole_models(
    settings: RunSettings,
    chapter: TakingApartChapterConfig,
    n_train: int,
) -> dict[tuple[str, int], Run]:
    """The hole experiment's models (Section 3.2.3-3.2.4): for each seed of
    ``chapter.hole_seeds`` and each regulariser of ``chapter.hole_regs``, a disk autoencoder
    with biases trained ``chapter.hole_steps`` on ``n_train`` disks whose radii avoid
    ``chapter.hole``, or the shipped checkpoint ``taking_apart/hole_<reg>_seed<seed>``.

    A seed fixes the training set, the initialisation (``torch.manual_seed(seed)`` in a
    forked generator, so the notebook's own random stream is left alone) and the batch order,
    the same for every regulariser of that seed: a paired comparison. Keyed ``(reg, seed)``.
    """
    if not (
        isinstance(n_train, int) and not isinstance(n_train, bool) and n_train >= 1
    ):
        raise ValueError(f"n_train must be an integer >= 1, got {n_train!r}")
    runs: dict[tuple[str, int], Run] = {}
    for seed in chapter.hole_seeds:
        data = training_disks(n_train, seed, hole=chapter.hole, device=settings.device)
        for reg in chapter.hole_regs:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                runs[reg, seed] = fit_disk_ae(
                    settings,
                    chapter,
                    f"hole_{reg}_seed{seed}",
                    DiskAEConfig(bias=True),
                    data,
                    steps=chapter.hole_steps,
                    reg=reg,
                    seed=seed,
                )
    return runs


@torch.no_grad()
def initial_penalty_share(
    chapter: TakingApartChapterConfig, reg: str, seed: int = 0
) -> float:
    """lambda psi / data term of :func:`~lib.taking_apart.losses.disk_ae_loss` at
    initialisation: a hole model of ``seed`` as :func:`fit_hole_models` initialises it, on one
    batch (``chapter.batch_size`` disks) of that seed's hole training set. What the default
    weights :data:`~lib.taking_apart.losses.DEFAULT_REG_WEIGHTS` were chosen by."""
    from lib.taking_apart.losses import (
        DEFAULT_REG_WEIGHTS,
        REG_CHOICES,
        reconstruction_loss,
        regulariser,
    )

    if reg not in REG_CHOICES or reg == "none":
        raise ValueError(f"reg must be one of {REG_CHOICES[1:]}, got {reg!r}")
    check_integer("seed", seed, minimum=0)
    images, _ = training_disks(chapter.batch_size, seed, hole=chapter.hole)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_for(DiskAEConfig(bias=True))
    recon, z = model(images)  # (B, 1, 64, 64), (B, 1)
    data = reconstruction_loss(recon, images)  # the data term, as training computes it
    generator = torch.Generator().manual_seed(seed)  # Type 1's neighbours
    psi = regulariser(model, reg, images, z, generator=generator)
    return float(DEFAULT_REG_WEIGHTS[reg] * psi / data)
