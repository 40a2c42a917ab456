"""Chapter "Atomic autoencoders": its data streams, training recipes and the spike-grid trial.

The chapter's settings (:func:`get_config`: every network, data set and budget the chapter
uses), the run spec of one model and the one builder every driver trains through live in
:mod:`lib.atomic.runs`. :func:`fit_atomic_ae` trains a model on a stream of batches,
or loads the shipped checkpoint ``atomic/<name>`` (the notebook contract). :func:`spike_trial`
trains one setting of the spike grid (widths x counts) as a trial of ``experiments/sweep.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lib.atomic.measure import (
    DRAWN_CODE_STEPS,
    DRAWN_IMAGES,
    coordinate_correlations,
    model_device,
    reconstruction_correlations,
)
from lib.atomic.model import AtomicAEConfig, AtomicAutoencoder
from lib.atomic.runs import (
    AtomicChapterConfig,
    BatchFn,
    build_run,
    get_config,
    spike_batches,
    spike_run,
    spike_settings,
    stream_offset,
)
from lib.data.mnist import upsample
from lib.data.spikes import (
    CrossesSpec,
    SpikeData,
    SpikeSpec,
    make_crosses,
    make_spikes,
)
from lib.errors import check_integer
from lib.notebook import Run, RunSettings, train_or_load
from lib.trainer import TensorSampler, Trainer

# get_config is re-exported: the chapter config's home is lib.atomic.runs
__all__ = [
    "block_slider_ranges",
    "cross_batches",
    "cross_test_set",
    "fit_atomic_ae",
    "fit_filling_models",
    "get_config",
    "mnist_batches",
    "reconstruction_mse",
    "seeded_name",
    "spike_batches",
    "spike_measures",
    "spike_test_set",
    "spike_trial",
]

if TYPE_CHECKING:
    from lib.sliders import SliderSpec
    from lib.sweep import TrialContext  # a type only: no sweep needed to import


# --------------------------------------------------------------------------------------------
# data streams: batch_fn(step) -> images (B, 1, H, W) on the device
# --------------------------------------------------------------------------------------------
def mnist_batches(
    digits: torch.Tensor, image_size: int, batch_size: int, seed: int = 0
) -> BatchFn:
    """Shuffled minibatches of 28x28 digits, upsampled to ``image_size`` per batch."""
    sampler = TensorSampler(digits, batch_size=min(batch_size, len(digits)), seed=seed)
    return lambda step: upsample(sampler(step), image_size)


def cross_batches(
    spec: CrossesSpec,
    batch_size: int,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> BatchFn:
    """A fresh batch of crosses every step."""
    offset = stream_offset(seed)

    def batch(step: int) -> torch.Tensor:
        images, _ = make_crosses(
            batch_size,
            spec.n_crosses,
            spec.image_size,
            spec.sigma,
            spec.arm,
            spec.margin,
            seed=offset + step,
            device=device,
        )
        return images

    return batch


TEST_SEED = (
    2**31 - 1
)  # test sets use a seed no training batch uses (seed + step < 2**31 - 1)


def spike_test_set(spec: SpikeSpec, n: int, device: str | torch.device = "cpu"):
    """The chapter's spike test set (fixed seed, disjoint from every training batch)."""
    return make_spikes(n, spec, seed=TEST_SEED, device=device)


def cross_test_set(
    spec: CrossesSpec, n: int, device: str | torch.device = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, centres)``: the chapter's cross test set."""
    return make_crosses(
        n,
        spec.n_crosses,
        spec.image_size,
        spec.sigma,
        spec.arm,
        spec.margin,
        seed=TEST_SEED,
        device=device,
    )


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------
def fit_atomic_ae(
    settings: RunSettings,
    chapter: AtomicChapterConfig,
    name: str,
    config: AtomicAEConfig,
    batch_fn: BatchFn,
    steps: int,
    seed: int | None = None,
) -> Run:
    """A new model trained on ``batch_fn`` for ``steps`` (quick mode: the quick budget), or the
    shipped ``atomic/<name>``: a :class:`~lib.notebook.Run`. The run is the chapter's
    (:meth:`AtomicChapterConfig.run` with the network ``config``, built by
    :func:`~lib.atomic.runs.build_run` on the stream ``batch_fn``): learning rate, warm-up,
    schedule and layout come from ``chapter`` (the notebook's :func:`get_config`).

    ``seed`` sets the initial weights (default: the notebook's seed); the stream ``batch_fn``
    carries its own seed.
    """
    budget = settings.pick(full=steps, quick=chapter.quick_steps)
    seed = settings.seed if seed is None else seed
    spec = chapter.run(config, steps=budget, seed=seed)
    parts = build_run(spec, settings.device, batches=batch_fn)
    model = parts.model

    def train_fn(net: AtomicAutoencoder) -> Trainer:
        # the batch size is read off a first batch, drawn before training as it always was
        # (the shipped models saw this draw), and only when training
        meta["batch_size"] = int(batch_fn(0).shape[0])
        trainer = parts.trainer()
        try:
            trainer.fit()
        finally:  # also after an error, so the caller's model is never left channels-last
            net.to(memory_format=torch.contiguous_format)
        return trainer

    meta = {
        "steps": budget,
        "lr": chapter.lr,
        "schedule": chapter.schedule,
        "threads": torch.get_num_threads(),
        "seed": seed,
    }
    return train_or_load(settings, f"atomic/{name}", model, train_fn, meta=meta)


# the filling-set comparison (Section 4): label -> (checkpoint name, chapter config field)
FILLING_MODELS = {
    "atomic, code 6": ("spikes_atomic", "spikes_model"),
    "plain, code 6": ("spikes_plain", "spikes_plain"),
    "atomic, code 12": ("spikes_atomic_wide", "spikes_wide"),
    "plain, code 12": ("spikes_plain_wide", "spikes_plain_wide"),
}


def seeded_name(name: str, seed: int) -> str:
    """The checkpoint name of ``name`` trained from ``seed``: seed 0 keeps the plain name."""
    return name if seed == 0 else f"{name}_seed{seed}"


def fit_filling_models(
    settings: RunSettings,
    chapter: AtomicChapterConfig,
    seeds: tuple[int, ...] | list[int],
    reuse: dict[str, AtomicAutoencoder] | None = None,
) -> dict[str, list[AtomicAutoencoder]]:
    """The four models of the filling-set comparison (:data:`FILLING_MODELS`), one per seed.

    Seed s initialises the weights and draws the training stream (``spike_batches(..., s)``);
    the checkpoint is ``atomic/<name>`` for seed 0 and ``atomic/<name>_seed<s>`` otherwise.
    ``reuse`` maps checkpoint names to models the caller has already fitted with this recipe
    (they are neither trained nor loaded again). Returns label -> the models in the order of
    ``seeds``.
    """
    reuse = reuse or {}
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and not empty, got {seeds}")
    models: dict[str, list[AtomicAutoencoder]] = {}
    for label, (name, field_name) in FILLING_MODELS.items():
        models[label] = []
        for seed in seeds:
            if seeded_name(name, seed) in reuse:
                models[label].append(reuse[seeded_name(name, seed)])
                continue
            stream = spike_batches(
                chapter.spikes, chapter.batch_size, seed, settings.device
            )
            model, _ = fit_atomic_ae(
                settings,
                chapter,
                seeded_name(name, seed),
                getattr(chapter, field_name),
                stream,
                chapter.spikes_steps,
                seed=seed,
            )
            models[label].append(model)
    return models


def spike_trial(params: dict[str, Any], ctx: TrialContext) -> list[dict[str, Any]]:
    """One setting of the spike grid as a trial (``experiments/sweep.py atomic``).

    ``params``: ``evaluate_every`` (default 1,000), ``n_test`` (the test images, default the
    chapter's), ``drawn_steps`` (default :data:`DRAWN_CODE_STEPS`) and any of the spike
    run's settings (:data:`lib.atomic.runs.SPIKE_SETTINGS`: ``size``, ``spikes`` (k),
    ``sigma``, ``margin``, ``separation``, ``steps``, ``batch``, ``lr``, ``seed``), put into
    the chapter's spikes run by :func:`~lib.atomic.runs.spike_run` (strict) and built by
    :func:`~lib.atomic.runs.build_run`, as ``experiments/atomic_spikes.py`` and
    ``reproduce.py`` do. It trains in sittings that resume and is measured every
    ``evaluate_every`` steps on the seeded test set (:meth:`lib.sweep.TrialContext.evaluate`);
    returns one line per evaluation point in that script's format: ``args`` (with ``device``
    and ``threads``), ``step``, ``seconds`` (training seconds so far) and
    :func:`spike_measures`.
    """
    settings = dict(params)
    options = {
        "evaluate_every": settings.pop("evaluate_every", 1000),
        "n_test": settings.pop("n_test", get_config().n_test),
        "drawn_steps": settings.pop("drawn_steps", DRAWN_CODE_STEPS),
    }
    check_integer("evaluate_every", options["evaluate_every"], minimum=1)
    check_integer("n_test", options["n_test"], minimum=1)
    check_integer("drawn_steps", options["drawn_steps"], minimum=0)
    spec = spike_run(settings)
    device = ctx.device
    parts = build_run(spec, device)
    trainer = parts.trainer(progress=False)
    test = spike_test_set(spec.spikes, options["n_test"], device)
    args = {**spike_settings(spec), **options}
    stamp = {**args, "device": str(device), "threads": ctx.threads}

    def measure(trainer: Trainer) -> dict[str, Any]:
        return {
            "args": stamp,
            "step": trainer.step,
            "seconds": round(trainer.seconds, 1),
            **spike_measures(parts.model, test, options["drawn_steps"]),
        }

    return ctx.evaluate(trainer, args, options["evaluate_every"], measure)


@torch.no_grad()
def spike_measures(
    model: AtomicAutoencoder, test: SpikeData, drawn_steps: int = DRAWN_CODE_STEPS
) -> dict[str, Any]:
    """What a spikes run records (``experiments/atomic_spikes.py``, ``reproduce.py``): the test
    MSE beside the mean squared pixel, the best |rho| and Spearman per spike parameter, the
    block R^2 and the median atom-to-spike distance (:func:`coordinate_correlations`), and
    how the parameters fitted to the reconstructions follow the true ones
    (``reconstruction_rho``, :func:`reconstruction_correlations`: the verdict parts'
    adequacy; ``drawn_steps`` Adam steps of its search through the decoder, the rule's
    :data:`DRAWN_CODE_STEPS` by default)."""
    report = coordinate_correlations(model, test.images, test.params)
    drawn = reconstruction_correlations(  # what the decoder can draw: the rule's check
        model,
        test.images[:DRAWN_IMAGES],
        test.params[:DRAWN_IMAGES],
        test.spec.sigma,
        code_steps=drawn_steps,
    )
    return {
        "test_mse": reconstruction_mse(model, test.images),
        "mean_squared_pixel": float(test.images.pow(2).mean()),
        "best_abs_rho": report.best,
        "best_abs_spearman": report.best_spearman,
        "block_r2": dict(zip(("amplitude", "x", "y"), report.block_r2.tolist())),
        "match_distance_px": report.match_distance,
        "reconstruction_rho": drawn,
    }


@torch.no_grad()
def reconstruction_mse(
    model: AtomicAutoencoder,
    images: torch.Tensor,
    image_size: int | None = None,
    chunk: int = 250,
) -> float:
    """Mean squared error over ``images`` (upsampled to ``image_size`` first when given)."""
    device = model_device(model)
    total, count = 0.0, 0
    for start in range(0, len(images), chunk):
        x = images[start : start + chunk].to(device)
        if image_size is not None and x.shape[-1] != image_size:
            x = upsample(x, image_size)
        total += float(((model(x)[0] - x) ** 2).sum())
        count += x.numel()
    return total / count


def block_slider_ranges(
    codes: torch.Tensor, base: torch.Tensor, blocks: list[int], prefix: str = "z"
) -> dict[str, SliderSpec]:
    """Slider ranges for the coordinates of ``blocks``: the 2nd to 98th percentile of each
    coordinate over ``codes`` (N, k, d0), widened to include ``base`` (1, k, d0), which is
    where each slider starts (a coordinate without spread gets a unit range). Named
    ``z[block,coordinate]``, in the order of
    :func:`~lib.atomic.model.block_decoder`'s input."""
    # here, not at the top: the sliders bring pyplot and ONNX, which training never needs
    from lib.sliders import SliderSpec

    codes = torch.as_tensor(codes).detach().cpu().flatten(0, 1).numpy()  # (N * k, d0)
    base = torch.as_tensor(base).detach().cpu().reshape(-1, codes.shape[-1])  # (k, d0)
    low, high = np.percentile(codes, [2, 98], axis=0)

    def spec(b: int, c: int) -> SliderSpec:
        start = float(base[b, c])
        lo, hi = float(min(low[c], start)), float(max(high[c], start))
        if hi - lo < 1e-6:  # a coordinate that never moves: a unit range around it
            lo, hi = lo - 0.5, hi + 0.5
        return SliderSpec(lo, hi, start)

    return {
        f"{prefix}[{b},{c}]": spec(b, c) for b in blocks for c in range(codes.shape[-1])
    }
