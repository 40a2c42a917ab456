"""Chapter "The toroidal autoencoder": its training recipes and the sweep trial.

The chapter's settings and the run spec of one autoencoder live in :mod:`lib.toroidal.runs`
(:func:`get_config`, :class:`TorusRun`, :func:`build_run`); the notebook, the sweep script
(``experiments/torus_sweep.py``), :func:`sweep_trial` and ``experiments/reproduce.py`` all
train through that one builder, so the sweep measures the network the chapter ships.
:func:`fit_torus_ae` trains or loads the shipped checkpoint (the notebook contract),
:func:`fit_digit_judge` the classifier the chapter judges decoded images with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from lib.data.mnist import load_mnist_train_test
from lib.errors import ParameterError, check_integer
from lib.notebook import Run, RunSettings, train_or_load
from lib.toroidal.losses import TorusLossWeights
from lib.toroidal.runs import (
    ToroidalChapterConfig,
    build_run,
    get_config,
    spec_from_sweep,
    sweep_point,
    sweep_settings,
)
from lib.trainer import Trainer

if TYPE_CHECKING:  # a type only: the paper package needs no sweep to import
    from lib.sweep import TrialContext

# get_config is re-exported: the chapter config's home is lib.toroidal.runs
__all__ = [
    "fit_digit_judge",
    "fit_torus_ae",
    "get_config",
    "sweep_trial",
]


def sweep_trial(params: dict[str, Any], ctx: TrialContext) -> list[dict[str, Any]]:
    """One run of the loss-weight sweep as a trial (``experiments/sweep.py torus``).

    ``params``: ``name``, ``every`` (measure every N steps, default 250) and any of the
    sweep's settings (:data:`lib.toroidal.runs.SWEEP_SETTINGS`: ``seed``, ``steps``,
    ``batch_size``, ``lr`` and the four loss weights), put into the chapter's faithful run
    (:func:`~lib.toroidal.runs.spec_from_sweep`, strict) and built by
    :func:`~lib.toroidal.runs.build_run`, as the script and the notebook do. The run trains
    in sittings that resume and is measured every ``every`` steps
    (:meth:`lib.sweep.TrialContext.evaluate`). Returns one line per evaluation point in the
    format of the shipped sweep record (:func:`~lib.toroidal.runs.sweep_point`): the
    settings, ``threads``, ``device``, ``step``, ``seconds`` (training seconds so far),
    ``val`` / ``train`` and ``spring_last50``.
    """
    settings = dict(params)
    name, every = settings.pop("name", None), settings.pop("every", 250)
    if name is None:
        raise ParameterError(f"sweep_trial: needs 'name'; got {sorted(params)}")
    check_integer("every", every, minimum=1)
    spec = spec_from_sweep(settings)
    device = ctx.device
    digits = load_mnist_train_test().tensors(device)
    parts = build_run(spec, digits[0], digits[1], device)
    trainer = parts.trainer(progress=False)
    stamp = {
        "name": name,
        **sweep_settings(spec),
        "every": every,
        "threads": ctx.threads,
        "device": str(device),
    }

    def measure(trainer: Trainer) -> dict[str, Any]:
        return sweep_point(parts.model, trainer, digits, stamp)

    identity = {"name": name, **sweep_settings(spec), "every": every}
    return ctx.evaluate(trainer, identity, every, measure)


def fit_torus_ae(
    settings: RunSettings,
    chapter: ToroidalChapterConfig,
    name: str,
    weights: TorusLossWeights,
    images: torch.Tensor,
    labels: torch.Tensor,
) -> Run:
    """A new chapter model trained on the digits (:meth:`ToroidalChapterConfig.run` built by
    :func:`~lib.toroidal.runs.build_run`), or the shipped ``toroidal/<name>``: a
    :class:`~lib.notebook.Run`. Network, budget, batch size and learning rate come from
    ``chapter`` (the notebook's :func:`get_config`).
    """
    steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    spec = chapter.run(weights, seed=settings.seed, steps=steps)
    parts = build_run(spec, images, labels, settings.device)

    def train_fn(net: torch.nn.Module) -> Trainer:
        trainer = parts.trainer()
        trainer.fit()
        return trainer

    meta = {
        "loss_weights": weights.to_dict(),
        "steps": steps,
        "batch_size": chapter.batch_size,
    }
    return train_or_load(settings, f"toroidal/{name}", parts.model, train_fn, meta=meta)


def fit_digit_judge(
    settings: RunSettings,
    chapter: ToroidalChapterConfig,
    images: torch.Tensor,
    labels: torch.Tensor,
) -> Run:
    """The chapter's digit judge, trained on the real training digits
    (:meth:`ToroidalChapterConfig.judge_run` built by :func:`~lib.toroidal.runs.build_run`)
    or loaded (``toroidal/digit_judge``): a :class:`~lib.notebook.Run`."""
    steps = settings.pick(full=chapter.judge_steps, quick=chapter.judge_quick_steps)
    spec = chapter.judge_run(seed=settings.seed, steps=steps)
    parts = build_run(spec, images, labels, settings.device)

    def train_fn(net: torch.nn.Module) -> Trainer:
        trainer = parts.trainer()
        trainer.fit()
        return trainer

    meta = {"steps": steps, "batch_size": chapter.batch_size}
    return train_or_load(
        settings, "toroidal/digit_judge", parts.model, train_fn, meta=meta
    )
