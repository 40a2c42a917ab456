"""A small generic trainer: boilerplate that fits any model of the book (after minGPT's Trainer).

The trainer knows no paper. A chapter gives it

- ``model``: an ``nn.Module``;
- ``loss_fn(model, batch) -> loss`` or ``(loss, parts)``, where ``parts`` maps names to scalar
  tensors logged beside the loss (e.g. reconstruction and regulariser; a part named ``loss`` is
  ignored, the total is always recorded once per step);
- ``batch_fn(step) -> batch``: where batches come from. :class:`TensorSampler` draws shuffled
  minibatches from tensors that already sit on the device; a synthetic generator is a lambda.

It runs ``config.steps`` optimisation steps with a ``tqdm.auto`` progress bar, records the loss
history, calls callbacks, stops with :class:`NonFiniteLossError` when the loss is NaN or inf, and can
be saved and resumed exactly (model, optimizer, sampler state and history).
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .config import check_field_types
from .errors import NonFiniteLossError, check_integer

LossOutput = torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]


def _progress_default() -> bool:
    # Executed copies of the notebooks (papermill, nbval, the book) get no bar: a widget bar would
    # be stored in the notebook and render as an empty box in the static book.
    return os.environ.get("BOOK_NO_PROGRESS", "") in ("", "0")


SCHEDULES = ("constant", "cosine")


@dataclass
class TrainerConfig:
    """Defaults in one place. ``steps`` counts optimiser steps, not epochs."""

    steps: int = 1000
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float | None = None  # max gradient norm, None = no clipping
    schedule: str = (
        "constant"  # learning rate: "constant" | "cosine" (decays to 0 at `steps`)
    )
    warmup_steps: int = 0  # linear warm-up from lr / warmup_steps to lr
    progress: bool | None = None  # None: on, unless BOOK_NO_PROGRESS=1
    print_every: int = (
        0  # also print a log line every N steps (0 = only a summary at the end)
    )

    def __post_init__(self) -> None:
        check_field_types(self)  # e.g. lr=inf, steps=True
        if not 0 <= self.weight_decay or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(
                f"weight_decay must be >= 0 and betas in [0, 1), got {self.weight_decay!r}, "
                f"{self.betas!r}"
            )
        if self.print_every < 0:
            raise ValueError(f"print_every must be >= 0, got {self.print_every!r}")
        if not isinstance(self.steps, int) or self.steps < 0:
            raise ValueError(
                f"steps must be a non-negative integer, got {self.steps!r}"
            )
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {SCHEDULES}, got {self.schedule!r}"
            )
        if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise ValueError(
                f"warmup_steps must be a non-negative integer, got {self.warmup_steps!r}"
            )
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(
                f"grad_clip must be positive or None, got {self.grad_clip!r}"
            )


class TensorSampler:
    """Shuffled minibatches from tensors that share their first dimension (epoch by epoch).

    The tensors stay where they are (put them on the device first), so a step costs one index
    gather, not a per-sample Python loop. Its state is saved with trainer checkpoints.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, seed: int = 0) -> None:
        if not tensors:
            raise ValueError("TensorSampler needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, torch.Tensor) or t.dim() < 1:
                raise ValueError(
                    f"TensorSampler takes tensors with a first (sample) dimension; "
                    f"argument {i} is {type(t).__name__}"
                )
        check_integer("batch_size", batch_size, minimum=1)
        check_integer("seed", seed, minimum=0)
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            raise ValueError(
                f"all tensors must have the same length, got {[t.shape[0] for t in tensors]}"
            )
        if not 0 < batch_size <= n:
            raise ValueError(
                f"batch_size must be in 1..{n} (the number of samples), got {batch_size}"
            )
        self.tensors, self.n, self.batch_size = tensors, n, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self._order = torch.randperm(n, generator=self.generator)
        self._pos = 0

    def __call__(self, step: int) -> tuple[torch.Tensor, ...] | torch.Tensor:
        if self._pos + self.batch_size > self.n:  # new epoch; drop the ragged tail
            self._order = torch.randperm(self.n, generator=self.generator)
            self._pos = 0
        idx = self._order[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        idx = idx.to(self.tensors[0].device)
        batch = tuple(t[idx] for t in self.tensors)
        return batch[0] if len(batch) == 1 else batch

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.get_state(),
            "order": self._order.clone(),
            "pos": self._pos,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self._order, self._pos = state["order"].clone(), int(state["pos"])


class Trainer:
    """Runs optimisation steps on ``model`` with Adam (or the optimizer you pass)."""

    EVENTS = ("on_step_end", "on_fit_end")

    def __init__(
        self,
        model: torch.nn.Module,
        loss_fn: Callable[[torch.nn.Module, Any], LossOutput],
        batch_fn: Callable[[int], Any],
        config: TrainerConfig | None = None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        self.model, self.loss_fn, self.batch_fn = model, loss_fn, batch_fn
        self.config = config or TrainerConfig()
        self.optimizer = optimizer or torch.optim.Adam(
            model.parameters(),
            lr=self.config.lr,
            betas=self.config.betas,
            weight_decay=self.config.weight_decay,
        )
        self.step = 0
        self.history: dict[str, list[float]] = defaultdict(list)
        self.callbacks: dict[str, list[Callable[[Trainer], None]]] = {
            e: [] for e in self.EVENTS
        }
        self.seconds = 0.0

    def add_callback(self, event: str, fn: Callable[[Trainer], None]) -> None:
        if event not in self.callbacks:
            raise ValueError(f"event must be one of {self.EVENTS}, got {event!r}")
        self.callbacks[event].append(fn)

    def _run_callbacks(self, event: str) -> None:
        for fn in self.callbacks[event]:
            fn(self)

    def lr_at(self, step: int) -> float:
        """The learning rate of step ``step`` (0-based): a function of the step alone.

        No scheduler state to save, so :meth:`resume` continues the schedule exactly.
        """
        cfg = self.config
        factor = 1.0
        if step < cfg.warmup_steps:
            factor = (step + 1) / cfg.warmup_steps
        elif cfg.schedule == "cosine":
            span = max(1, cfg.steps - cfg.warmup_steps)
            progress = min(1.0, (step - cfg.warmup_steps) / span)
            factor = 0.5 * (1.0 + math.cos(math.pi * progress))
        return cfg.lr * factor

    def fit(self, steps: int | None = None) -> dict[str, list[float]]:
        """Run until ``steps`` (default ``config.steps``) total steps; return the history."""
        target = self.config.steps if steps is None else steps
        progress = (
            _progress_default()
            if self.config.progress is None
            else self.config.progress
        )
        self.model.train()
        start = time.perf_counter()
        bar = tqdm(
            total=target,
            initial=self.step,
            disable=not progress,
            desc="training",
            leave=False,
        )
        while self.step < target:
            batch = self.batch_fn(self.step)
            out = self.loss_fn(self.model, batch)
            loss, parts = out if isinstance(out, tuple) else (out, {})
            value = float(loss.detach())
            if not math.isfinite(value):
                bar.close()
                detail = ", ".join(f"{k}={float(v):.4g}" for k, v in parts.items())
                raise NonFiniteLossError(
                    f"loss became {value} at step {self.step}"
                    + (f" ({detail})" if detail else "")
                    + "; lower the learning rate, clip gradients (grad_clip) or check the data"
                )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(
                    self.model.parameters(), self.config.grad_clip
                )
            if self.config.schedule != "constant" or self.config.warmup_steps:
                for group in self.optimizer.param_groups:
                    group["lr"] = self.lr_at(self.step)
            self.optimizer.step()
            self.history["loss"].append(value)
            for name, part in parts.items():
                if (
                    name == "loss"
                ):  # the total is recorded above; a part of the same name would double it
                    continue
                self.history[name].append(
                    float(part.detach()) if torch.is_tensor(part) else float(part)
                )
            self.step += 1
            bar.update(1)
            if self.step % 20 == 0 or self.step == target:
                bar.set_postfix(loss=f"{value:.4g}")
            if self.config.print_every and self.step % self.config.print_every == 0:
                print(f"step {self.step:>6d}  loss {value:.5g}")
            self._run_callbacks("on_step_end")
        bar.close()
        self.seconds += time.perf_counter() - start
        self.model.eval()
        self._run_callbacks("on_fit_end")
        return dict(self.history)

    def summary(self) -> str:
        """One line: steps, time and the final loss (mean of the last 1% of steps)."""
        losses = self.history.get("loss", [])
        if not losses:
            return "no training steps run"
        tail = losses[-max(1, len(losses) // 100) :]
        return f"{self.step} steps in {self.seconds:.1f} s, final loss {sum(tail) / len(tail):.4g}"

    # ---- checkpoints (resumable) ----
    def save(
        self,
        path: str | Path,
        model_config: dict[str, Any],
        meta: dict[str, Any] | None = None,
    ) -> Path:
        """Save model, optimizer, sampler state and history so that :meth:`resume` continues exactly."""
        extra = (
            {"sampler": self.batch_fn.state_dict()}
            if hasattr(self.batch_fn, "state_dict")
            else None
        )
        meta = {
            "trainer_config": asdict(self.config),
            "seconds": self.seconds,
            **(meta or {}),
        }
        return save_checkpoint(
            path,
            self.model,
            model_config,
            history=dict(self.history),
            meta=meta,
            optimizer=self.optimizer,
            extra_state=extra,
            step=self.step,
        )

    def resume(
        self, path: str | Path, model_config: dict[str, Any] | None = None
    ) -> None:
        """Load a checkpoint written by :meth:`save` into this trainer (model must match)."""
        ckpt = load_checkpoint(path, self.model, expected_config=model_config)
        if ckpt.optimizer_state is not None:
            self.optimizer.load_state_dict(ckpt.optimizer_state)
        if (
            ckpt.extra_state
            and "sampler" in ckpt.extra_state
            and hasattr(self.batch_fn, "load_state_dict")
        ):
            self.batch_fn.load_state_dict(ckpt.extra_state["sampler"])
        self.step = ckpt.step
        self.history = defaultdict(list, {k: list(v) for k, v in ckpt.history.items()})
        self.seconds = float(ckpt.meta.get("seconds", 0.0))
