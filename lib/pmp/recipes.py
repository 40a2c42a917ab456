"""Chapter "Product manifold projection": settings, pair streams, training recipes, the record.

:func:`get_config` states the networks, the loss weights, the budgets and the metric sizes; the
notebook, ``bench/pmp_step.py`` and ``experiments/pmp_grid.py`` read it. :func:`fit_model` trains
PMP or Ada-GVAE on fresh dSprites pairs or loads the shipped checkpoint ``pmp/<kind>_seed<s>``
(the notebook contract). :func:`evaluate_model` scores a model with every metric of
:mod:`lib.metrics` and, for PMP, measures its supports; the grid script writes one JSON line per
model to ``lib/pretrained/pmp/grid.jsonl``, which :func:`load_grid` reads back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lib.checkpoint import pretrained_path, read_checkpoint_meta
from lib.data.dsprites import DSprites, sample_pairs
from lib.metrics import METRIC_NAMES, MetricSizes, score_all
from lib.nets import encode_images
from lib.notebook import RunSettings, train_or_load
from lib.pmp.losses import PairBatch, PMPObjective, adagvae_loss, sparsity_loss
from lib.pmp.measure import product_residual, support_matrix, support_overlap
from lib.pmp.model import AdaGVAE, AdaGVAEConfig, PMPAutoencoder, PMPConfig
from lib.trainer import Trainer, TrainerConfig

MODEL_KINDS = ("pmp", "adagvae")
GRID_RECORD = "pmp/grid.jsonl"


@dataclass(frozen=True)
class PMPChapterConfig:
    """Everything chapter 05 fixes. The paper's values: supplementary Table 4 and the code.

    The paper trains 30 epochs of 737,280 pairs (22.1 M pairs, 691,200 steps of 32 pairs). The
    CPU budget here is ``steps`` steps per model (the same for PMP and Ada-GVAE), with the
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
    k_changed: int | None = (
        None  # "unknown k": 1..n_factors-1 per pair, as the notebook
    )
    support_every: int = 400  # steps between support-matrix snapshots (PMP)
    n_probe: int = 512  # images the snapshots and the final sparsity are measured on
    sizes: MetricSizes = field(default_factory=MetricSizes)
    quick_sizes: MetricSizes = field(
        default_factory=lambda: MetricSizes(300, 150, 60, 30, 16)
    )


def get_config() -> PMPChapterConfig:
    """The chapter's settings (minGPT's ``get_config``)."""
    return PMPChapterConfig()


def checkpoint_name(kind: str, seed: int) -> str:
    _check_kind(kind)
    return f"pmp/{kind}_seed{seed}"


def _check_kind(kind: str) -> None:
    if kind not in MODEL_KINDS:
        raise ValueError(f"model kind must be one of {MODEL_KINDS}, got {kind!r}")


def new_model(
    kind: str, seed: int, chapter: PMPChapterConfig | None = None
) -> PMPAutoencoder | AdaGVAE:
    """A fresh PMP or Ada-GVAE whose initial weights depend on ``seed`` only."""
    _check_kind(kind)
    chapter = chapter or get_config()
    torch.manual_seed(seed)
    return PMPAutoencoder(chapter.pmp) if kind == "pmp" else AdaGVAE(chapter.baseline)


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
        return PairBatch(x1, x2, step)

    return batch


def probe_images(data: DSprites, n: int, device: str | torch.device = "cpu"):
    """``(images, factors)``: a fixed sample of ``n`` dSprites (seed 2**31 - 1, never trained on)."""
    factors = data.sample_factors(n, np.random.default_rng(2**31 - 1))
    return torch.from_numpy(data.render(factors)).to(device), factors


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
def make_trainer(
    model: PMPAutoencoder | AdaGVAE,
    batch_fn: Callable[[int], PairBatch],
    steps: int,
    chapter: PMPChapterConfig | None = None,
    progress: bool | None = None,
) -> Trainer:
    """Adam at the paper's rate, with PMP's objective or Ada-GVAE's loss."""
    chapter = chapter or get_config()
    if isinstance(model, PMPAutoencoder):
        loss = PMPObjective(steps, chapter.max_epochs)
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


def fit_model(
    settings: RunSettings,
    data: DSprites,
    kind: str,
    seed: int,
    steps: int | None = None,
) -> tuple[PMPAutoencoder | AdaGVAE, dict[str, list[float]], dict[str, Any]]:
    """Train (or load ``pmp/<kind>_seed<seed>``) one model; returns model, history, meta.

    For PMP the meta holds the support-matrix snapshots (``support_steps``,
    ``support_matrices``, ``support_sparsity``) taken during training on :func:`probe_images`.
    ``steps`` overrides the chapter's budget (``experiments/pmp_grid.py --steps`` on a GPU).
    """
    chapter = get_config()
    if steps is None:
        steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    model = new_model(kind, seed, chapter).to(settings.device)
    meta: dict[str, Any] = {
        "steps": steps,
        "batch_size_pairs": chapter.batch_size,
        "lr": chapter.lr,
        "threads": torch.get_num_threads(),
        "data": "procedural dSprites (lib.data.dsprites)",
    }

    def train_fn(net):
        batches = pair_batches(
            data, chapter.batch_size, seed, chapter.k_changed, settings.device
        )
        trainer = make_trainer(net, batches, steps, chapter)
        if kind == "pmp":
            probe, _ = probe_images(data, chapter.n_probe, settings.device)
            recorder = SupportRecorder(
                probe, max(1, min(chapter.support_every, steps // 4))
            )
            recorder.record(net, 0)
            trainer.add_callback("on_step_end", recorder)
        trainer.fit()
        if kind == "pmp":
            meta["support_steps"] = recorder.steps
            meta["support_matrices"] = recorder.matrices
            meta["support_sparsity"] = recorder.sparsity
        return trainer

    name = checkpoint_name(kind, seed)
    trained = settings.should_train(pretrained_path(name))
    history = train_or_load(settings, name, model, train_fn, meta=meta)
    if not trained:
        meta = read_checkpoint_meta(pretrained_path(name))
    return model, history, meta


# --------------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------------
@torch.no_grad()
def support_report(
    model: PMPAutoencoder, probe: torch.Tensor
) -> dict[str, float | list[list[float]] | list[int]]:
    """L_spar (Eq. 1, batch mean), support matrix and overlap, product residual on ``probe``."""
    model.eval()
    s = model.subspaces(probe)
    matrix = support_matrix(s)
    overlap = support_overlap(matrix)
    return {
        "L_spar": float(sparsity_loss(s)),
        "largest_foreign_share": overlap.largest_foreign_share,
        "mean_foreign_share": overlap.mean_foreign_share,
        "product_residual": product_residual(s, overlap.owner),
        "support_matrix": matrix.tolist(),
        "owner": overlap.owner.tolist(),
    }


def evaluate_model(
    model: PMPAutoencoder | AdaGVAE,
    data: DSprites,
    sizes: MetricSizes,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Every metric (:func:`lib.metrics.score_all` on ``model.encode``, the code z) and, for PMP,
    :func:`support_report` on the probe images."""
    model.eval()
    record: dict[str, Any] = score_all(data, encode_images(model, device), sizes, seed)
    if isinstance(model, PMPAutoencoder):
        probe, _ = probe_images(data, get_config().n_probe, device)
        record.update(support_report(model, probe))
    return record


def load_grid(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The records ``experiments/pmp_grid.py`` wrote (one JSON object per line)."""
    path = Path(path) if path is not None else pretrained_path(GRID_RECORD)
    if not path.is_file():
        raise FileNotFoundError(
            f"no grid record at {path}; run `python experiments/pmp_grid.py` to make it"
        )
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def grid_table(
    records: list[dict[str, Any]], metrics: tuple[str, ...] = METRIC_NAMES
) -> dict[str, dict[str, tuple[float, float, int]]]:
    """``{kind: {metric: (mean, std, n_seeds)}}``; std is the sample std (ddof 1; 0 for one seed).

    Only the latest record of each (kind, seed) counts.
    """
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for r in records:
        latest[(r["kind"], r["seed"])] = r
    table: dict[str, dict[str, tuple[float, float, int]]] = {}
    for kind in MODEL_KINDS:
        rows = [r for (k, _), r in sorted(latest.items()) if k == kind]
        if not rows:
            continue
        table[kind] = {}
        for m in metrics:
            values = np.array([r["metrics"][m] for r in rows], dtype=np.float64)
            std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            table[kind][m] = (float(values.mean()), std, len(values))
    return table


def format_grid(table: dict[str, dict[str, tuple[float, float, int]]]) -> str:
    """The table as fixed-width text, one row per metric, mean ± std per model."""
    kinds = list(table)
    names = {"pmp": "PMP", "adagvae": "Ada-GVAE"}
    header = f"{'metric':<18}" + "".join(f"{names[k]:>20}" for k in kinds)
    counts = [next(iter(table[k].values()))[2] for k in kinds]
    seeds = "".join(f"{f'({n} seed' + ('s)' if n > 1 else ')'):>20}" for n in counts)
    lines = [header, f"{'':<18}" + seeds]
    for m in next(iter(table.values())):
        cells = "".join(
            f"{table[k][m][0]:>13.3f} ± {table[k][m][1]:.3f}" for k in kinds
        )
        lines.append(f"{m:<18}{cells}")
    return "\n".join(lines)
