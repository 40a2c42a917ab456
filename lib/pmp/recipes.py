"""Chapter "Product manifold projection": settings, pair streams, training recipes, the record.

:func:`get_config` states the networks, the loss weights, the budgets and the metric sizes; the
notebook, ``bench/pmp_step.py`` and ``experiments/pmp_grid.py`` read it. :func:`fit_pmp_model` trains
PMP or Ada-GVAE on fresh dSprites pairs or loads the shipped checkpoint ``pmp/<kind>_seed<s>``
(the notebook contract); besides PMP and Ada-GVAE it trains the loss ablation's two PMP
variants (:data:`ABLATION_KINDS`, :func:`pmp_objective`). :func:`evaluate_pmp_model` scores a model
with every metric of :mod:`lib.metrics`, :func:`probe_report` (the code probe, the
reconstruction, and for PMP the supports) and the adequacy check (:func:`judge_report`); the
grid script writes one JSON line per model to ``lib/pretrained/pmp/grid.jsonl``, which
:func:`load_grid` reads back. :data:`PMP_VERDICT_RULE` and :func:`seeds_verdict` turn the
record into the chapter's verdict; :func:`ablation_tests` reads the ablation.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
from lib.notebook import Run, RunSettings, train_or_load
from lib.pmp.losses import (
    PairBatch,
    PMPLossWeights,
    PMPObjective,
    adagvae_loss,
    draw_hybrids,
    sparsity_loss,
)
from lib.pmp.measure import N_PROBE, probe_images, support_matrix
from lib.pmp.model import (
    AdaGVAE,
    AdaGVAEConfig,
    PMPAutoencoder,
    PMPConfig,
    check_kind,
)
from lib.scale import BATCHINGS, StackedModels, stacked_loss
from lib.trainer import Trainer, TrainerConfig

if TYPE_CHECKING:  # a type only: the paper package needs no sweep to import
    from lib.sweep import TrialContext


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

    @property
    def paper_steps(self) -> int:
        """The paper's budget in steps (the authors' code's defaults; the supplementary
        gives none): ``max_epochs`` epochs of the 737,280 dSprites pairs, ``batch_size``
        pairs a step (691,200)."""
        return self.max_epochs * int(np.prod(FACTOR_SIZES)) // self.batch_size


def get_config() -> PMPChapterConfig:
    """The chapter's settings (minGPT's ``get_config``)."""
    return PMPChapterConfig()


def checkpoint_name(kind: str, seed: int) -> str:
    check_kind(kind)
    return f"pmp/{kind}_seed{seed}"


def new_model(
    kind: str, seed: int, chapter: PMPChapterConfig | None = None
) -> PMPAutoencoder | AdaGVAE:
    """A fresh PMP (or ablation) or Ada-GVAE whose initial weights depend on ``seed`` only."""
    check_kind(kind)
    chapter = chapter or get_config()
    torch.manual_seed(seed)
    if kind == "adagvae":
        return AdaGVAE(chapter.baseline)
    return PMPAutoencoder(chapter.pmp)


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
    from torch's global generator, so the two differ in which hybrids they use). With
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


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
def pmp_trainer(
    model: PMPAutoencoder | AdaGVAE,
    batch_fn: Callable[[int], PairBatch],
    steps: int,
    chapter: PMPChapterConfig | None = None,
    progress: bool | None = None,
    kind: str = "pmp",
) -> Trainer:
    """Adam at the paper's rate, with PMP's objective (``kind``: the paper's or an ablation)
    or Ada-GVAE's loss."""
    chapter = chapter or get_config()
    if isinstance(model, PMPAutoencoder):
        loss = pmp_objective(kind, steps, chapter.max_epochs)
    elif isinstance(model, AdaGVAE):
        loss = adagvae_loss
    else:
        raise TypeError(
            f"expected a PMPAutoencoder or an AdaGVAE, got {type(model).__name__}"
        )
    config = TrainerConfig(
        steps=steps,
        lr=chapter.lr,
        weight_decay=chapter.weight_decay,
        betas=chapter.betas,
        progress=progress,
    )
    return Trainer(model, loss, batch_fn, config)


def scaled_trainer(
    kind: str,
    seeds: tuple[int, ...],
    steps: int,
    source: ResidentGrid | DSprites,
    chapter: PMPChapterConfig | None = None,
    cuda_graph: bool = True,
    log_every: int = 200,
    stacked: bool | None = None,
    progress: bool | None = None,
    device: str | torch.device = "cpu",
    batching: str = "streams",
) -> tuple[Trainer, list[PMPAutoencoder | AdaGVAE]]:
    """The chapter's recipe at paper scale (``experiments/reproduce.py``): ``kind`` for every
    seed of ``seeds`` as one :class:`~lib.scale.StackedModels` (``stacked``; default: more than
    one seed; ``batching`` "vmap" or "streams"), pairs from :class:`PairStream` (``source``: a resident grid, or a data set
    rendered per step on ``device``), the step recorded as a CUDA graph on a
    GPU, the losses read back every ``log_every`` steps. Same networks, objective, Adam and
    budget semantics as :func:`pmp_trainer` (the pixels are checked once, in the grid).
    Returns the trainer and the seeds' models (fill them with ``trainer.model.unstack``).
    """
    chapter = chapter or get_config()
    check_kind(kind)
    if batching not in BATCHINGS:
        raise ParameterError(f"batching must be one of {BATCHINGS}, got {batching!r}")
    if isinstance(source, ResidentGrid):
        device = source.device
    models = [new_model(kind, seed, chapter).to(device) for seed in seeds]
    stacked = len(seeds) > 1 if stacked is None else stacked
    graph_key = None
    if kind == "adagvae":
        loss: Callable[..., Any] = functools.partial(adagvae_loss, check_values=False)
    else:
        objective = pmp_objective(kind, steps, chapter.max_epochs)
        objective.check_values = False
        loss = objective

        def graph_key(step: int) -> int:  # the ramps change once per epoch
            return objective.epoch_of(step)

    batches = PairStream(
        source,
        chapter.batch_size,
        tuple(seeds),
        chapter.k_changed,
        chapter.pmp.n_projectors,
        stacked,
        device,
    )
    config = TrainerConfig(
        steps=steps,
        lr=chapter.lr,
        weight_decay=chapter.weight_decay,
        betas=chapter.betas,
        progress=progress,
        log_every=log_every,
        cuda_graph=cuda_graph,
    )
    model: torch.nn.Module = StackedModels(models, batching) if stacked else models[0]
    if stacked:
        loss = stacked_loss(loss)
    return Trainer(model, loss, batches, config, graph_key=graph_key), models


def chapter_trainer(
    model: PMPAutoencoder | AdaGVAE,
    data: DSprites,
    kind: str,
    seed: int,
    steps: int,
    chapter: PMPChapterConfig | None = None,
    k_changed: int | None = None,
    device: str | torch.device = "cpu",
) -> Trainer:
    """The chapter's trainer for one model: :func:`pmp_trainer` on :func:`pair_batches`
    (numpy seed [seed, step]; PMP's L_cons hybrids from torch's global generator, which
    :func:`new_model` seeded). :func:`fit_pmp_model` and :func:`grid_trial` train with it."""
    chapter = chapter or get_config()
    batches = pair_batches(data, chapter.batch_size, seed, k_changed, device)
    return pmp_trainer(model, batches, steps, chapter, kind=kind)


def grid_record(
    model: PMPAutoencoder | AdaGVAE,
    data: DSprites,
    *,
    kind: str,
    seed: int,
    steps: int,
    k_changed: int | None,
    train_seconds: float,
    recon: list[float],
    sizes: MetricSizes,
    device: str | torch.device = "cpu",
    saved: bool = True,
    chapter: PMPChapterConfig | None = None,
) -> dict[str, Any]:
    """One line of the chapter's seeds x models record (``lib/pretrained/pmp/grid.jsonl``,
    read by :func:`~lib.pmp.record.load_grid`): the run, every metric and
    :func:`~lib.pmp.measure.probe_report` of the trained ``model``, scored at ``sizes``
    (:func:`~lib.pmp.measure.evaluate_pmp_model`). ``recon``: the run's reconstruction-loss
    history (its last 100 steps' mean is ``final_rec``)."""
    from lib.metrics import METRIC_NAMES
    from lib.pmp.measure import evaluate_pmp_model

    chapter = chapter or get_config()
    device = torch.device(device)
    pairs = steps * chapter.batch_size
    scored = time.perf_counter()
    result = evaluate_pmp_model(model, data, sizes, seed, device)
    metrics = {k: result.pop(k) for k in list(result) if k in METRIC_NAMES}
    recent = recon[-100:]
    return {
        "kind": kind,
        "seed": seed,
        "steps": steps,
        "k_changed": k_changed,
        "pairs": pairs,
        "train_seconds": round(train_seconds, 1),
        "pairs_per_second": round(pairs / max(train_seconds, 1e-9), 1),
        "score_seconds": round(time.perf_counter() - scored, 1),
        "threads": torch.get_num_threads(),
        "device": str(device),
        **(
            {"gpu": torch.cuda.get_device_name(device)} if device.type == "cuda" else {}
        ),
        "saved": saved,
        "metric_sizes": vars(sizes),
        "final_rec": sum(recent) / len(recent),
        "metrics": metrics,
        **result,
    }


def grid_trial(params: dict[str, Any], ctx: TrialContext) -> list[dict[str, Any]]:
    """One model of the chapter's grid as a sweep trial (``experiments/sweep.py pmp``).

    ``params``: ``kind`` and ``seed``; optional ``steps`` (default the chapter's),
    ``k_changed`` (default the chapter's) and ``quick_sizes`` (the quick metric sizes). The
    model, its initial weights, the pairs and the trainer are :func:`fit_pmp_model`'s
    (:func:`chapter_trainer`), so on the same machine and thread count the trial trains the
    same weights as ``experiments/pmp_grid.py``; it trains in sittings that resume
    (:meth:`lib.sweep.TrialContext.fit`), then writes the weights as the ordinary checkpoint
    ``<trial folder>/pmp/<kind>_seed<seed>`` and returns one line of :func:`grid_record`
    (``train_seconds``: the training alone, summed over sittings; ``saved`` false: the
    shipped checkpoint is not this run's).
    """
    from lib.checkpoint import save_checkpoint

    chapter = get_config()
    unknown = set(params) - {"kind", "seed", "steps", "k_changed", "quick_sizes"}
    if unknown:
        raise ParameterError(f"grid_trial: unknown parameters {sorted(unknown)}")
    if "kind" not in params or "seed" not in params:
        raise ParameterError(
            f"grid_trial needs 'kind' and 'seed', got {sorted(params)}"
        )
    kind, seed = params["kind"], params["seed"]
    check_kind(kind)
    check_integer("seed", seed, minimum=0)
    steps = params.get("steps", chapter.steps)
    check_integer("steps", steps, minimum=1)
    k_changed = params.get("k_changed", chapter.k_changed)
    if k_changed is not None:
        check_integer("k_changed", k_changed, minimum=1)
    sizes = chapter.quick_sizes if params.get("quick_sizes") else chapter.sizes
    data = DSprites()
    model = new_model(kind, seed, chapter).to(ctx.device)
    trainer = chapter_trainer(
        model, data, kind, seed, steps, chapter, k_changed, ctx.device
    )
    identity = {"kind": kind, "seed": seed, "steps": steps, "k_changed": k_changed}
    ctx.fit(trainer, identity)
    model.eval()
    save_checkpoint(
        ctx.folder / checkpoint_name(kind, seed),
        model,
        model.config.to_dict(),
        history={"loss": trainer.history["loss"]},
        meta={
            **identity,
            "made_by": "experiments/sweep.py",
            "seconds": trainer.seconds,
        },
    )
    line = grid_record(
        model,
        data,
        kind=kind,
        seed=seed,
        steps=trainer.step,
        k_changed=k_changed,
        train_seconds=trainer.seconds,
        recon=trainer.history["recon"],
        sizes=sizes,
        device=ctx.device,
        saved=False,  # the weights stay in the trial's folder, not lib/pretrained/pmp/
        chapter=chapter,
    )
    ctx.report(line)
    return [line]


class SupportRecorder:
    """Trainer callback: the support matrix on fixed ``probe`` images every ``every`` steps."""

    def __init__(self, probe: torch.Tensor, every: int) -> None:
        self.probe, self.every = probe, every
        self.steps: list[int] = []
        self.matrices: list[list[list[float]]] = []
        self.sparsity: list[float] = []  # L_spar (Eq. 1) on the probe

    @torch.no_grad()
    def record(self, model: PMPAutoencoder, step: int) -> None:
        was_training = model.training
        model.eval()
        s = model.subspaces(self.probe)
        self.steps.append(step)
        self.matrices.append(support_matrix(s).tolist())
        self.sparsity.append(float(sparsity_loss(s)))
        model.train(was_training)

    def __call__(self, trainer: Trainer) -> None:
        if trainer.step % self.every == 0 or trainer.step == trainer.config.steps:
            self.record(trainer.model, trainer.step)


def fit_pmp_model(
    settings: RunSettings,
    chapter: PMPChapterConfig,
    data: DSprites,
    kind: str,
    seed: int,
    steps: int | None = None,
    k_changed: int | None | str = "chapter",
) -> Run:
    """Train (or load ``pmp/<kind>_seed<seed>``) one model: a :class:`~lib.notebook.Run`.

    For PMP the run's meta holds the support-matrix snapshots (``support_steps``,
    ``support_matrices``, ``support_sparsity``) taken during training on :func:`probe_images`.
    ``steps`` overrides the chapter's budget (``experiments/pmp_grid.py --steps`` on a GPU);
    ``k_changed`` the number of factors a pair differs in (None: "unknown k", 1..4; default:
    the chapter's, ``chapter.k_changed``).
    """
    if k_changed == "chapter":
        k_changed = chapter.k_changed
    if steps is None:
        steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    model = new_model(kind, seed, chapter).to(settings.device)
    is_pmp = isinstance(model, PMPAutoencoder)
    meta: dict[str, Any] = {
        "steps": steps,
        "batch_size_pairs": chapter.batch_size,
        "lr": chapter.lr,
        "threads": torch.get_num_threads(),
        "data": "procedural dSprites (lib.data.dsprites)",
        "kind": kind,
        "k_changed": k_changed,
    }

    def train_fn(net):
        trainer = chapter_trainer(
            net, data, kind, seed, steps, chapter, k_changed, settings.device
        )
        if is_pmp:
            probe, _ = probe_images(data, chapter.n_probe, settings.device)
            recorder = SupportRecorder(
                probe, max(1, min(chapter.support_every, steps // 4))
            )
            recorder.record(net, 0)
            trainer.add_callback("on_step_end", recorder)
        trainer.fit()
        if is_pmp:
            meta["support_steps"] = recorder.steps
            meta["support_matrices"] = recorder.matrices
            meta["support_sparsity"] = recorder.sparsity
        return trainer

    return train_or_load(
        settings, checkpoint_name(kind, seed), model, train_fn, meta=meta
    )
