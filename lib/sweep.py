"""Grids of training runs as Ray Tune experiments: one machine by default, a cluster with
``RAY_ADDRESS``. Knows no paper; the chapters' trials put it to work (``experiments/sweep.py``).

A grid is a list of :class:`TrialSpec`: a name, the *trial function* that trains and scores
one member of the grid (``"lib.pmp.recipes:grid_trial"``), and its parameters. A trial function
has the signature ``trial(params: dict, ctx: TrialContext) -> list[dict]``: it builds the
chapter's model and trainer from ``params``, trains with :meth:`TrialContext.fit` (the
resumable long-run code, :func:`lib.trainer.resumable_fit`, writing a checkpoint in the trial's
folder) and returns the record lines it made, in the format the chapter already reads.

- :func:`run_trial` runs one trial in this process: no Ray needed. A trial whose folder holds
  its record is finished and read back; one whose folder holds a checkpoint resumes from it
  (weights, Adam, step, history, random states, the batch source: the same numbers as an
  uninterrupted run on the same machine and thread count).
- :func:`run_sweep` runs every trial of a grid through Ray Tune (``pip install .[sweep]``),
  each with the stated :class:`Resources` (CPU threads, a GPU or a fraction of one), so that
  Ray packs as many trials side by side as the machine holds. Locally it starts an embedded
  Ray; with ``RAY_ADDRESS`` (or ``address=``) it joins that cluster. A trial that fails or
  whose process is killed is started again by Tune (``max_failures``) and resumes from its
  checkpoint; running the same sweep again finishes what a killed sweep left.
- :func:`merge_records` puts a sweep's record lines into a shipped record, replacing the
  lines of the same runs; the command does it only when asked (``--update-shipped``).

The trials' folders are ``OUT/trials/<name>/``. On a cluster ``OUT`` must be storage every
node reads and writes (a shared file system), as Ray Tune itself requires for its
``storage_path`` since Ray 2.7.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from lib.checkpoint import checkpoint_paths
from lib.errors import BookError, ConfigError, ParameterError, check_integer, check_real
from lib.files import atomic_write
from lib.records import read_records
from lib.trainer import resumable_fit

__all__ = [
    "Resources",
    "SweepError",
    "TrialContext",
    "TrialSpec",
    "compare_records",
    "merge_records",
    "run_sweep",
    "run_trial",
    "trial_folder",
]

RECORD_FILE = "record.jsonl"  # a finished trial's record lines
POINTS_FILE = "points.jsonl"  # the evaluation points measured so far
SPEC_FILE = "spec.json"  # the parameters the folder's run was started with
ATTEMPTS_FILE = "attempts"  # one line per start of the trial
MADE_BY = "experiments/sweep.py"
CHECKPOINT_NAME = "checkpoint"  # checkpoint/run.pt + .json, lib.trainer.resumable_fit's
INSTALL_HINT = 'Ray Tune is an optional extra: pip install -e ".[sweep]"'


class SweepError(BookError, RuntimeError):
    """A sweep that could not finish every trial (the message names them and why)."""


@dataclass(frozen=True)
class TrialSpec:
    """One member of a grid: ``name`` (its folder, unique in the grid), ``trial`` (the
    function, ``"package.module:function"``) and ``params`` (JSON values)."""

    name: str
    trial: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(
                f"a trial's name must be a non-empty string, got {self.name!r}"
            )
        if any(c in self.name for c in "/\\") or self.name.startswith("."):
            raise ParameterError(f"a trial's name is a folder name, got {self.name!r}")
        if not isinstance(self.trial, str) or self.trial.count(":") != 1:
            raise ParameterError(
                f"trial must be 'package.module:function', got {self.trial!r}"
            )
        if not isinstance(self.params, dict):
            raise ParameterError(
                f"params must be a dict, got {type(self.params).__name__}"
            )
        try:
            json.dumps(self.params)
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"params of {self.name!r} must be JSON values: {exc}"
            ) from None


@dataclass(frozen=True)
class Resources:
    """What one trial holds: ``threads`` CPU threads (torch's, and Ray's CPU count) and
    ``gpu`` GPUs (0: the trial trains on the CPU; 0.25: four trials share one GPU)."""

    threads: int = 1
    gpu: float = 0.0

    def __post_init__(self) -> None:
        check_integer("threads", self.threads, minimum=1)
        check_real("gpu", self.gpu, 0.0)
        if self.gpu > 1 and self.gpu != int(self.gpu):
            raise ParameterError(f"gpu above 1 must be a whole number, got {self.gpu}")

    @property
    def device(self) -> str:
        return "cuda" if self.gpu > 0 else "cpu"

    def ray(self) -> dict[str, float]:
        """Ray's resource request for one trial."""
        return {"cpu": self.threads, "gpu": self.gpu}


def trial_folder(out: str | Path, name: str) -> Path:
    """Where trial ``name`` of the sweep writing to ``out`` keeps its checkpoint and record."""
    return Path(out) / "trials" / name


class TrialContext:
    """What a trial function gets: its ``folder``, ``device`` and ``threads``, and :meth:`fit`.

    ``report(metrics)`` is Tune's (or nothing, in this process): :meth:`fit` reports the step
    and the recent loss every ``report_every`` steps, and the trial function its own
    measurements with :meth:`report`. ``checkpoint_minutes`` / ``checkpoint_steps``: how often
    :meth:`fit` writes the checkpoint. ``interrupt_at_step`` stops the trial once at that step
    (fault injection, to see a trial resume): ``interrupt="kill"`` kills its process with
    SIGKILL, ``"raise"`` raises :class:`KeyboardInterrupt` (in-process tests).
    """

    def __init__(
        self,
        folder: str | Path,
        resources: Resources | None = None,
        report: Callable[[dict[str, Any]], None] | None = None,
        *,
        checkpoint_minutes: float = 5.0,
        checkpoint_steps: int | None = None,
        report_every: int = 500,
        interrupt_at_step: int | None = None,
        interrupt: str = "raise",
    ) -> None:
        if not isinstance(folder, (str, Path)):
            raise ParameterError(f"folder must be a path, got {type(folder).__name__}")
        if resources is not None and not isinstance(resources, Resources):
            raise ParameterError(
                f"resources must be a Resources, got {type(resources).__name__}"
            )
        self.folder = Path(folder)
        self.resources = resources or Resources()
        self._report = report
        check_real("checkpoint_minutes", checkpoint_minutes, 0.0, strict=True)
        if checkpoint_steps is not None:
            check_integer("checkpoint_steps", checkpoint_steps, minimum=1)
        check_integer("report_every", report_every, minimum=1)
        if interrupt_at_step is not None:
            check_integer("interrupt_at_step", interrupt_at_step, minimum=1)
        if interrupt not in ("kill", "raise"):
            raise ParameterError(
                f"interrupt must be 'kill' or 'raise', got {interrupt!r}"
            )
        self.checkpoint_minutes = checkpoint_minutes
        self.checkpoint_steps = checkpoint_steps
        self.report_every = report_every
        self.interrupt_at_step = interrupt_at_step
        self.interrupt = interrupt
        self.resumed_from_step: int | None = (
            None  # None: this start found no checkpoint
        )
        self._watched: set[int] = set()
        self._started: set[int] = set()  # trainers resumed (or begun) in this process

    @classmethod
    def options(cls, folder: str | Path, **context: Any) -> TrialContext:
        """A context from keyword options, an unknown one refused with its name."""
        known = {
            "resources",
            "report",
            "checkpoint_minutes",
            "checkpoint_steps",
            "report_every",
            "interrupt_at_step",
            "interrupt",
        }
        unknown = sorted(set(context) - known)
        if unknown:
            raise ParameterError(
                f"unknown trial options {unknown}; known: {sorted(known)}"
            )
        return cls(folder, **context)

    @property
    def device(self) -> torch.device:
        return torch.device(self.resources.device)

    @property
    def threads(self) -> int:
        return self.resources.threads

    @property
    def checkpoint(self) -> Path:
        return self.folder / CHECKPOINT_NAME / "run"

    def report(self, metrics: dict[str, Any]) -> None:
        """Hand ``metrics`` to Tune (scalars only: nested dicts are flattened with '/')."""
        if self._report is not None:
            self._report(flat_scalars(metrics))

    def fit(
        self, trainer: Any, identity: dict[str, Any], steps: int | None = None
    ) -> None:
        """Train ``trainer`` to ``steps`` (default its budget), resuming from this trial's
        checkpoint and writing it as it goes (:func:`lib.trainer.resumable_fit`). ``identity``
        (JSON values) names the run: a checkpoint written with another identity is refused,
        not continued. The checkpoint is read once per process, on the first call."""
        self._watch(trainer)
        if id(trainer) not in self._started:
            self._started.add(id(trainer))
            if all(p.is_file() for p in checkpoint_paths(self.checkpoint)):
                trainer.resume(self.checkpoint, identity)
                self.resumed_from_step = trainer.step
        target = trainer.config.steps if steps is None else steps
        if trainer.step >= target:  # reached before an interruption
            return
        resumable_fit(
            trainer,
            self.checkpoint,
            identity,
            steps=target,
            checkpoint_minutes=self.checkpoint_minutes,
            checkpoint_steps=self.checkpoint_steps,
            resume=False,
        )

    def evaluate(
        self,
        trainer: Any,
        identity: dict[str, Any],
        every: int,
        measure: Callable[[Any], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Train to the budget, calling ``measure(trainer) -> line`` every ``every`` steps
        and at the end; the lines of all sittings, in step order.

        Each line is kept in ``points.jsonl`` as soon as it is measured (the whole file
        rewritten, so a kill leaves the previous one), and a point measured before an
        interruption is not measured again. ``measure`` runs with torch's random states
        saved and restored (``torch.random.fork_rng``), so that measuring draws no number the
        training would have drawn: a run measured at its points and a run resumed between
        them train alike."""
        check_integer("every", every, minimum=1)
        points = self.folder / POINTS_FILE
        lines = _read_points(points)
        done = {line.get("step") for line in lines}
        steps = trainer.config.steps
        gpus = [self.device.index or 0] if self.device.type == "cuda" else []
        for step in range(every, steps + every, every):
            step = min(step, steps)
            self.fit(trainer, identity, steps=step)
            if step in done:  # measured in an earlier sitting
                continue
            with torch.random.fork_rng(devices=gpus):
                line = measure(trainer)
            self.report(line)
            lines.append(line)
            write_lines(points, lines)
        return lines

    def _watch(self, trainer: Any) -> None:
        if id(trainer) in self._watched:
            return
        self._watched.add(id(trainer))
        trainer.add_callback("on_step_end", self._on_step_end)

    def _on_step_end(self, trainer: Any) -> None:
        step = trainer.step
        if step == self.interrupt_at_step:
            marker = self.folder / "interrupted"
            if not marker.exists():  # once: the restarted trial goes past this step
                marker.write_text(f"{step}\n")
                if self.interrupt == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                raise KeyboardInterrupt(f"interrupted at step {step} (fault injection)")
        if step % self.report_every == 0:
            recent = trainer.history.get("loss", [])[-50:]
            loss = sum(recent) / len(recent) if recent else float("nan")
            self.report({"step": step, "loss": loss, "train_seconds": trainer.seconds})


def flat_scalars(
    values: dict[str, Any], prefix: str = ""
) -> dict[str, float | int | str]:
    """Numbers and strings of ``values``, nested dicts flattened (``"val/mse"``), lists of
    numbers indexed (``"val/ks/0"``); what Tune shows in its tables."""
    flat: dict[str, float | int | str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_scalars(value, f"{name}/"))
        elif isinstance(value, (list, tuple)):
            if len(value) <= 16 and all(isinstance(v, (int, float)) for v in value):
                flat.update({f"{name}/{i}": v for i, v in enumerate(value)})
        elif isinstance(value, (bool, int, float, str)) or value is None:
            flat[name] = value if value is not None else "None"
    return flat


def resolve_trial(path: str) -> Callable[[dict[str, Any], TrialContext], list[dict]]:
    """The function ``"package.module:function"`` names."""
    module_name, _, function = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"trial {path!r}: cannot import {module_name!r} ({exc})"
        ) from None
    fn = getattr(module, function, None)
    if not callable(fn):
        raise ConfigError(f"trial {path!r}: {module_name} has no function {function!r}")
    return fn


def _read_points(path: Path) -> list[dict[str, Any]]:
    """The evaluation points kept so far (none when the file is missing)."""
    if not path.is_file():
        return []
    return read_records(path, made_by=MADE_BY, required=("step",))


def write_lines(path: Path, lines: Iterable[dict[str, Any]]) -> None:
    """All or nothing: a kill while writing leaves the previous file (or none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, "".join(json.dumps(line) + "\n" for line in lines))


def run_trial(
    spec: TrialSpec,
    out: str | Path,
    resources: Resources | None = None,
    report: Callable[[dict[str, Any]], None] | None = None,
    **context: Any,
) -> list[dict[str, Any]]:
    """Run ``spec`` in this process and return its record lines (also in its folder).

    A finished trial is read back, not trained again; an interrupted one resumes. A folder
    started with other parameters is refused (:class:`~lib.errors.ConfigError`), so a record
    of another budget is never taken for this one. Each line gets ``sweep_trial`` (the
    name), ``attempt`` (this start's number), ``resumed_from_step`` (the checkpoint's step
    this start found, or None) and ``made_by``. ``context``: the keyword options of
    :class:`TrialContext`.
    """
    if not isinstance(spec, TrialSpec):
        raise ParameterError(f"spec must be a TrialSpec, got {type(spec).__name__}")
    if not isinstance(out, (str, Path)):
        raise ParameterError(f"out must be a folder path, got {type(out).__name__}")
    folder = trial_folder(out, spec.name)
    ctx = TrialContext.options(folder, resources=resources, report=report, **context)
    started_with = folder / SPEC_FILE
    if started_with.is_file():
        earlier = json.loads(started_with.read_text())
        if earlier != asdict(spec):
            raise ConfigError(
                f"{folder} holds trial {spec.name!r} started with {earlier['params']}, "
                f"not {spec.params}: use another --out for another grid or budget"
            )
    record = folder / RECORD_FILE
    if record.is_file():
        return read_records(record, made_by=MADE_BY)
    fn = resolve_trial(spec.trial)
    folder.mkdir(parents=True, exist_ok=True)
    if not started_with.is_file():
        write_text(started_with, json.dumps(asdict(spec), indent=1) + "\n")
    with (folder / ATTEMPTS_FILE).open("a") as f:
        f.write(f"{time.time():.0f}\n")
    attempt = len((folder / ATTEMPTS_FILE).read_text().splitlines())
    threads = torch.get_num_threads()
    torch.set_num_threads(ctx.threads)
    try:
        lines = fn(dict(spec.params), ctx)
    finally:  # run in this process, the caller keeps its own thread count
        torch.set_num_threads(threads)
    if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
        raise ConfigError(
            f"trial {spec.trial} must return a list of dicts (record lines)"
        )
    stamp = {
        "sweep_trial": spec.name,
        "attempt": attempt,
        "resumed_from_step": ctx.resumed_from_step,
        "made_by": MADE_BY,
    }
    lines = [{**line, **stamp} for line in lines]
    write_lines(record, lines)
    return lines


def write_text(path: Path, text: str) -> None:
    """All or nothing, as :func:`write_lines` (a temporary file of this writer's own)."""
    atomic_write(path, text)


# --------------------------------------------------------------------------------------------
# Ray Tune
# --------------------------------------------------------------------------------------------
def _tune_trial(config: dict[str, Any]) -> None:
    """Tune's function trainable: one trial, its measurements reported to Tune."""
    from ray import tune

    spec = TrialSpec(**config["spec"])
    resources = Resources(**config["resources"])
    context = dict(config["context"])
    if spec.name in config["interrupt_trials"]:
        context["interrupt"] = "kill"  # the trial's own process: Tune starts it again
    else:
        context["interrupt_at_step"] = None
    lines = run_trial(spec, config["out"], resources, tune.report, **context)
    # "done" is Tune's own stop key
    tune.report({"finished": 1, **flat_scalars(lines[-1] if lines else {})})


def import_ray() -> Any:
    try:
        import ray
        from ray import tune  # noqa: F401
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


def run_sweep(
    specs: list[TrialSpec],
    out: str | Path,
    resources: Resources | None = None,
    *,
    name: str = "sweep",
    address: str | None = None,
    max_failures: int = 2,
    max_concurrent: int | None = None,
    interrupt_trials: Iterable[str] = (),
    verbose: int = 1,
    **context: Any,
) -> dict[str, list[dict[str, Any]]]:
    """Run every trial of ``specs`` through Ray Tune; return each trial's record lines.

    Each trial holds ``resources``; Tune runs as many side by side as the cluster has room
    for (or ``max_concurrent``). ``address``: a Ray cluster (default ``RAY_ADDRESS``, else
    an embedded Ray on this machine with every core). A trial that raises or whose process
    dies is started again up to ``max_failures`` times and resumes from its checkpoint.
    ``context``: the options of :class:`TrialContext`; ``interrupt_at_step`` applies to the
    trials named in ``interrupt_trials`` only. Raises :class:`SweepError` when a trial has
    not finished after its retries (the finished ones keep their records).
    """
    if not isinstance(specs, list) or not specs:
        raise ParameterError("specs must be a non-empty list of TrialSpec")
    if not all(isinstance(s, TrialSpec) for s in specs):
        raise ParameterError("specs must be a non-empty list of TrialSpec")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ParameterError(f"trial names must be unique, got {sorted(names)}")
    check_integer("max_failures", max_failures, minimum=0)
    if max_concurrent is not None:
        check_integer("max_concurrent", max_concurrent, minimum=1)
    if not isinstance(out, (str, Path)):
        raise ParameterError(f"out must be a folder path, got {type(out).__name__}")
    interrupt_trials = sorted(interrupt_trials)
    unknown = set(interrupt_trials) - set(names)
    if unknown:
        raise ParameterError(
            f"interrupt_trials names no trial of the grid: {sorted(unknown)}"
        )
    TrialContext.options(
        Path(out), resources=resources, **context
    )  # checks at the door
    resources = resources or Resources()
    out = Path(out).resolve()  # Tune runs each trial in a folder of its own
    # "local": a new Ray on this machine, never one another program started here
    address = address or os.environ.get("RAY_ADDRESS") or "local"
    if address == "local":
        # Ray's services listen on every network interface of this machine (Ray 2.60
        # does not bind them to loopback: seen with `ss -ltnp`), and whoever reaches
        # them can run code: a local Ray therefore always authenticates with a token
        # (Ray >= 2.52 writes one to ~/.ray/auth_token when there is none). Ray reads
        # the mode when it is imported, so it is set before the import.
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    ray = import_ray()
    from ray import tune

    if not ray.is_initialized():
        ray.init(
            address=address,
            include_dashboard=False,
            configure_logging=True,
            logging_level="WARNING",
            log_to_driver=verbose > 0,
        )
    # a trial runs on one node: the largest node must hold it, or it waits for ever
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    for kind, wanted in resources.ray().items():
        largest = max((n.get(kind.upper(), 0.0) for n in nodes), default=0.0)
        if wanted > largest:
            raise ConfigError(
                f"each trial asks for {wanted:g} {kind.upper()}, and the largest node of "
                f"the Ray cluster has {largest:g}: no trial could start (lower --threads "
                "or --gpu, or join a larger cluster with RAY_ADDRESS)"
            )
    trainable = tune.with_resources(_tune_trial, resources.ray())
    param_space = {
        "spec": tune.grid_search([asdict(s) for s in specs]),
        "out": str(out),
        "resources": asdict(resources),
        "context": context,
        "interrupt_trials": interrupt_trials,
    }
    tuner = tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            max_concurrent_trials=max_concurrent, reuse_actors=False
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=str(out / "ray"),
            failure_config=tune.FailureConfig(max_failures=max_failures),
            verbose=verbose,
        ),
    )
    results = tuner.fit()
    records: dict[str, list[dict[str, Any]]] = {}
    missing = []
    for spec in specs:
        record = trial_folder(out, spec.name) / RECORD_FILE
        if record.is_file():
            records[spec.name] = read_records(record, made_by=MADE_BY)
        else:
            missing.append(spec.name)
    if missing:
        errors = [str(r.error).splitlines()[0] for r in results if r.error is not None]
        raise SweepError(
            f"{len(missing)} of {len(specs)} trials did not finish: {missing}; "
            f"errors: {errors}. Run the same sweep again to resume them."
        )
    return records


# --------------------------------------------------------------------------------------------
# shipped records
# --------------------------------------------------------------------------------------------
def merge_records(
    lines: list[dict[str, Any]],
    path: str | Path,
    key: Callable[[dict[str, Any]], Any],
) -> tuple[int, int]:
    """Write ``lines`` into the JSON-lines record ``path``: every existing line whose
    ``key`` is one of the new lines' keys is dropped (a run made again replaces the old
    one), the other lines keep their order, and the new lines are appended. Returns (lines
    dropped, lines added)."""
    path = Path(path)
    if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
        raise ParameterError("lines must be a list of dicts")
    keys = {_hashable(key(line)) for line in lines}
    old = read_records(path, made_by="the book") if path.is_file() else []
    kept = [line for line in old if _hashable(key(line)) not in keys]
    write_lines(path, [*kept, *lines])
    return len(old) - len(kept), len(lines)


# what a clock, a machine or the sweep itself decides: not a result to compare
NOT_RESULTS = frozenset(
    {
        "seconds",
        "train_seconds",
        "score_seconds",
        "pairs_per_second",
        "threads",
        "device",
        "gpu",
        "saved",
        "sweep_trial",
        "attempt",
        "resumed_from_step",
    }
)


def numeric_leaves(value: Any, prefix: str = "") -> dict[str, float]:
    """Every number in ``value`` (nested dicts and lists) by its path, ``"metrics/MIG"``."""
    if isinstance(value, bool):
        return {prefix: float(value)}
    if isinstance(value, (int, float)):
        return {prefix: float(value)}
    items: Iterable[tuple[Any, Any]] = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    leaves: dict[str, float] = {}
    for key, item in items:
        if prefix == "" and key in NOT_RESULTS:
            continue
        leaves.update(numeric_leaves(item, f"{prefix}/{key}" if prefix else str(key)))
    return leaves


def compare_records(
    lines: list[dict[str, Any]],
    shipped: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], Any],
) -> list[dict[str, Any]]:
    """Each line of a sweep against the shipped line of the same run (``key``; the last such
    line): ``{"run", "found", "identical", "largest_difference", "where", "compared"}``, the
    largest absolute difference over every number the two lines share, timing and machine
    fields (:data:`NOT_RESULTS`) left out."""
    by_key = {_hashable(key(line)): line for line in shipped}
    report = []
    for line in lines:
        old = by_key.get(_hashable(key(line)))
        entry: dict[str, Any] = {"run": key(line), "found": old is not None}
        if old is not None:
            new_leaves, old_leaves = numeric_leaves(line), numeric_leaves(old)
            shared = sorted(set(new_leaves) & set(old_leaves))
            gaps = {
                k: 0.0
                if _same(new_leaves[k], old_leaves[k])
                else abs(new_leaves[k] - old_leaves[k])
                for k in shared
            }
            # a NaN gap (one side NaN) counts as the largest
            where = (
                max(gaps, key=lambda k: math.inf if math.isnan(gaps[k]) else gaps[k])
                if gaps
                else None
            )
            entry.update(
                identical=all(_same(new_leaves[k], old_leaves[k]) for k in shared),
                largest_difference=gaps[where] if where else 0.0,
                where=where,
                compared=len(shared),
            )
        report.append(entry)
    return report


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True)
