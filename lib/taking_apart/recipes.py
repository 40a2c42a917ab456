"""Chapter "Taking apart autoencoders": its data and training recipes.

The chapter's settings (:func:`get_config`: the data sizes, budgets and optimiser settings;
the paper gives Table 1's batch 300 and learning rate 1e-3, but no budget; the choices and why
are in the chapter's text) and the run spec of one model live in :mod:`lib.taking_apart.runs`. :func:`fit_disk_ae` trains a model with the paper's loss, or loads the
shipped checkpoint, as the notebook contract says; :func:`fit_hole_models` trains (or loads)
every model of the hole experiment.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lib.checkpoint import model_for
from lib.data.disks import make_disks
from lib.errors import check_integer
from lib.notebook import Run, RunSettings, train_or_load
from lib.runs import seeded_init
from lib.taking_apart.model import DCGANAEConfig, DiskAEConfig
from lib.taking_apart.runs import TakingApartChapterConfig, build_run, get_config
from lib.trainer import Trainer

# get_config is re-exported: the chapter config's home is lib.taking_apart.runs
__all__ = [
    "fit_disk_ae",
    "fit_hole_models",
    "get_config",
    "initial_penalty_share",
    "training_disks",
]


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
    init_seed: int | None = None,
) -> Run:
    """A new model of ``config`` (a :class:`DiskAutoencoder` or :class:`DCGANAutoencoder`)
    trained with the paper's loss, or the shipped checkpoint ``taking_apart/<name>``: a
    :class:`~lib.notebook.Run`. The run is the chapter's (:meth:`TakingApartChapterConfig.run`,
    built by :func:`~lib.taking_apart.runs.build_run`).

    Unset options come from ``chapter`` (the notebook's :func:`get_config`); ``seed`` (the
    data order) defaults to the notebook's seed; ``init_seed`` draws the initial weights
    (default: torch's global generator as it stands). In quick mode the budget is
    ``quick_steps``.
    """
    batch_size = chapter.batch_size if batch_size is None else batch_size
    lr = chapter.lr if lr is None else lr
    quick_steps = chapter.quick_steps if quick_steps is None else quick_steps
    seed = settings.seed if seed is None else seed
    budget = settings.pick(full=steps, quick=quick_steps)
    spec = chapter.run(config, steps=budget, reg=reg, seed=seed, init_seed=init_seed)
    spec = spec.override({"batch_size": batch_size, "trainer.lr": lr})
    parts = build_run(spec, data, settings.device)

    def train_fn(net: nn.Module) -> Trainer:
        trainer = parts.trainer()
        trainer.fit()
        return trainer

    meta = {"reg": reg, "batch_size": batch_size, "lr": lr, "data_seed": seed}
    return train_or_load(
        settings, f"taking_apart/{name}", parts.model, train_fn, meta=meta
    )


def fit_hole_models(
    settings: RunSettings,
    chapter: TakingApartChapterConfig,
    n_train: int,
) -> dict[tuple[str, int], Run]:
    """The hole experiment's models (Section 3.2.3-3.2.4): for each seed of
    ``chapter.hole_seeds`` and each regulariser of ``chapter.hole_regs``, a disk autoencoder
    with biases trained ``chapter.hole_steps`` on ``n_train`` disks whose radii avoid
    ``chapter.hole``, or the shipped checkpoint ``taking_apart/hole_<reg>_seed<seed>``.

    A seed fixes the training set, the initialisation (``init_seed``: drawn by
    :func:`lib.runs.seeded_init`, so the notebook's own random stream is left alone) and the
    batch order, the same for every regulariser of that seed: a paired comparison. Keyed
    ``(reg, seed)``.
    """
    if not (
        isinstance(n_train, int) and not isinstance(n_train, bool) and n_train >= 1
    ):
        raise ValueError(f"n_train must be an integer >= 1, got {n_train!r}")
    runs: dict[tuple[str, int], Run] = {}
    for seed in chapter.hole_seeds:
        data = training_disks(n_train, seed, hole=chapter.hole, device=settings.device)
        for reg in chapter.hole_regs:
            runs[reg, seed] = fit_disk_ae(
                settings,
                chapter,
                f"hole_{reg}_seed{seed}",
                DiskAEConfig(bias=True),
                data,
                steps=chapter.hole_steps,
                reg=reg,
                seed=seed,
                init_seed=seed,
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
    with seeded_init(seed):
        model = model_for(DiskAEConfig(bias=True))
    recon, z = model(images)  # (B, 1, 64, 64), (B, 1)
    data = reconstruction_loss(recon, images)  # the data term, as training computes it
    generator = torch.Generator().manual_seed(seed)  # Type 1's neighbours
    psi = regulariser(model, reg, images, z, generator=generator)
    return float(DEFAULT_REG_WEIGHTS[reg] * psi / data)
