"""Chapter 05's runs: the chapter's settings, the pairs, the run spec of one model, and the one
builder that the notebook's recipe, ``experiments/pmp_grid.py``, the grid trial and
``experiments/reproduce.py pmp`` all train through (:mod:`lib.runs`).

    spec = get_config().run("adagvae", seed=1)          # a PMPRun
    parts = build_run(spec, DSprites())                  # model, objective, pairs
    trainer = parts.trainer(); trainer.fit()
    stream = spec.override(hybrids="stream", check_values=False)
    parts = build_run(stream, grid, seeds=(0, 1, 2))     # three seeds as one stacked model
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lib.config import check_field_types
from lib.data.dsprites import (
    FACTOR_SIZES,
    DSprites,
    check_dataset,
    sample_pair_factors,
    sample_pairs,
)
from lib.data.resident import ResidentGrid
from lib.device import to_device
from lib.errors import ParameterError, check_integer
from lib.metrics import MetricSizes
from lib.pmp.losses import (
    PairBatch,
    PMPLossWeights,
    PMPObjective,
    adagvae_loss,
    draw_hybrids,
)
from lib.pmp.measure import N_PROBE
from lib.pmp.model import (
    AdaGVAE,
    AdaGVAEConfig,
    PMPAutoencoder,
    PMPConfig,
    check_kind,
)
from lib.runs import (
    NoisyLoss,
    RunParts,
    RunSpec,
    run_noise,
    seeded_init,
    seeded_model,
)
from lib.scale import BATCHINGS, StackedModels, stacked_loss
from lib.trainer import TrainerConfig


def pmp_objective(kind: str, steps: int, max_epochs: int) -> PMPObjective:
    """The training objective of a PMP ``kind``: the paper's, or one ablation of it."""
    check_kind(kind)
    if kind == "adagvae":
        raise ValueError("Ada-GVAE has no PMP objective (its loss is adagvae_loss)")
    if kind == "pmp_nospar":
        return PMPObjective(steps, max_epochs, PMPLossWeights(sparsity=0.0))
    if kind == "pmp_scalefree":
        return PMPObjective(steps, max_epochs, sparsity="scale_free")
    return PMPObjective(steps, max_epochs)


@dataclass(frozen=True)
class PMPChapterConfig:
    """Everything chapter 05 fixes. The paper's values: supplementary Table 4 and the code.

    "The paper's budget" is the authors' code's default, ``max_epochs`` 30 epochs of 737,280
    pairs (an epoch's length in its ``dataset.py``; 22.1 M pairs, 691,200 steps of 32 pairs):
    the supplementary gives no budget. The CPU budget here is ``steps`` steps per model (the same for PMP and Ada-GVAE), with the
    schedule's 30 epochs scaled onto it (:class:`~lib.pmp.losses.PMPObjective`).
    """

    pmp: PMPConfig = field(default_factory=PMPConfig)
    baseline: AdaGVAEConfig = field(default_factory=AdaGVAEConfig)
    batch_size: int = 32  # pairs (64 images)
    lr: float = 5e-4
    weight_decay: float = 1e-6
    betas: tuple[float, float] = (0.9, 0.999)  # the code's Adam; Table 4 prints 0.99
    max_epochs: int = 30  # the schedule's epochs
    steps: int = 10_000  # CPU budget per model: 320,000 pairs, 1.4 % of the paper's
    quick_steps: int = 16
    seeds: tuple[int, ...] = (0, 1, 2)
    ablation_seeds: tuple[int, ...] = (0, 1)
    k_changed: int | None = (
        None  # "unknown k": 1..n_factors-1 per pair, as the notebook
    )
    support_every: int = 400  # steps between support-matrix snapshots (PMP)
    n_probe: int = (
        N_PROBE  # images the snapshots and the final sparsity are measured on
    )
    sizes: MetricSizes = field(default_factory=MetricSizes)
    quick_sizes: MetricSizes = field(
        default_factory=lambda: MetricSizes(300, 150, 60, 30, 16)
    )
    verdict_metrics: tuple[str, ...] = ("DCI D", "MIG")  # the paper's claim

    def __post_init__(self) -> None:
        check_field_types(self)

    def run(
        self, kind: str = "pmp", *, seed: int = 0, steps: int | None = None
    ) -> PMPRun:
        """The run spec of one of the chapter's models: ``kind`` (PMP, Ada-GVAE or an
        ablation) with the chapter's network, Adam at the paper's rate, betas and weight
        decay, ``steps`` (default the CPU budget) with the schedule's ``max_epochs`` scaled
        onto it, the chapter's pairs (``k_changed``) and ``seed``."""
        check_kind(kind)
        return PMPRun(
            kind=kind,
            model=self.baseline if kind == "adagvae" else self.pmp,
            trainer=TrainerConfig(
                steps=self.steps if steps is None else steps,
                lr=self.lr,
                weight_decay=self.weight_decay,
                betas=self.betas,
            ),
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            k_changed=self.k_changed,
            seed=seed,
        )

    @property
    def paper_steps(self) -> int:
        """The paper's budget in steps (the authors' code's defaults; the supplementary
        gives none): ``max_epochs`` epochs of the 737,280 dSprites pairs, ``batch_size``
        pairs a step (691,200)."""
        return self.max_epochs * int(np.prod(FACTOR_SIZES)) // self.batch_size


def get_config() -> PMPChapterConfig:
    """The chapter's settings (minGPT's ``get_config``)."""
    return PMPChapterConfig()


def new_model(
    kind: str, seed: int, chapter: PMPChapterConfig | None = None
) -> PMPAutoencoder | AdaGVAE:
    """A fresh PMP (or ablation) or Ada-GVAE of the chapter's networks whose initial weights
    depend on ``seed`` only (drawn by :func:`lib.runs.seeded_init`: torch's global random
    state is kept)."""
    check_kind(kind)
    chapter = chapter or get_config()
    with seeded_init(seed):
        return _network(kind, chapter.baseline if kind == "adagvae" else chapter.pmp)


def _network(kind: str, config: PMPConfig | AdaGVAEConfig) -> PMPAutoencoder | AdaGVAE:
    if kind == "adagvae":
        if not isinstance(config, AdaGVAEConfig):
            raise ParameterError(f"Ada-GVAE needs an AdaGVAEConfig, got {config.name}")
        return AdaGVAE(config)
    if not isinstance(config, PMPConfig):
        raise ParameterError(f"{kind} needs a PMPConfig, got {config.name}")
    return PMPAutoencoder(config)


# --------------------------------------------------------------------------------------------
# data: fresh weakly supervised pairs every step
# --------------------------------------------------------------------------------------------
def pair_batches(
    data: DSprites,
    batch_size: int,
    seed: int = 0,
    k: int | None = None,
    device: str | torch.device = "cpu",
) -> Callable[[int], PairBatch]:
    """``batch(step) -> PairBatch``: ``batch_size`` new pairs (numpy seed [seed, step]).

    Pairs as Locatello et al. 2020 and the PMP authors (:func:`lib.data.dsprites.sample_pairs`).
    """

    def batch(step: int) -> PairBatch:
        pairs = sample_pairs(data, batch_size, np.random.default_rng([seed, step]), k)
        x1 = torch.from_numpy(pairs.x1).to(device)
        x2 = torch.from_numpy(pairs.x2).to(device)
        return PairBatch(x1, x2)

    return batch


class PairStream:
    """The chapter's pairs for several seeds, gathered from a resident grid on the device.

    ``batch(step) -> PairBatch``. For seed s and step t the pairs are those of
    :func:`pair_batches` with seed s (numpy seed [s, t], the same factor sampling). ``source``
    is a :class:`~lib.data.resident.ResidentGrid` (the images gathered by index on its device:
    the same images) or a data set (rendered per step, as :func:`pair_batches`, then moved to
    ``device``: on a CPU rendering the whole grid first is not worth it). The L_cons hybrids are
    drawn here (:func:`~lib.pmp.losses.draw_hybrids`) from the seed's own torch generator, so a
    CUDA graph or a stack of seeds replays the draw (the plain recipe draws them in the loss
    from another generator, so the two differ in which hybrids they use). With
    ``stacked`` (default: more than one seed) every tensor has the seed dimension first, for
    :class:`~lib.scale.StackedModels`. Its state (the generators) is saved with the trainer.
    """

    def __init__(
        self,
        source: ResidentGrid | DSprites,
        batch_size: int,
        seeds: tuple[int, ...],
        k: int | None = None,
        n_projectors: int = 10,
        stacked: bool | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if not isinstance(seeds, tuple) or not seeds:
            raise ParameterError(f"seeds must be a non-empty tuple, got {seeds!r:.60}")
        for seed in seeds:
            check_integer("seed", seed, minimum=0)
        check_integer("batch_size", batch_size, minimum=1)
        check_integer("n_projectors", n_projectors, minimum=1)
        self.source, self.batch_size, self.seeds, self.k = source, batch_size, seeds, k
        self.resident = isinstance(source, ResidentGrid)
        self.sizes = source.sizes if self.resident else check_dataset(source)
        self.device = source.device if self.resident else torch.device(device)
        self.n_projectors = n_projectors
        self.stacked = len(seeds) > 1 if stacked is None else stacked
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]

    def __call__(self, step: int) -> PairBatch:
        n = self.batch_size
        factors, picks = [], []
        for seed, generator in zip(self.seeds, self.generators, strict=True):
            rng = np.random.default_rng([seed, step])
            z1, z2 = sample_pair_factors(self.sizes, n, rng, self.k)
            factors.append(np.concatenate([z1, z2]))  # (2B, n_factors)
            picks.append(draw_hybrids(n, self.n_projectors, 2 * n, generator))
        z = np.concatenate(factors)  # (S 2B, n_factors)
        seeds = len(self.seeds)
        pick = torch.stack(picks)  # (S, 2B)
        if self.resident:
            index = torch.from_numpy(self.source.index_of(z)).view(seeds, 2 * n)
            both = to_device(torch.cat([index, pick], 1), self.device)  # one copy
            index, pick = both[:, : 2 * n], both[:, 2 * n :]
            images = self.source.images(index)  # (S, 2B, C, H, W)
        else:
            images = torch.from_numpy(self.source.render(z)).to(self.device)
            images = images.view(seeds, 2 * n, *images.shape[1:])  # (S, 2B, C, H, W)
            pick = pick.to(self.device)
        x1, x2 = images[:, :n], images[:, n:]
        if not self.stacked:
            x1, x2, pick = x1[0], x2[0], pick[0]
        return PairBatch(x1, x2, pick)

    def state_dict(self) -> dict[str, Any]:
        return {"generators": [g.get_state() for g in self.generators]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for g, saved in zip(self.generators, state["generators"], strict=True):
            g.set_state(saved)


HYBRID_DRAWS = (
    "loss",
    "stream",
)  # where PMP's L_cons hybrids are drawn (PMPRun.hybrids)


@dataclass
class PMPRun(RunSpec):
    """One training run of chapter 05: a config tree saved beside its record.

    ``hybrids`` says where PMP's L_cons hybrids are drawn: ``"loss"`` in the loss, from a
    CPU generator that goes on where the seed's weights left off
    (:func:`lib.runs.seeded_model`: the draws of ``torch.manual_seed(seed)``, the weights,
    then torch's global generator, which every shipped CPU model was trained with, so kept
    as the chapter's recipe); ``"stream"`` by :class:`PairStream` from the seed's own
    generator, so that a CUDA graph or a stack of seeds replays the draw
    (``experiments/reproduce.py``). Ada-GVAE's sampling noise comes from the run's own
    generator (:func:`lib.runs.run_noise`), except for stacked seeds and a step replayed as
    a CUDA graph, which draw it from torch's global generators (a vmap'd stack draws it as
    one tensor), set by :func:`build_run` as a global seed would have left them. The two
    use the same pairs and differ in which hybrids they draw. ``check_values``: the loss
    checks that every pixel lies in [0, 1] at every step (off where a resident grid was
    checked once). Defaults: the chapter's PMP run (:meth:`PMPChapterConfig.run`).
    """

    kind: str = "pmp"
    model: PMPConfig | AdaGVAEConfig = field(default_factory=lambda: get_config().pmp)
    trainer: TrainerConfig = field(default_factory=lambda: get_config().run().trainer)
    batch_size: int = field(default_factory=lambda: get_config().batch_size)
    max_epochs: int = field(default_factory=lambda: get_config().max_epochs)
    k_changed: int | None = field(default_factory=lambda: get_config().k_changed)
    seed: int = 0
    hybrids: str = "loss"
    check_values: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()  # the trainer, batch_size and seed
        check_kind(self.kind)
        self.require_positive_ints("max_epochs")
        if self.k_changed is not None:
            check_integer("k_changed", self.k_changed, minimum=1)
        if self.hybrids not in HYBRID_DRAWS:
            raise ParameterError(
                f"hybrids must be one of {HYBRID_DRAWS}, got {self.hybrids!r}"
            )
        wanted = AdaGVAEConfig if self.kind == "adagvae" else PMPConfig
        if not isinstance(self.model, wanted):
            raise ParameterError(
                f"kind {self.kind!r} needs a {wanted.__name__}, got {self.model.name}"
            )


def _noisy(
    loss: Callable[..., Any], noise: torch.Generator | None
) -> Callable[..., Any]:
    """Ada-GVAE's loss drawing its noise from ``noise`` (None: torch's global generator)."""
    return loss if noise is None else NoisyLoss(loss, noise)


def build_run(
    spec: PMPRun,
    source: ResidentGrid | DSprites,
    device: str | torch.device = "cpu",
    *,
    seeds: tuple[int, ...] | None = None,
    stacked: bool | None = None,
    batching: str = "streams",
) -> RunParts:
    """The parts of run ``spec`` on the pairs of ``source``: the network, the objective
    (:func:`pmp_objective`: the paper's or an ablation, its epoch ramps scaled onto the
    budget; Ada-GVAE's :func:`~lib.pmp.losses.adagvae_loss`), the pairs and the spec's
    trainer config.

    With ``hybrids="loss"`` the pairs are :func:`pair_batches` of a data set (numpy seed
    [seed, step]); with ``"stream"`` they are :class:`PairStream`'s, from a data set rendered
    per step or a resident grid on the device, and ``seeds`` may name several seeds
    (default: the spec's): they train as one :class:`~lib.scale.StackedModels` (``stacked``,
    default: more than one seed; ``batching`` "streams" or "vmap"), their pairs gathered in
    one call. The parts' ``seed_models`` are the seeds' own models (fill them with
    ``trainer.model.unstack``).
    """
    if not isinstance(spec, PMPRun):
        raise ParameterError(f"spec must be a PMPRun, got {type(spec).__name__}")
    if batching not in BATCHINGS:
        raise ParameterError(f"batching must be one of {BATCHINGS}, got {batching!r}")
    if not isinstance(source, ResidentGrid):
        check_dataset(source)  # a data set of factors: dSprites, or another grid
    if seeds is not None and len(tuple(seeds)) > 1 and stacked is False:
        raise ParameterError(
            "several seeds train as one stacked model: stacked=False takes one seed"
        )
    if isinstance(source, ResidentGrid):
        device = source.device
    steps = spec.trainer.steps
    graph_key = None
    if spec.kind == "adagvae":
        loss: Callable[..., Any] = adagvae_loss
        if not spec.check_values:
            loss = functools.partial(adagvae_loss, check_values=False)
    else:
        objective = pmp_objective(spec.kind, steps, spec.max_epochs)
        objective.check_values = spec.check_values
        loss = objective

        def graph_key(step: int) -> int:  # the ramps change once per epoch
            return objective.epoch_of(step)

    def network() -> torch.nn.Module:
        return _network(spec.kind, spec.model)

    graphed = spec.trainer.cuda_graph and torch.device(device).type == "cuda"
    if spec.hybrids == "loss":
        if seeds is not None and tuple(seeds) != (spec.seed,):
            raise ParameterError(
                "hybrids drawn in the loss train one seed; several seeds need "
                "hybrids='stream'"
            )
        if isinstance(source, ResidentGrid):
            raise ParameterError("hybrids drawn in the loss take pairs of a data set")
        # the chapter's recipe: the hybrids (on the CPU) and Ada-GVAE's noise drawn from
        # the run's own generators, going on where the weights' draw left off
        model, after_init = seeded_model(spec.seed, network)
        if isinstance(loss, PMPObjective):
            loss.generator = after_init
        else:
            loss = _noisy(loss, run_noise(spec.seed, device, after_init, graphed))
        batches = pair_batches(
            source, spec.batch_size, spec.seed, spec.k_changed, device
        )
        return RunParts(
            model.to(device), loss, batches, spec.trainer, graph_key=graph_key
        )
    seeds = (spec.seed,) if seeds is None else tuple(seeds)
    stacked = len(seeds) > 1 if stacked is None else stacked
    models = []
    for seed in seeds:
        model, after_init = seeded_model(seed, network)
        models.append(model.to(device))
    if spec.kind == "adagvae":  # stacked seeds share the global generators (run_noise)
        noise = run_noise(seeds[-1], device, after_init, stacked or graphed)
        loss = _noisy(loss, noise)
    n_projectors = getattr(spec.model, "n_projectors", get_config().pmp.n_projectors)
    batches = PairStream(
        source, spec.batch_size, seeds, spec.k_changed, n_projectors, stacked, device
    )
    model: torch.nn.Module = StackedModels(models, batching) if stacked else models[0]
    if stacked:
        loss = stacked_loss(loss)
    return RunParts(
        model, loss, batches, spec.trainer, graph_key=graph_key, seed_models=models
    )
