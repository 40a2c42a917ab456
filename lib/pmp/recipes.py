"""Chapter "Product manifold projection": training recipes, the grid trial and its record line.

The chapter's settings (:func:`get_config`: the networks, the loss weights, the budgets and the
metric sizes), the pairs, the run spec of one model (:class:`~lib.pmp.runs.PMPRun`) and the one
builder every driver trains through live in :mod:`lib.pmp.runs`. :func:`fit_pmp_model` trains
PMP, Ada-GVAE or an ablation (:data:`ABLATION_KINDS`) on fresh dSprites pairs or loads the
shipped checkpoint ``pmp/<kind>_seed<s>`` (the notebook contract); :func:`grid_trial` is one
model of the grid as a sweep trial, :func:`grid_record` the line ``experiments/pmp_grid.py``
writes to ``lib/pretrained/pmp/grid.jsonl``; :func:`scaled_trainer` builds the paper-scale run
``experiments/reproduce.py`` trains.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import torch

from lib.data.dsprites import DSprites
from lib.data.resident import ResidentGrid
from lib.errors import ParameterError, check_integer
from lib.metrics import MetricSizes
from lib.notebook import Run, RunSettings, train_or_load
from lib.pmp.losses import sparsity_loss
from lib.pmp.measure import probe_images, support_matrix
from lib.pmp.model import AdaGVAE, PMPAutoencoder, check_kind
from lib.pmp.runs import PMPChapterConfig, build_run, get_config
from lib.trainer import Trainer

# get_config is re-exported: the chapter config's home is lib.pmp.runs
__all__ = [
    "SupportRecorder",
    "checkpoint_name",
    "fit_pmp_model",
    "get_config",
    "grid_record",
    "grid_trial",
    "scaled_trainer",
]

if TYPE_CHECKING:  # a type only: the paper package needs no sweep to import
    from lib.sweep import TrialContext


def checkpoint_name(kind: str, seed: int) -> str:
    check_kind(kind)
    return f"pmp/{kind}_seed{seed}"


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
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
    run is the chapter's (:meth:`PMPChapterConfig.run`, built by
    :func:`~lib.pmp.runs.build_run`, as :func:`fit_pmp_model` and
    ``experiments/pmp_grid.py`` build it), so on the same machine and thread count the trial
    trains the same weights; it trains in sittings that resume
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
    spec = chapter.run(kind, seed=seed, steps=steps).override(k_changed=k_changed)
    parts = build_run(spec, data, ctx.device)
    model, trainer = parts.model, parts.trainer()
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
    settings: dict[str, Any] | None = None,
) -> tuple[Trainer, list[PMPAutoencoder | AdaGVAE]]:
    """The chapter's run at paper scale, as ``experiments/reproduce.py`` trains it: the run
    spec of ``kind`` (:meth:`PMPChapterConfig.run`) with its hybrids drawn by the pair stream
    and the pixels checked once (in the grid), built by :func:`~lib.pmp.runs.build_run` for
    every seed of ``seeds`` (one stacked model unless ``stacked=False``), the step recorded
    as a CUDA graph on a GPU, the losses read back every ``log_every`` steps; ``settings``
    changes the spec by path (``{"trainer.lr": 1e-4}``, strict). Returns the trainer and the
    seeds' models (fill them with ``trainer.model.unstack``).
    """
    chapter = chapter or get_config()
    spec = chapter.run(kind, steps=steps).override(hybrids="stream", check_values=False)
    spec = spec.override(settings or {})
    parts = build_run(
        spec, source, device, seeds=tuple(seeds), stacked=stacked, batching=batching
    )
    trainer = parts.trainer(
        progress=progress, log_every=log_every, cuda_graph=cuda_graph
    )
    return trainer, parts.seed_models


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

    The run is the chapter's (:meth:`PMPChapterConfig.run`, built by
    :func:`~lib.pmp.runs.build_run`). For PMP the run's meta holds the support-matrix
    snapshots (``support_steps``, ``support_matrices``, ``support_sparsity``) taken during
    training on :func:`probe_images`. ``steps`` overrides the chapter's budget
    (``experiments/pmp_grid.py --steps`` on a GPU); ``k_changed`` the number of factors a
    pair differs in (None: "unknown k", 1..4; default: the chapter's, ``chapter.k_changed``).
    """
    if k_changed == "chapter":
        k_changed = chapter.k_changed
    if steps is None:
        steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    spec = chapter.run(kind, seed=seed, steps=steps).override(k_changed=k_changed)
    parts = build_run(spec, data, settings.device)
    model = parts.model
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
        trainer = parts.trainer()
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
