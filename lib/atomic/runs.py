"""Chapter 03's runs: the chapter's settings, the run spec of one atomic autoencoder, and the
one builder that the notebook's recipe, ``experiments/atomic_spikes.py``, the spike-grid trial
and ``experiments/reproduce.py atomic`` all train through (:mod:`lib.runs`).

    spec = get_config().run(seed=1)                    # the chapter's spikes model, an AtomicRun
    spec = spike_run({"size": 128, "spikes": 4})       # a setting of the spike grid (strict)
    parts = build_run(spec, "cpu")                     # fresh spikes every step
    parts = build_run(spec, "cpu", batches=stream)     # or any stream (MNIST, crosses)
    trainer = parts.trainer(); trainer.fit()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from lib.atomic.losses import atomic_ae_loss
from lib.atomic.model import AtomicAEConfig, AtomicAutoencoder
from lib.config import check_field_types
from lib.data.spikes import CrossesSpec, SpikeSpec, make_spikes
from lib.errors import ParameterError
from lib.runs import RunParts, RunSpec, seeded_init
from lib.trainer import TrainerConfig

BatchFn = Callable[[int], torch.Tensor]


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
    paper_steps: int = 1_000_000  # the authors' "up to 1,000,000 iterations"

    def __post_init__(self) -> None:
        check_field_types(self)

    def run(
        self,
        model: AtomicAEConfig | None = None,
        *,
        steps: int | None = None,
        seed: int = 0,
    ) -> AtomicRun:
        """The run spec of one of the chapter's atomic autoencoders: ``model`` (default the
        spikes model) on the chapter's spikes, Adam at the chapter's rate with its warm-up
        (at most the budget) and cosine decay, ``steps`` (default the spikes budget),
        channels-last on a CPU as the chapter trains, and ``seed``."""
        steps = self.spikes_steps if steps is None else steps
        return AtomicRun(
            model=self.spikes_model if model is None else model,
            spikes=self.spikes,
            trainer=TrainerConfig(
                steps=steps,
                lr=self.lr,
                warmup_steps=min(self.warmup_steps, steps),
                schedule=self.schedule,
            ),
            batch_size=self.batch_size,
            seed=seed,
            channels_last=self.channels_last,
        )


def get_config() -> AtomicChapterConfig:
    """The chapter's settings (minGPT's ``get_config``): one definition for notebook and bench."""
    return AtomicChapterConfig()


@dataclass
class AtomicRun(RunSpec):
    """One training run of an atomic autoencoder: a config tree saved beside its record.

    ``spikes`` and ``batch_size`` make the stream of fresh spikes :func:`build_run` trains on
    when it is given no other stream; ``channels_last`` stores the feature maps NHWC while
    training (the CPU kernels' layout: 1.2-1.5x faster steps, the same arithmetic). Defaults:
    the chapter's spikes run (:meth:`AtomicChapterConfig.run`).
    """

    model: AtomicAEConfig = field(default_factory=lambda: get_config().spikes_model)
    spikes: SpikeSpec = field(default_factory=lambda: get_config().spikes)
    trainer: TrainerConfig = field(default_factory=lambda: get_config().run().trainer)
    batch_size: int = field(default_factory=lambda: get_config().batch_size)
    seed: int = 0
    channels_last: bool = field(default_factory=lambda: get_config().channels_last)


# a spike-grid line's flat names (experiments/atomic_spikes.py's options, the sweep trial's
# parameters) -> their path in the spec; the model follows the spikes (k atoms of 3 numbers
# at the image size)
SPIKE_SETTINGS = {
    "size": "spikes.image_size",
    "spikes": "spikes.n_spikes",
    "sigma": "spikes.sigma",
    "margin": "spikes.margin",
    "separation": "spikes.min_separation",
    "steps": "trainer.steps",
    "batch": "batch_size",
    "lr": "trainer.lr",
    "seed": "seed",
}

# the authors' spike setting (Table I's image size and spike width, their batch; the
# notes' ../shared/notes/papers.md): narrower spikes at 128 x 128, 4 of them, batch 64
AUTHORS_SPIKES = {"size": 128, "spikes": 4, "sigma": 2.8, "margin": 8.0, "batch": 64}


def spike_run(settings: dict[str, Any] | None = None) -> AtomicRun:
    """The chapter's spikes run with a spike-grid line's flat settings put in (strict: a
    name that is not in :data:`SPIKE_SETTINGS` is refused), its model k atoms of 3 numbers at
    the image size and its warm-up at most its budget."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(SPIKE_SETTINGS))
    if unknown:
        raise ParameterError(
            f"unknown settings {unknown}; a spike run sets {sorted(SPIKE_SETTINGS)} "
            "(a trial also takes evaluate_every, n_test and drawn_steps)"
        )
    chapter = get_config()
    spec = chapter.run().override(
        {SPIKE_SETTINGS[name]: value for name, value in settings.items()}
    )
    return spec.override(
        {
            "model": AtomicAEConfig(
                image_size=spec.spikes.image_size,
                n_atoms=spec.spikes.n_spikes,
                atom_dim=3,
            ),
            "trainer.warmup_steps": min(chapter.warmup_steps, spec.trainer.steps),
        }
    )


def spike_settings(spec: AtomicRun) -> dict[str, Any]:
    """The spec's settings under a spike-grid line's flat names (:data:`SPIKE_SETTINGS`)."""
    leaves = spec.leaves()
    return {name: leaves[path] for name, path in SPIKE_SETTINGS.items()}


def new_atomic_ae(
    config: AtomicAEConfig, seed: int, device: str | torch.device = "cpu"
) -> AtomicAutoencoder:
    """A fresh model whose initial weights depend on ``seed`` only (drawn by
    :func:`lib.runs.seeded_init`: torch's global random state is kept)."""
    with seeded_init(seed):
        model = AtomicAutoencoder(config)
    return model.to(device)


def stream_offset(seed: int) -> int:
    """Where seed ``seed``'s stream of training batches starts: batch seeds are offset +
    step, kept below the test sets' seed for any budget < 1e6 (so ``seed`` < 2000)."""
    if not 0 <= seed < 2000:
        raise ValueError(f"seed must be in 0..1999 for the data streams, got {seed}")
    return seed * 1_000_003


def spike_batches(
    spec: SpikeSpec, batch_size: int, seed: int = 0, device: str | torch.device = "cpu"
) -> BatchFn:
    """A fresh batch of spikes every step (an endless training set; seed offset + step)."""
    offset = stream_offset(seed)
    return lambda step: (
        make_spikes(batch_size, spec, seed=offset + step, device=device).images
    )


def build_run(
    spec: AtomicRun,
    device: str | torch.device = "cpu",
    batches: BatchFn | None = None,
) -> RunParts:
    """The parts of run ``spec``: a fresh :func:`new_atomic_ae` on ``device``,
    :func:`~lib.atomic.losses.atomic_ae_loss`, the stream ``batches`` (default: fresh spikes
    of the spec every step, :func:`spike_batches` with its batch size and seed) and the
    spec's trainer config (Adam, warm-up, cosine decay).

    With ``channels_last`` the batches come channels-last and the trainer stores the model
    so (:attr:`~lib.runs.RunParts.memory_format`) for every fit, so that a run trained in
    several fits computes what one fit does; a caller that hands the model on puts it back
    with ``model.to(memory_format=torch.contiguous_format)`` (the arithmetic is the same).
    """
    if not isinstance(spec, AtomicRun):
        raise ParameterError(f"spec must be an AtomicRun, got {type(spec).__name__}")
    if batches is not None and not callable(batches):
        raise ParameterError(f"batches must be a function of the step, got {batches!r}")
    if batches is None:
        stream_offset(
            spec.seed
        )  # the stream's seed is checked before the model is made
    model = new_atomic_ae(spec.model, spec.seed, device)
    stream = batches or spike_batches(spec.spikes, spec.batch_size, spec.seed, device)
    layout = None
    if spec.channels_last:
        layout = torch.channels_last
        source = stream

        def stream(step: int) -> torch.Tensor:
            return source(step).contiguous(memory_format=torch.channels_last)

    return RunParts(model, atomic_ae_loss, stream, spec.trainer, memory_format=layout)
