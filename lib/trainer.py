"""A small generic trainer: boilerplate that fits any model of the book (after minGPT's Trainer).

The trainer knows no paper. A chapter gives it

- ``model``: an ``nn.Module``;
- ``loss_fn(model, batch) -> loss`` or ``(loss, parts)``, where ``parts`` maps names to scalar
  tensors logged beside the loss (e.g. reconstruction and regulariser); the total is recorded
  as ``loss``, so no part may take that name;
- ``batch_fn(step) -> batch``: where batches come from. :class:`TensorSampler` draws shuffled
  minibatches from tensors that already sit on the device; a synthetic generator is a lambda.

It runs ``config.steps`` optimisation steps with a ``tqdm.auto`` progress bar, records the loss
history, calls callbacks, stops with :class:`NonFiniteLossError` when the loss is NaN or inf, and can
be saved and resumed exactly (model, optimizer, sampler state and history).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .checkpoint import checkpoint_paths, load_checkpoint, save_checkpoint
from .config import BaseConfig, env_flag
from .errors import (
    ConfigError,
    NonFiniteLossError,
    ParameterError,
    check_integer,
    check_real,
)
from .scale import GraphedStep, StackedModels

LossOutput = torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]


def takes_step(loss_fn: Callable[..., Any]) -> bool:
    """Whether ``loss_fn`` declares a ``step`` parameter: the trainer then passes the
    optimiser step explicitly, ``loss_fn(model, batch, step=...)``."""
    import inspect

    try:
        return "step" in inspect.signature(loss_fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def _progress_default() -> bool:
    # Executed copies of the notebooks (papermill, nbval, the book) get no bar: a widget bar would
    # be stored in the notebook and render as an empty box in the static book.
    return not env_flag("BOOK_NO_PROGRESS")


SCHEDULES = ("constant", "cosine")


@dataclass
class TrainerConfig(BaseConfig):
    """Defaults in one place. ``steps`` counts optimiser steps, not epochs. A branch of every
    run spec (``lib.<paper>.runs``), so a run's optimiser settings live in one config tree."""

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
    # Paper-scale runs on a GPU (lib.scale): read the losses back every N steps instead of
    # every step (a wait for the device each time), and record the step as a CUDA graph.
    # A non-finite loss is then found at the next read, and named with its step.
    log_every: int = 1
    cuda_graph: bool = False  # ignored on a CPU

    def __post_init__(self) -> None:
        # (BaseConfig has checked the fields' types first: e.g. lr=inf, steps=True)
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
        if self.log_every < 1:
            raise ValueError(f"log_every must be >= 1, got {self.log_every!r}")
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
        self._order_on_device: torch.Tensor | None = None
        self._pos = 0

    def __call__(self, step: int) -> tuple[torch.Tensor, ...] | torch.Tensor:
        if self._pos + self.batch_size > self.n:  # new epoch; drop the ragged tail
            self._order = torch.randperm(self.n, generator=self.generator)
            self._order_on_device = None
            self._pos = 0
        if self._order_on_device is None:
            # one copy per epoch: a copy per step would make the host wait for the GPU
            self._order_on_device = self._order.to(self.tensors[0].device)
        idx = self._order_on_device[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
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
        self._order_on_device = None


def _unpack(out: LossOutput) -> tuple[torch.Tensor, dict[str, Any]]:
    """``(total, parts)`` of a loss; the total is recorded as ``loss``, so no part may be."""
    loss, parts = out if isinstance(out, tuple) else (out, {})
    if "loss" in parts:
        raise ParameterError(
            "a loss part is named 'loss'; the trainer records the total under that name, "
            "so name the part otherwise"
        )
    return loss, parts


def rng_state() -> dict[str, Any]:
    """torch's global random states (CPU, and every GPU's), for a checkpoint."""
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` saved (the GPU states only where GPUs are visible)."""
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


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
        graph_key: Callable[[int], Hashable] | None = None,
    ) -> None:
        self.model, self.loss_fn, self.batch_fn = model, loss_fn, batch_fn
        # a loss that declares a ``step`` parameter (a schedule inside the loss) gets the
        # optimiser step passed explicitly: loss_fn(model, batch, step=...)
        self._loss_takes_step = takes_step(loss_fn)
        self.config = config or TrainerConfig()
        first = next(model.parameters(), None)
        self.device = first.device if first is not None else torch.device("cpu")
        # a graph needs an Adam whose step counter and learning rate live on the GPU
        # (capturable; the schedule then writes the rate into that tensor)
        graphed = self.config.cuda_graph and self.device.type == "cuda"
        fast_adam = {"capturable": True, "fused": True} if graphed else {}
        lr: float | torch.Tensor = self.config.lr
        if graphed:
            lr = torch.tensor(self.config.lr, device=self.device)
        self.optimizer = optimizer or torch.optim.Adam(
            model.parameters(),
            lr=lr,
            betas=self.config.betas,
            weight_decay=self.config.weight_decay,
            **fast_adam,
        )
        self._optimizer_mode = [
            {k: g[k] for k in ("lr", "capturable", "fused") if k in g}
            for g in self.optimizer.param_groups
        ]
        if self.config.grad_clip is not None and isinstance(model, StackedModels):
            raise ConfigError(
                "grad_clip with StackedModels would clip all seeds by one norm and tie them "
                "together; clip each seed's loss instead, or train the seeds apart"
            )
        # graph_key(step): what else than the batch's tensors decides the recorded step (a
        # schedule's epoch); a new key records the graph again
        self.graph_key = graph_key
        self._graphed: GraphedStep | None = None
        self._graph_pointers: list[int] = []
        self.step = 0
        self._target = self.config.steps  # of the fit under way
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

    def fit(
        self, steps: int | None = None, max_seconds: float | None = None
    ) -> dict[str, list[float]]:
        """Run until ``steps`` (default ``config.steps``) total steps, or for at most
        ``max_seconds``; return the history."""
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
        self._fit_steps(target, bar, start, max_seconds)
        bar.close()
        self.seconds += time.perf_counter() - start
        self.model.eval()
        self._run_callbacks("on_fit_end")
        return dict(self.history)

    def _loss(self, batch: Any) -> LossOutput:
        if self._loss_takes_step:
            return self.loss_fn(self.model, batch, step=self.step)
        return self.loss_fn(self.model, batch)

    def _update(self, loss: torch.Tensor) -> None:
        """Backward, clip, optimiser step: the weights change here."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(
                self.model.parameters(), self.config.grad_clip
            )
        self.optimizer.step()

    @staticmethod
    def _record(
        loss: torch.Tensor, parts: dict[str, Any]
    ) -> tuple[torch.Tensor, tuple[str, ...], dict]:
        """The step's loss and tensor parts as one tensor on the device (read back later),
        and its parts that are plain numbers."""
        names = tuple(n for n, v in parts.items() if torch.is_tensor(v))
        numbers = {n: float(v) for n, v in parts.items() if not torch.is_tensor(v)}
        values = [loss.detach()] + [parts[n].detach() for n in names]
        # float64: exact for float32 losses and for float64 ones (a float32 record would
        # round a float64 loss)
        record = torch.stack([v.reshape(()).double() for v in values])  # (1 + parts,)
        return record, names, numbers

    def _one_step(self, batch: Any) -> tuple[torch.Tensor, tuple[str, ...], dict]:
        """Forward, backward, optimiser step; the loss and tensor parts stay on the device
        (the step :class:`~lib.scale.GraphedStep` records)."""
        loss, parts = _unpack(self._loss(batch))
        self._update(loss)
        return self._record(loss, parts)

    def _set_rate(self, step: int) -> None:
        cfg = self.config
        if cfg.schedule != "constant" or cfg.warmup_steps:
            for group in self.optimizer.param_groups:
                if torch.is_tensor(group["lr"]):  # read by the recorded graph
                    group["lr"].fill_(self.lr_at(step))
                else:
                    group["lr"] = self.lr_at(step)

    def _fit_steps(
        self, target: int, bar: Any, start: float, max_seconds: float | None
    ) -> None:
        """The one step loop. With ``log_every`` 1 and no graph each step's loss is read
        back and checked before the weights change; otherwise the losses stay on the device
        and are read back every ``log_every`` steps (lib.scale), the whole step recorded as
        a CUDA graph when ``cuda_graph`` asks (on a GPU)."""
        cfg = self.config
        self._target = target
        graphed = self._graphed_step() if cfg.cuda_graph else None
        check_first = cfg.log_every == 1 and graphed is None
        pending: list[tuple[int, torch.Tensor, tuple[str, ...], dict]] = []
        while self.step < target:
            if max_seconds is not None and time.perf_counter() - start >= max_seconds:
                break
            batch = self.batch_fn(self.step)
            self._set_rate(self.step)
            if graphed is not None:
                record, names, numbers = graphed(batch)
                if (
                    graphed.enabled
                ):  # the graph's output is rewritten by the next replay
                    record = record.clone()
            else:
                loss, parts = _unpack(self._loss(batch))
                record, names, numbers = self._record(loss, parts)
                if check_first:  # read back now: a bad loss never reaches the weights
                    self._flush([(self.step, record, names, numbers)], bar, early=True)
                self._update(loss)
            if not check_first:
                pending.append((self.step, record, names, numbers))
            self.step += 1
            bar.update(1)
            if len(pending) >= cfg.log_every or self.step == target:
                self._flush(pending, bar)
            self._run_callbacks("on_step_end")
        self._flush(pending, bar)

    def _graphed_step(self) -> GraphedStep:
        """The step recorded as a CUDA graph (recorded again when the weights moved)."""
        pointers = [p.data_ptr() for p in self.model.parameters()]
        if pointers != self._graph_pointers:  # e.g. model.to(): record anew
            self._graphed, self._graph_pointers = None, pointers
        if self._graphed is None:
            key = self.graph_key
            self._graphed = GraphedStep(
                self._one_step,
                self.device,
                None if key is None else lambda batch: key(self.step),
            )
        return self._graphed

    def _flush(self, pending: list, bar: Any, early: bool = False) -> None:
        """Bring the pending losses to the host, check them, append them to the history.
        ``early``: one step read back before its weights change (a bad loss is then named
        before it has done any harm)."""
        if not pending:
            return
        rows = torch.stack([r for _, r, _, _ in pending]).cpu().tolist()
        for (step, _, names, numbers), row in zip(pending, rows, strict=True):
            if not math.isfinite(row[0]):
                detail = ", ".join(f"{n}={v:.4g}" for n, v in zip(names, row[1:]))
                detail += "".join(f", {n}={v:.4g}" for n, v in numbers.items())
                pending.clear()
                self.step = step  # the history ends before it
                where = (
                    ""
                    if early
                    else "; the weights took up to log_every steps after it and are "
                    "unusable (resume from the last checkpoint)"
                )
                bar.close()
                raise NonFiniteLossError(
                    f"loss became {row[0]} at step {step}"
                    + (f" ({detail.lstrip(', ')})" if detail else "")
                    + where
                    + "; lower the learning rate, clip gradients (grad_clip) or check "
                    "the data"
                )
            self.history["loss"].append(row[0])
            for name, value in zip(names, row[1:], strict=True):
                self.history[name].append(value)
            for name, value in numbers.items():
                self.history[name].append(value)
        last = pending[-1][0] + 1
        if not early or last % 20 == 0 or last == self._target:
            bar.set_postfix(loss=f"{rows[-1][0]:.4g}")
        if self.config.print_every:
            for step, *_ in pending:
                if (step + 1) % self.config.print_every == 0:
                    print(
                        f"step {step + 1:>6d}  loss {rows[step - pending[0][0]][0]:.5g}"
                    )
        pending.clear()

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
        history_in_json: bool = True,
    ) -> Path:
        """Save model, optimizer, sampler state and history so that :meth:`resume` continues
        exactly. ``history_in_json=False`` (long runs, :func:`lib.trainer.resumable_fit`) keeps
        the history as float64 tensors in the weights file, not as text in the JSON: at the
        paper's budget it holds tens of millions of numbers."""
        extra: dict[str, Any] = {"rng": rng_state()}
        if hasattr(self.batch_fn, "state_dict"):
            extra["sampler"] = self.batch_fn.state_dict()
        if hasattr(self.loss_fn, "state_dict"):  # a loss's own noise generator
            extra["loss"] = self.loss_fn.state_dict()
        history: dict[str, list[float]] = dict(self.history)
        if not history_in_json:
            extra["history"] = {
                k: torch.tensor(v, dtype=torch.float64) for k, v in history.items()
            }
            history = {}
        meta = {
            "trainer_config": asdict(self.config),
            "seconds": self.seconds,
            **(meta or {}),
        }
        return save_checkpoint(
            path,
            self.model,
            model_config,
            history=history,
            meta=meta,
            optimizer=self.optimizer,
            extra_state=extra,
            step=self.step,
        )

    def _restore_optimizer_mode(self) -> None:
        """Give the loaded optimiser this trainer's mode back: ``load_state_dict`` takes the
        saved groups' ``capturable``, ``fused`` and rate, so a checkpoint of a plain run
        resumed by a graphed trainer (or the other way round) would run in the wrong mode."""
        for group, mode in zip(
            self.optimizer.param_groups, self._optimizer_mode, strict=True
        ):
            for key, value in mode.items():
                if key != "lr":
                    group[key] = value
            rate = float(group["lr"])
            group["lr"] = (
                torch.tensor(rate, device=self.device)
                if torch.is_tensor(mode["lr"])
                else rate
            )
            if group.get("capturable") or group.get("fused"):  # counters on the device
                for p in group["params"]:
                    state = self.optimizer.state.get(p, {})
                    if torch.is_tensor(state.get("step")):
                        state["step"] = state["step"].to(p.device, torch.float32)

    def resume(
        self, path: str | Path, model_config: dict[str, Any] | None = None
    ) -> None:
        """Load a checkpoint written by :meth:`save` into this trainer (model must match)."""
        ckpt = load_checkpoint(path, self.model, expected_config=model_config)
        if ckpt.optimizer_state is not None:
            self.optimizer.load_state_dict(ckpt.optimizer_state)
            self._restore_optimizer_mode()
        if (
            ckpt.extra_state
            and "sampler" in ckpt.extra_state
            and hasattr(self.batch_fn, "load_state_dict")
        ):
            self.batch_fn.load_state_dict(ckpt.extra_state["sampler"])
        if ckpt.extra_state and "rng" in ckpt.extra_state:
            set_rng_state(ckpt.extra_state["rng"])
        if (
            ckpt.extra_state
            and "loss" in ckpt.extra_state
            and hasattr(self.loss_fn, "load_state_dict")
        ):
            self.loss_fn.load_state_dict(ckpt.extra_state["loss"])
        self._graphed = None  # the optimiser's tensors are new: record the step again
        self.step = ckpt.step
        history = ckpt.history
        if ckpt.extra_state and "history" in ckpt.extra_state:  # a long run's
            history = {k: v.tolist() for k, v in ckpt.extra_state["history"].items()}
        self.history = defaultdict(list, {k: list(v) for k, v in history.items()})
        self.seconds = float(ckpt.meta.get("seconds", 0.0))


def resumable_fit(
    trainer: Trainer,
    path: str | Path,
    model_config: dict[str, Any],
    *,
    steps: int | None = None,
    checkpoint_minutes: float = 5.0,
    max_minutes: float | None = None,
    meta: dict[str, Any] | None = None,
    checkpoint_steps: int | None = None,
    max_steps: int | None = None,
    resume: bool = True,
) -> bool:
    """Train ``trainer`` to ``steps`` (default its config's) in sittings; True when done.

    Resumes from ``path`` when its checkpoint exists; writes the checkpoint every
    ``checkpoint_minutes`` (or every ``checkpoint_steps`` steps, e.g. in tests) and when it
    stops: at the budget, or when ``max_minutes`` of this sitting are spent (False; run again
    to go on), or when it has trained ``max_steps`` steps in this sitting (False). A resumed
    run is the same run: weights, optimiser, step, history, the RNG states and the batch
    source's state all come back (:meth:`lib.trainer.Trainer.resume`). ``model_config`` is
    the run's identity: a checkpoint written with another one is refused. ``resume=False``:
    the caller has resumed ``trainer`` already (or knows it is at the checkpoint's state), so
    the checkpoint is not read again.
    """
    target = trainer.config.steps if steps is None else steps
    check_integer("steps", target, minimum=0)
    check_real("checkpoint_minutes", checkpoint_minutes, 0.0, strict=True)
    if max_minutes is not None:
        check_real("max_minutes", max_minutes, 0.0, strict=True)
    if checkpoint_steps is not None:
        check_integer("checkpoint_steps", checkpoint_steps, minimum=1)
    if max_steps is not None:
        check_integer("max_steps", max_steps, minimum=1)
    weights, _ = checkpoint_paths(path)
    if resume and weights.is_file():
        trainer.resume(path, model_config)
    if trainer.step > target:
        raise ConfigError(
            f"the checkpoint at {path} is at step {trainer.step}, past the budget {target}"
        )
    start = time.monotonic()
    if max_steps is not None:
        target_now = min(target, trainer.step + max_steps)
    else:
        target_now = target
    while trainer.step < target_now:
        left = None
        if max_minutes is not None:
            left = 60 * max_minutes - (time.monotonic() - start)
            if left <= 0:
                break
        chunk_seconds = 60 * checkpoint_minutes
        if left is not None:
            chunk_seconds = min(chunk_seconds, left)
        stop_at = target_now
        if checkpoint_steps is not None:
            stop_at = min(target_now, trainer.step + checkpoint_steps)
        trainer.fit(stop_at, max_seconds=chunk_seconds)
        trainer.save(path, model_config, meta, history_in_json=False)
    return trainer.step >= target
