"""Paper-scale training on one machine: batched seeds, a step captured as a CUDA graph, runs
that resume. Knows no paper; the chapters' recipes put it to work (``experiments/reproduce.py``).

A training step of the book's models is small: on a GPU it waits on Python and kernel launches,
not on arithmetic. Two levers feed the device instead:

- :class:`StackedModels`: S models of one architecture (S seeds) held as one module whose
  parameters are stacked along a new first dimension (S, ...). The seeds run either on S CUDA
  streams (``batching="streams"``, the default: each seed's small kernels overlap the others'
  on the GPU; each seed computes exactly what it would alone, bit for bit, on a CPU and on
  a GPU with deterministic algorithms (``bench/stream_determinism.py``), unless the loss draws
  random numbers) or through
  ``torch.func.vmap`` (one grouped kernel serves every seed; on an H200 cuDNN runs those
  grouped convolutions slowly). The seeds stay independent: the loss is the sum of the seeds'
  losses, whose gradient with respect to seed s's parameters is seed s's own gradient, and Adam
  acts element by element, so one Adam over the stack is S separate Adams.
  :func:`stacked_loss` turns a ``loss_fn(model, batch)`` into the stack's loss.
- :class:`GraphedStep` (through ``TrainerConfig(cuda_graph=True)``): the whole optimisation step
  (forward, backward, Adam) recorded once as a CUDA graph and replayed, with the batch copied
  into static buffers. On the CPU it is the plain step.

Runs that resume in sittings are :func:`lib.trainer.resumable_fit`, beside the trainer they
drive.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.utils._pytree import tree_map

from lib.errors import ParameterError, check_integer

__all__ = [
    "GraphedStep",
    "StackedBatches",
    "StackedModels",
    "stacked_loss",
]


# --------------------------------------------------------------------------------------------
# several seeds as one batched model
# --------------------------------------------------------------------------------------------
class _Call(nn.Module):
    """Holds ``model`` so that ``functional_call`` can run any ``fn(model, *args)``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(self.model, *args)


BATCHINGS = ("vmap", "streams")


class StackedModels(nn.Module):
    """``models`` (S of one architecture) as one module with parameters stacked (S, ...).

    ``run(fn, *inputs)`` evaluates ``fn(model_s, *inputs_s)`` for every s (tensors in
    ``inputs`` carry the seed dimension first, other values are shared); :meth:`unstack`
    copies the trained parameters back into ``S`` ordinary models. ``batching`` says how:

    - ``"vmap"``: at once, with ``torch.func.vmap`` (a convolution becomes one grouped
      convolution over the seeds);
    - ``"streams"``: seed by seed on slices of the stacked parameters, each seed on its own
      CUDA stream, so that the GPU runs the seeds' small kernels side by side (and a CUDA
      graph recorded over the step keeps them as parallel branches). On a CPU it is a loop,
      and each seed computes exactly what it would alone (a loss that draws random numbers
      aside: seed s takes the s-th draw).
    """

    def __init__(self, models: list[nn.Module], batching: str = "streams") -> None:
        super().__init__()
        if batching not in BATCHINGS:
            raise ParameterError(
                f"batching must be one of {BATCHINGS}, got {batching!r}"
            )
        self.batching = batching
        self._streams: list[torch.cuda.Stream] = []
        if not isinstance(models, (list, tuple)) or not models:
            raise ParameterError("models must be a non-empty list of nn.Module")
        kinds = {type(m) for m in models}
        if len(kinds) != 1 or not isinstance(models[0], nn.Module):
            raise ParameterError(
                f"models must share one architecture, got {sorted(k.__name__ for k in kinds)}"
            )
        shapes = [{k: v.shape for k, v in m.state_dict().items()} for m in models]
        if any(s != shapes[0] for s in shapes[1:]):
            raise ParameterError(
                "models must have the same parameter shapes (one config)"
            )
        configs = [getattr(m, "config", None) for m in models]
        if any(c != configs[0] for c in configs[1:]):
            # one model's forward runs every seed: another config (a slope, a loss
            # option) would run silently with the first seed's
            raise ParameterError(
                "models must share one config; they differ: "
                f"{configs[0]!r} and {next(c for c in configs if c != configs[0])!r}"
            )
        wrapped = [_Call(m) for m in models]
        params, buffers = stack_module_state(wrapped)  # name -> (S, ...)
        self.count = len(models)
        self.names = list(params)
        self.buffer_names = list(buffers)
        self.stacked = nn.ParameterList(
            nn.Parameter(params[n].detach().clone()) for n in self.names
        )
        for i, n in enumerate(self.buffer_names):
            self.register_buffer(f"buffer_{i}", buffers[n].clone())
        # the architecture without storage: functional_call supplies the tensors
        self._template = [copy.deepcopy(wrapped[0]).to("meta")]

    def _buffers_dict(self) -> dict[str, torch.Tensor]:
        return {
            n: getattr(self, f"buffer_{i}") for i, n in enumerate(self.buffer_names)
        }

    def run(self, fn: Callable[..., Any], *inputs: Any) -> Any:
        """``fn(model, *inputs)`` for every model at once; tensors in ``inputs`` are (S, ...).

        Random draws inside ``fn`` differ between the seeds (``randomness="different"``; on
        streams, seed s takes the s-th draw from the global generator). The models run in
        this module's mode (``train()`` or ``eval()``).
        """
        tensor_at = [i for i, x in enumerate(inputs) if torch.is_tensor(x)]
        for i in tensor_at:
            if inputs[i].dim() == 0 or inputs[i].shape[0] != self.count:
                raise ParameterError(
                    f"input {i} must have the seed dimension first ({self.count}), got "
                    f"shape {tuple(inputs[i].shape)}"
                )
        template = self._template[0]
        template.train(self.training)  # held outside the module tree: eval() misses it
        if self.batching == "streams":
            return self._run_on_streams(fn, inputs, tensor_at)

        def one(params, buffers, *tensors):
            args = list(inputs)
            for i, t in zip(tensor_at, tensors, strict=True):
                args[i] = t
            return functional_call(template, (params, buffers), (fn, *args))

        params = dict(zip(self.names, self.stacked, strict=True))
        return vmap(one, randomness="different")(
            params, self._buffers_dict(), *(inputs[i] for i in tensor_at)
        )

    def _run_on_streams(
        self, fn: Callable[..., Any], inputs: tuple[Any, ...], tensor_at: list[int]
    ) -> Any:
        template = self._template[0]
        # unbind on the caller's stream: its backward (one stack per parameter) then
        # waits for every seed's gradient there
        params = [p.unbind(0) for p in self.stacked]
        buffers = [b.unbind(0) for b in self._buffers_dict().values()]
        sliced = [x.unbind(0) if torch.is_tensor(x) else None for x in inputs]
        device = self.stacked[0].device
        on_gpu = device.type == "cuda"
        caller = torch.cuda.current_stream(device) if on_gpu else None
        if on_gpu and (
            len(self._streams) != self.count or self._streams[0].device != device
        ):
            self._streams = [torch.cuda.Stream(device) for _ in range(self.count)]
        outs = []
        for s in range(self.count):
            args = [sliced[i][s] if i in tensor_at else x for i, x in enumerate(inputs)]
            state = {n: p[s] for n, p in zip(self.names, params, strict=True)}
            state.update(
                {n: b[s] for n, b in zip(self.buffer_names, buffers, strict=True)}
            )
            if not on_gpu:
                outs.append(functional_call(template, state, (fn, *args)))
                continue
            stream = self._streams[s]
            stream.wait_stream(
                caller
            )  # fork from the caller (a graph capture included)
            for i in tensor_at:  # read on this stream, allocated on the caller's
                inputs[i].record_stream(stream)
            with torch.cuda.stream(stream):
                outs.append(functional_call(template, state, (fn, *args)))
        if on_gpu:
            for stream in self._streams:
                caller.wait_stream(stream)  # join
        stacked = tree_map(_stack_seeds, *outs)
        if on_gpu:  # made on the seeds' streams, used on the caller's
            for out in outs:
                tree_map(
                    lambda x: x.record_stream(caller) if torch.is_tensor(x) else x, out
                )
        return stacked

    def unstack(self, models: list[nn.Module]) -> list[nn.Module]:
        """Copy seed s's parameters and buffers into ``models[s]``; return ``models``."""
        if len(models) != self.count:
            raise ParameterError(
                f"need {self.count} models to unstack into, got {len(models)}"
            )
        prefix = "model."
        stacked = dict(zip(self.names, self.stacked, strict=True))
        stacked.update(self._buffers_dict())
        for s, model in enumerate(models):
            state = {
                k[len(prefix) :]: v[s].detach().clone() for k, v in stacked.items()
            }
            model.load_state_dict(state)
        return models


def _stack_seeds(*values: Any) -> Any:
    if torch.is_tensor(values[0]):
        return torch.stack(values)
    if any(v != values[0] for v in values[1:]):
        raise ParameterError(
            f"a value fn returns is not a tensor and differs between the seeds: {values}"
        )
    return values[0]


def _split_batch(batch: Any) -> tuple[Callable[[list[Any]], Any], list[Any]]:
    """A batch (a tensor, a tuple or a NamedTuple) as fields and a function rebuilding it."""
    if torch.is_tensor(batch):
        return (lambda fields: fields[0]), [batch]
    if isinstance(batch, tuple):
        if hasattr(batch, "_fields"):  # a NamedTuple
            return (lambda fields: type(batch)(*fields)), list(batch)
        return tuple, list(batch)
    raise ParameterError(
        f"a stacked batch must be a tensor or a tuple of fields, got {type(batch).__name__}"
    )


def stacked_loss(
    loss_fn: Callable[..., Any],
) -> Callable[..., tuple[torch.Tensor, dict[str, Any]]]:
    """The loss of a :class:`StackedModels` from one model's ``loss_fn(model, batch)``.

    The batch's tensors carry the seed dimension first; its other fields are shared; a step
    is passed on to a ``loss_fn`` that declares one.
    Returns ``(total, parts)``: the total is the sum of the seeds' losses (so each seed gets
    its own gradient); ``parts`` holds ``loss/s`` and ``name/s`` for each tensor part of each
    seed s, and a number part (a schedule's weight, the same for all seeds) once.
    """

    from .trainer import takes_step  # the trainer's rule; it imports this module

    with_step = takes_step(loss_fn)

    def loss(
        stack: StackedModels, batch: Any, step: int | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        rebuild, fields = _split_batch(batch)
        numbers: dict[str, float] = {}

        def one(model: nn.Module, *fields_s: Any):
            batch_s = rebuild(list(fields_s))
            out = (
                loss_fn(model, batch_s, step=step)
                if with_step
                else loss_fn(model, batch_s)
            )
            total, parts = out if isinstance(out, tuple) else (out, {})
            tensors = {}
            if "loss" in parts:
                raise ParameterError(
                    "a loss part is named 'loss'; the trainer records the total under "
                    "that name, so name the part otherwise"
                )
            for name, value in parts.items():
                if torch.is_tensor(value):
                    tensors[name] = value
                else:
                    numbers[name] = float(value)
            return total, tensors

        totals, tensor_parts = stack.run(one, *fields)  # (S,), {name: (S,)}
        parts: dict[str, Any] = {}
        for s in range(stack.count):
            parts[f"loss/{s}"] = totals[s].detach()
            for name, value in tensor_parts.items():
                parts[f"{name}/{s}"] = value[s].detach()
        parts.update(numbers)
        return totals.sum(), parts

    return loss


class StackedBatches:
    """One batch source per seed as one source of stacked batches (for :class:`StackedModels`).

    ``batch(step)`` calls every seed's ``batch_fn(step)`` and stacks each tensor field along a
    new first dimension (a tensor batch, a tuple or a NamedTuple; other fields must agree and
    are kept once). Its state is the list of the sources' states (those that have one).
    """

    def __init__(self, batch_fns: list[Callable[[int], Any]]) -> None:
        if not isinstance(batch_fns, (list, tuple)) or not batch_fns:
            raise ParameterError("batch_fns must be a non-empty list of batch sources")
        self.batch_fns = list(batch_fns)

    def __call__(self, step: int) -> Any:
        batches = [fn(step) for fn in self.batch_fns]
        rebuild, first = _split_batch(batches[0])
        columns = [_split_batch(b)[1] for b in batches]
        fields = []
        for i, value in enumerate(first):
            if torch.is_tensor(value):
                fields.append(torch.stack([c[i] for c in columns]))
            else:
                if any(c[i] != value for c in columns):
                    raise ParameterError(
                        f"field {i} of the seeds' batches differs and is not a tensor"
                    )
                fields.append(value)
        return rebuild(fields)

    def state_dict(self) -> dict[str, Any]:
        return {
            "sources": [
                fn.state_dict() if hasattr(fn, "state_dict") else None
                for fn in self.batch_fns
            ]
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for fn, saved in zip(self.batch_fns, state["sources"], strict=True):
            if saved is not None:
                fn.load_state_dict(saved)


# --------------------------------------------------------------------------------------------
# a step recorded once as a CUDA graph
# --------------------------------------------------------------------------------------------
def _tensors_of(batch: Any) -> list[torch.Tensor]:
    if torch.is_tensor(batch):
        return [batch]
    if isinstance(batch, tuple):
        return [x for x in batch if torch.is_tensor(x)]
    raise ParameterError(
        f"a graphed batch must be a tensor or a tuple of fields, got {type(batch).__name__}"
    )


_NO_KEY = object()


class GraphedStep:
    """``step_fn(batch)`` captured as a CUDA graph on first use, then replayed.

    ``step_fn`` runs one whole optimisation step (zero the gradients with ``set_to_none=True``,
    forward, backward, optimiser step; Adam built with ``capturable=True``) and returns tensors.
    A replay reruns exactly the recorded kernels on new data copied into the recorded batch's
    buffers, so everything that is not a tensor of the batch is frozen at capture: when such a
    value changes the step (a schedule's epoch), ``key_fn(batch)`` must change, and the step is
    recorded again. Before each capture ``warmup`` steps run eagerly on a side stream (real
    steps, counted as such), as CUDA graphs need. On a CPU or MPS device it calls ``step_fn``.
    """

    def __init__(
        self,
        step_fn: Callable[[Any], Any],
        device: torch.device,
        key_fn: Callable[[Any], Hashable] | None = None,
        warmup: int = 3,
    ) -> None:
        check_integer("warmup", warmup, minimum=1)
        self.step_fn, self.device, self.key_fn, self.warmup = (
            step_fn,
            torch.device(device),
            key_fn,
            warmup,
        )
        self.enabled = self.device.type == "cuda"
        self.graph: torch.cuda.CUDAGraph | None = None
        self.key: Hashable = _NO_KEY
        self.eager_left = warmup
        self.captures = 0
        self._static: list[torch.Tensor] = []
        self._outputs: Any = None

    def __call__(self, batch: Any) -> Any:
        if not self.enabled:
            return self.step_fn(batch)
        key = self.key_fn(batch) if self.key_fn is not None else None
        if self.graph is None and key == self.key and self.eager_left == 0:
            pass  # warmed up for this key: capture below
        elif key != self.key:  # a new key (or the first call): warm up, then record
            self.graph, self._outputs, self.key = None, None, key
            self.eager_left = self.warmup
        if self.graph is None and self.eager_left > 0:
            self.eager_left -= 1
            side = torch.cuda.Stream(self.device)
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                out = self.step_fn(batch)
            torch.cuda.current_stream(self.device).wait_stream(side)
            return out
        tensors = _tensors_of(batch)
        if self.graph is None:
            self._static = [t.clone() for t in tensors]
            static_batch = _replace_tensors(batch, self._static)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):  # records; runs nothing
                self._outputs = self.step_fn(static_batch)
            self.graph = graph
            self.captures += 1
        if len(tensors) != len(self._static) or any(
            t.shape != s.shape for t, s in zip(tensors, self._static, strict=True)
        ):
            raise ParameterError(
                "a graphed step needs batches of one shape; got "
                f"{[tuple(t.shape) for t in tensors]} after {[tuple(s.shape) for s in self._static]}"
            )
        for static, new in zip(self._static, tensors, strict=True):
            static.copy_(new, non_blocking=True)
        self.graph.replay()
        return self._outputs


def _replace_tensors(batch: Any, tensors: list[torch.Tensor]) -> Any:
    if torch.is_tensor(batch):
        return tensors[0]
    it = iter(tensors)
    fields = [next(it) if torch.is_tensor(x) else x for x in batch]
    return type(batch)(*fields) if hasattr(batch, "_fields") else tuple(fields)
