"""Chapter "Atomic autoencoders": its settings in one place, its data streams and training recipe.

:func:`get_config` states every network, data set and budget the chapter uses; the notebook and
``bench/atomic_step.py`` read it. :func:`fit_atomic_ae` trains a model on a stream of batches,
or loads the shipped checkpoint ``atomic/<name>`` (the notebook contract). :func:`spike_trial`
trains one setting of the spike grid (widths x counts) as a trial of ``experiments/sweep.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lib.atomic.losses import atomic_ae_loss
from lib.atomic.measure import (
    DRAWN_CODE_STEPS,
    DRAWN_IMAGES,
    coordinate_correlations,
    model_device,
    reconstruction_correlations,
)
from lib.atomic.model import AtomicAEConfig, AtomicAutoencoder
from lib.config import check_field_types
from lib.data.mnist import upsample
from lib.data.spikes import (
    CrossesSpec,
    SpikeData,
    SpikeSpec,
    make_crosses,
    make_spikes,
)
from lib.errors import ParameterError, check_integer, check_real
from lib.notebook import Run, RunSettings, train_or_load
from lib.trainer import TensorSampler, Trainer, TrainerConfig

BatchFn = Callable[[int], torch.Tensor]

if TYPE_CHECKING:
    from lib.sliders import SliderSpec
    from lib.sweep import TrialContext  # a type only: no sweep needed to import


def _atomic(n_atoms: int, atom_dim: int, image_size: int = 64) -> AtomicAEConfig:
    return AtomicAEConfig(image_size=image_size, n_atoms=n_atoms, atom_dim=atom_dim)


def _plain(
    code_size: int, hidden: int = 64, widths: tuple[int, ...] = (12, 12, 24, 48)
) -> AtomicAEConfig:
    # one block holding the whole code: a plain autoencoder with the atomic one's encoder
    return AtomicAEConfig(
        image_size=64,
        n_atoms=1,
        atom_dim=code_size,
        decoder_hidden=hidden,
        decoder_channels=widths,
    )


@dataclass(frozen=True)
class AtomicChapterConfig:
    """Everything chapter 03 fixes. The paper's values are Table I's (128x128, k = 16, d0 = 6).

    A CPU budget trains at 64x64 (``image_size``), one stage fewer in encoder and block decoder.
    The plain autoencoder has the same encoder and code size (k d0), and one block decoder for
    the whole code, wider (2x for MNIST: a quarter of the atomic decoder's arithmetic, as it runs
    once per image, not k times; 1.5x for spikes).
    """

    image_size: int = 64
    mnist: AtomicAEConfig = field(default_factory=lambda: _atomic(16, 6))
    mnist_plain: AtomicAEConfig = field(
        default_factory=lambda: _plain(96, hidden=256, widths=(16, 16, 32, 64))
    )
    spikes: SpikeSpec = field(
        default_factory=lambda: SpikeSpec(image_size=64, n_spikes=2, sigma=3.0)
    )
    spikes_model: AtomicAEConfig = field(default_factory=lambda: _atomic(2, 3))
    spikes_plain: AtomicAEConfig = field(default_factory=lambda: _plain(6))
    # codes twice the size of Sigma's dimension (k * 3 = 6): the filling-set comparison
    spikes_wide: AtomicAEConfig = field(default_factory=lambda: _atomic(2, 6))
    spikes_plain_wide: AtomicAEConfig = field(default_factory=lambda: _plain(12))
    separable: CrossesSpec = field(default_factory=CrossesSpec)
    # short arms: each cross's lines fade out 4 px from its centre, so its atom couples x
    # and y (not "entangled": the book keeps that word for codes)
    short_armed: CrossesSpec = field(default_factory=lambda: CrossesSpec(arm=4.0))
    crosses_model: AtomicAEConfig = field(
        default_factory=lambda: AtomicAEConfig(image_size=32, n_atoms=2, atom_dim=2)
    )
    batch_size: int = 32  # the authors use 64; 32 gives more steps per CPU minute
    lr: float = 2e-3  # Adam; the authors use 5e-4 (MNIST) and 1e-4 (spikes), constant
    warmup_steps: int = 100
    schedule: str = "cosine"
    channels_last: bool = True  # 1.2-1.5x faster steps on a CPU (bench/atomic_step.py)
    mnist_steps: int = 2000
    spikes_steps: int = 6000
    crosses_steps: int = 2000
    quick_steps: int = 15
    quick_train_size: int = 256  # MNIST training digits in quick mode
    # the filling-set models (Section 4) are trained from each of these seeds
    filling_seeds: tuple[int, ...] = (0, 1, 2)
    n_test: int = 1000  # spikes / crosses test images (seeded, never trained on)

    def __post_init__(self) -> None:
        check_field_types(self)


def get_config() -> AtomicChapterConfig:
    """The chapter's settings (minGPT's ``get_config``): one definition for notebook and bench."""
    return AtomicChapterConfig()


def new_atomic_ae(
    config: AtomicAEConfig, seed: int, device: str | torch.device = "cpu"
) -> AtomicAutoencoder:
    """A fresh model whose initial weights depend on ``seed`` only."""
    torch.manual_seed(seed)
    return AtomicAutoencoder(config).to(device)


# --------------------------------------------------------------------------------------------
# data streams: batch_fn(step) -> images (B, 1, H, W) on the device
# --------------------------------------------------------------------------------------------
def mnist_batches(
    digits: torch.Tensor, image_size: int, batch_size: int, seed: int = 0
) -> BatchFn:
    """Shuffled minibatches of 28x28 digits, upsampled to ``image_size`` per batch."""
    sampler = TensorSampler(digits, batch_size=min(batch_size, len(digits)), seed=seed)
    return lambda step: upsample(sampler(step), image_size)


def _stream_offset(seed: int) -> int:
    # training batch seeds are offset + step; keep them below TEST_SEED for any budget < 1e6
    if not 0 <= seed < 2000:
        raise ValueError(f"seed must be in 0..1999 for the data streams, got {seed}")
    return seed * 1_000_003


def spike_batches(
    spec: SpikeSpec, batch_size: int, seed: int = 0, device: str | torch.device = "cpu"
) -> BatchFn:
    """A fresh batch of spikes every step (an endless training set; seed offset + step)."""
    offset = _stream_offset(seed)
    return lambda step: (
        make_spikes(batch_size, spec, seed=offset + step, device=device).images
    )


def cross_batches(
    spec: CrossesSpec,
    batch_size: int,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> BatchFn:
    """A fresh batch of crosses every step."""
    offset = _stream_offset(seed)

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
def atomic_trainer(
    model: AtomicAutoencoder,
    batch_fn: BatchFn,
    *,
    steps: int,
    lr: float = 2e-3,
    warmup_steps: int = 100,
    schedule: str = "cosine",
    channels_last: bool = False,
    progress: bool | None = None,
    log_every: int = 1,
    cuda_graph: bool = False,
    keep_channels_last: bool = False,
) -> Trainer:
    """A :class:`~lib.trainer.Trainer` with :func:`atomic_ae_loss`, Adam, warm-up and cosine decay.

    ``channels_last`` stores the model's and the batches' feature maps channels-last (NHWC),
    which the CPU convolution kernels prefer; the arithmetic is the same. The model's weights
    are put back in the default layout when ``fit`` ends, unless ``keep_channels_last``: then
    every ``fit`` trains in one layout, so that a run trained in several fits (a sweep trial
    that resumes) computes the same numbers however it was split. ``log_every`` and
    ``cuda_graph``: the GPU options of :class:`~lib.trainer.TrainerConfig`
    (``bench/scale.py``); with a graph the weights stay channels-last.
    """
    if channels_last:
        model.to(memory_format=torch.channels_last)
        source = batch_fn

        def batch_fn(step: int) -> torch.Tensor:
            return source(step).contiguous(memory_format=torch.channels_last)

    config = TrainerConfig(
        steps=steps,
        lr=lr,
        warmup_steps=min(warmup_steps, steps),
        schedule=schedule,
        progress=progress,
        log_every=log_every,
        cuda_graph=cuda_graph,
    )
    trainer = Trainer(model, atomic_ae_loss, batch_fn, config)
    # a recorded graph holds the weights' storage
    if channels_last and not cuda_graph and not keep_channels_last:
        trainer.add_callback(
            "on_fit_end", lambda t: t.model.to(memory_format=torch.contiguous_format)
        )
    return trainer


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
    shipped ``atomic/<name>``: a :class:`~lib.notebook.Run`. Learning rate and schedule come
    from ``chapter`` (the notebook's :func:`get_config`).

    ``seed`` sets the initial weights (default: the notebook's seed); the stream ``batch_fn``
    carries its own seed.
    """
    budget = settings.pick(full=steps, quick=chapter.quick_steps)
    seed = settings.seed if seed is None else seed
    model = new_atomic_ae(config, seed, settings.device)

    def train_fn(net: AtomicAutoencoder) -> Trainer:
        # the batch size is read off a first batch, drawn before training as it always was
        # (the shipped models saw this draw), and only when training
        meta["batch_size"] = int(batch_fn(0).shape[0])
        trainer = atomic_trainer(
            net,
            batch_fn,
            steps=budget,
            lr=chapter.lr,
            warmup_steps=chapter.warmup_steps,
            schedule=chapter.schedule,
            channels_last=chapter.channels_last,
        )
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


SPIKE_TRIAL_PARAMS = (
    "size",
    "spikes",
    "sigma",
    "margin",
    "separation",
    "steps",
    "batch",
    "lr",
    "evaluate_every",
    "n_test",
    "seed",
    "drawn_steps",
)


def spike_trial(params: dict[str, Any], ctx: TrialContext) -> list[dict[str, Any]]:
    """One setting of the spike grid as a trial (``experiments/sweep.py atomic``).

    ``params``: any of ``size``, ``spikes`` (k), ``sigma``, ``margin``, ``separation``,
    ``steps``, ``batch``, ``lr``, ``evaluate_every``, ``n_test``, ``seed``, ``drawn_steps``
    (defaults: the chapter's, :func:`get_config`, and :data:`DRAWN_CODE_STEPS`): the options of ``experiments/atomic_spikes.py``, whose
    recipe this is (:func:`atomic_trainer`, channels-last, fresh spikes every step, an atomic
    code of k atoms of 3 numbers; the weights stay channels-last between fits, where the
    script puts them back in the default layout after its first evaluation). It trains in
    sittings that resume and is measured every ``evaluate_every`` steps on the seeded test
    set (:meth:`lib.sweep.TrialContext.evaluate`); returns one line per evaluation point in
    that script's format: ``args`` (with ``device`` and ``threads``), ``step``, ``seconds``
    (training seconds so far) and :func:`spike_measures`.
    """
    unknown = set(params) - set(SPIKE_TRIAL_PARAMS)
    if unknown:
        raise ParameterError(f"spike_trial: unknown parameters {sorted(unknown)}")
    chapter = get_config()
    spec_default = chapter.spikes
    args = {
        "size": params.get("size", spec_default.image_size),
        "spikes": params.get("spikes", spec_default.n_spikes),
        "sigma": params.get("sigma", spec_default.sigma),
        "margin": params.get("margin", spec_default.margin),
        "separation": params.get("separation", 0.0),
        "steps": params.get("steps", chapter.spikes_steps),
        "batch": params.get("batch", chapter.batch_size),
        "lr": params.get("lr", chapter.lr),
        "evaluate_every": params.get("evaluate_every", 1000),
        "n_test": params.get("n_test", chapter.n_test),
        "seed": params.get("seed", 0),
        "drawn_steps": params.get("drawn_steps", DRAWN_CODE_STEPS),
    }
    for key in ("size", "spikes", "steps", "batch", "evaluate_every", "n_test"):
        check_integer(key, args[key], minimum=1)
    check_integer("drawn_steps", args["drawn_steps"], minimum=0)
    check_integer("seed", args["seed"], minimum=0)
    check_real("lr", args["lr"], 0.0, strict=True)
    check_real("sigma", args["sigma"], 0.0, strict=True)
    check_real("margin", args["margin"], 0.0)
    check_real("separation", args["separation"], 0.0)
    device = ctx.device
    spec = SpikeSpec(
        image_size=args["size"],
        n_spikes=args["spikes"],
        sigma=args["sigma"],
        margin=args["margin"],
        min_separation=args["separation"],
    )
    config = AtomicAEConfig(image_size=args["size"], n_atoms=args["spikes"], atom_dim=3)
    model = new_atomic_ae(config, args["seed"], device)
    trainer = atomic_trainer(
        model,
        spike_batches(spec, args["batch"], args["seed"], device),
        steps=args["steps"],
        lr=args["lr"],
        warmup_steps=chapter.warmup_steps,
        schedule=chapter.schedule,
        channels_last=True,
        keep_channels_last=True,  # one layout in every sitting (see atomic_trainer)
        progress=False,
    )
    test = spike_test_set(spec, args["n_test"], device)
    stamp = {**args, "device": str(device), "threads": ctx.threads}

    def measure(trainer: Trainer) -> dict[str, Any]:
        return {
            "args": stamp,
            "step": trainer.step,
            "seconds": round(trainer.seconds, 1),
            **spike_measures(model, test, args["drawn_steps"]),
        }

    return ctx.evaluate(trainer, args, args["evaluate_every"], measure)


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
