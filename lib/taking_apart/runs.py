"""Chapter 01's runs: the chapter's settings, the run spec of one disk autoencoder, and the one
builder its recipes train through (:mod:`lib.runs`).

    spec = get_config().run(DiskAEConfig(bias=True), steps=2000, reg="type1", init_seed=0)
    parts = build_run(spec, (images, radii))             # model, loss, batches
    trainer = parts.trainer(); trainer.fit()
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from lib.checkpoint import model_for
from lib.config import check_field_types
from lib.errors import ParameterError, check_integer
from lib.runs import RunParts, RunSpec, seeded_init
from lib.taking_apart.losses import REG_CHOICES, disk_ae_loss
from lib.taking_apart.model import DCGANAEConfig, DiskAEConfig
from lib.trainer import TensorSampler, TrainerConfig


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

    def run(
        self,
        config: DiskAEConfig | DCGANAEConfig,
        *,
        steps: int,
        reg: str = "none",
        seed: int = 0,
        init_seed: int | None = None,
    ) -> DiskRun:
        """The run spec of one of the chapter's disk autoencoders: the network ``config``
        with the regulariser ``reg``, Adam at the chapter's rate, its batch size, ``steps``,
        ``seed`` (the batch order and Type 1's neighbours) and ``init_seed`` (the initial
        weights; None: torch's global generator as it stands)."""
        return DiskRun(
            model=config,
            reg=reg,
            trainer=TrainerConfig(steps=steps, lr=self.lr),
            batch_size=self.batch_size,
            seed=seed,
            init_seed=init_seed,
        )


def get_config() -> TakingApartChapterConfig:
    """The chapter's settings (minGPT's ``get_config``): one definition for notebook and scripts."""
    return TakingApartChapterConfig()


@dataclass
class DiskRun(RunSpec):
    """One training run of a disk autoencoder (Sections 3.1-3.2): a config tree.

    ``init_seed`` says where the initial weights come from: a seed (drawn by
    :func:`lib.runs.seeded_init`, the notebook's random stream left alone: the hole
    experiment's models) or None, torch's global generator as it stands, which the notebook's
    ``setup`` seeded (how the shipped models of Sections 2-3 were initialised, kept so that
    they reproduce). ``seed`` orders the minibatches and draws Type 1's neighbour pairs.
    """

    model: DiskAEConfig | DCGANAEConfig = field(default_factory=DiskAEConfig)
    reg: str = "none"
    trainer: TrainerConfig = field(
        default_factory=lambda: (
            get_config().run(DiskAEConfig(), steps=get_config().steps).trainer
        )
    )
    batch_size: int = field(default_factory=lambda: get_config().batch_size)
    seed: int = 0
    init_seed: int | None = None

    def __post_init__(self) -> None:
        if self.reg not in REG_CHOICES:
            raise ParameterError(f"reg must be one of {REG_CHOICES}, got {self.reg!r}")
        super().__post_init__()  # the trainer, batch_size and seed
        if self.init_seed is not None:
            check_integer("init_seed", self.init_seed, minimum=0)


def build_run(
    spec: DiskRun,
    data: Sequence[torch.Tensor],
    device: str | torch.device | None = None,
) -> RunParts:
    """The parts of run ``spec`` on ``data`` = (images, radii) (on the device): a fresh
    model of the spec's network (:func:`lib.checkpoint.model_for`, initialised as
    ``init_seed`` says), :func:`~lib.taking_apart.losses.disk_ae_loss` with the spec's
    regulariser (its neighbour pairing drawing from a generator seeded by ``seed``),
    minibatches shuffled with ``seed`` (at most the data's size), and the trainer config."""
    if not isinstance(spec, DiskRun):
        raise ParameterError(f"spec must be a DiskRun, got {type(spec).__name__}")
    if not (
        isinstance(data, (tuple, list))
        and len(data) == 2
        and all(torch.is_tensor(t) for t in data)
    ):
        raise ParameterError("data must be (images, radii), two tensors")
    device = device or data[0].device
    if spec.init_seed is None:
        model = model_for(spec.model)
    else:
        with seeded_init(spec.init_seed):
            model = model_for(spec.model)
    model = model.to(device)
    loss_generator = torch.Generator(device=data[0].device).manual_seed(spec.seed)
    loss_fn = functools.partial(disk_ae_loss, reg=spec.reg, generator=loss_generator)
    batch = min(spec.batch_size, len(data[0]))
    sampler = TensorSampler(*data, batch_size=batch, seed=spec.seed)
    return RunParts(model, loss_fn, sampler, spec.trainer)
