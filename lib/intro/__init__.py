"""Chapter 00, the introduction: an autoencoder small enough to see whole.

No paper: a warm-up that shows the book's tools (the data, the trainer, checkpoints, sliders) on
MNIST digits with a 2-d code.

- :mod:`lib.intro.model`: :class:`WarmupAEConfig`, :class:`WarmupAutoencoder`.
- :mod:`lib.intro.losses`: :func:`warmup_loss` (binary cross-entropy per pixel).
- :mod:`lib.intro.runs`: :func:`get_config` (:class:`IntroChapterConfig`), the run spec
  (:class:`WarmupRun`) and the one builder (:func:`build_run`).
- :mod:`lib.intro.recipes`: :func:`train_warmup_ae`, :func:`fit_warmup_ae`.
"""

from lib.intro.losses import warmup_loss
from lib.intro.model import WarmupAEConfig, WarmupAutoencoder
from lib.intro.recipes import fit_warmup_ae, get_config, train_warmup_ae
from lib.intro.runs import IntroChapterConfig, WarmupRun, build_run

__all__ = [
    "IntroChapterConfig",
    "WarmupAEConfig",
    "WarmupAutoencoder",
    "WarmupRun",
    "build_run",
    "fit_warmup_ae",
    "get_config",
    "train_warmup_ae",
    "warmup_loss",
]
