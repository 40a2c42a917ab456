"""The records chapter 05 ships, read as tables and figures.

One JSON line per trained model (``experiments/pmp_grid.py``): its metrics, the code probe, the
adequacy check by the factor judge (``judge``, ``judge_adequate``) and, for PMP, its supports.
The files: the seeds x models grid with the loss ablation (:data:`GRID_RECORD`), the GPU rung
of the budget ladder (:data:`H200_RECORD`), side runs whose weights were not kept
(:data:`BUDGET_RECORD`, :data:`DEVICE_CHECK_RECORD`: no judge field), and the demonstration
that a well-trained autoencoder passes the adequacy check (:data:`JUDGE_DEMO_RECORD`,
``experiments/judge_demo.py``). The chapter reads them with :func:`load_grid` and
:func:`load_judge_demo` and prints the tables made here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from lib.checkpoint import pretrained_path, read_checkpoint_meta
from lib.errors import DataError, ParameterError, check_integer
from lib.metrics import METRIC_NAMES
from lib.pmp.measure import (
    ADEQUACY_FACTORS,
    ADEQUACY_FRACTION,
    ALPHA,
    LATE_FRACTION,
    SeedComparison,
    compare_seeds,
    judge_adequate,
    seeds_verdict,
    support_overlap,
)
from lib.pmp.model import (
    ABLATION_KINDS,
    ALL_KINDS,
    KIND_LABELS,
    MODEL_KINDS,
    check_kind,
)
from lib.pmp.recipes import get_config
from lib.records import read_records

GRID_RECORD = "pmp/grid.jsonl"
# The ladder's GPU rung: H200 runs of seed 0 (shared records of 2026-11) with probe fields.
H200_RECORD = "pmp/h200_ladder.jsonl"
# PMP seed 0 retrained on a GPU by experiments/pmp_ablation_gpu.sh (weights not kept): how far
# a change of device moves a run, beside the seeds' spread.
DEVICE_CHECK_RECORD = "pmp/device_check.jsonl"
# Seed 0 of both models at a quarter and half of the CPU budget (weights not kept).
BUDGET_RECORD = "pmp/budget.jsonl"
# Chapter 04's plain autoencoder judged every 5,000 steps (experiments/judge_demo.py).
JUDGE_DEMO_RECORD = "judges/judge_demo.jsonl"

VERDICT_METRICS = get_config().verdict_metrics  # the metrics the claim is tested on
PAPER_STEPS = get_config().paper_steps  # 30 epochs of dSprites in pairs of 32: 691,200


def load_grid(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The records ``experiments/pmp_grid.py`` wrote (one JSON object per line)."""
    path = Path(path) if path is not None else pretrained_path(GRID_RECORD)
    return read_records(
        path, made_by="experiments/pmp_grid.py", required=("kind", "seed", "metrics")
    )


def _check_records(records: Any, name: str = "records") -> list[dict[str, Any]]:
    """``records`` as a list of dicts (what :func:`load_grid` returns), or an error."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ParameterError(f"{name} must be a list of records (dicts), as load_grid")
    return records


def _latest(records: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    _check_records(records)
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for r in records:
        latest[(r["kind"], r["seed"])] = r
    return latest


def _rows(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The latest record of each seed of ``kind``, by seed."""
    return [r for (k, _), r in sorted(_latest(records).items()) if k == kind]


def grid_table(
    records: list[dict[str, Any]],
    metrics: tuple[str, ...] = METRIC_NAMES,
    kinds: tuple[str, ...] = MODEL_KINDS,
) -> dict[str, dict[str, tuple[float, float, int]]]:
    """``{kind: {metric: (mean, std, n_seeds)}}``; std is the sample std (ddof 1; 0 for one seed).

    Only the latest record of each (kind, seed) counts; ``kinds``: the rows (default the
    paper's comparison, PMP and Ada-GVAE). The grid script's summary.
    """
    table: dict[str, dict[str, tuple[float, float, int]]] = {}
    for kind in kinds:
        check_kind(kind)
        rows = _rows(records, kind)
        if not rows:
            continue
        table[kind] = {}
        for m in metrics:
            values = np.array([r["metrics"][m] for r in rows], dtype=np.float64)
            std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            table[kind][m] = (float(values.mean()), std, len(values))
    return table


def format_grid(table: dict[str, dict[str, tuple[float, float, int]]]) -> str:
    """The table as fixed-width text, one row per metric, mean ± std per model."""
    kinds = list(table)
    header = f"{'metric':<18}" + "".join(f"{KIND_LABELS[k]:>22}" for k in kinds)
    counts = [next(iter(table[k].values()))[2] for k in kinds]
    seeds = "".join(f"{f'({n} seed' + ('s)' if n > 1 else ')'):>22}" for n in counts)
    lines = [header, f"{'':<18}" + seeds]
    for m in next(iter(table.values())):
        cells = "".join(
            f"{table[k][m][0]:>15.3f} ± {table[k][m][1]:.3f}" for k in kinds
        )
        lines.append(f"{m:<18}{cells}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# the seeds of one budget: scores, adequacy, the verdict's inputs
# --------------------------------------------------------------------------------------------
class SeedScores(NamedTuple):
    """Per kind: the seeds, one score per seed and metric, one adequacy outcome per seed."""

    seeds: dict[str, list[int]]
    scores: dict[str, dict[str, list[float]]]
    adequate: dict[str, list[bool]]


def _judge_field(record: dict[str, Any]) -> dict[str, dict[str, float]]:
    if "judge" not in record:
        raise DataError(
            f"the record of {record['kind']} seed {record['seed']} has no judge field "
            "(experiments/pmp_grid.py --add-judge adds it from the weights)"
        )
    return record["judge"]


def seed_scores(
    records: list[dict[str, Any]],
    kinds: tuple[str, ...] = MODEL_KINDS,
    metrics: tuple[str, ...] = VERDICT_METRICS,
    fraction: float = ADEQUACY_FRACTION,
) -> SeedScores:
    """What :func:`lib.pmp.seeds_verdict` reads: for each of ``kinds``, its seeds' scores on
    ``metrics`` and their adequacy (:func:`lib.pmp.judge_adequate` of the judge field, at
    ``fraction``, the rule's unless asked otherwise).
    Only the latest record of each (kind, seed) counts; a kind with no record is an error."""
    seeds, scores, adequate = {}, {}, {}
    for kind in kinds:
        check_kind(kind)
        rows = _rows(records, kind)
        if not rows:
            raise ParameterError(f"records hold no run of {kind!r}")
        seeds[kind] = [r["seed"] for r in rows]
        scores[kind] = {m: [float(r["metrics"][m]) for r in rows] for m in metrics}
        adequate[kind] = [judge_adequate(_judge_field(r), fraction) for r in rows]
    return SeedScores(seeds, scores, adequate)


def worst_ratio(record: dict[str, Any]) -> float:
    """A judged record's smallest judge ratio over the adequacy factors: the highest
    adequacy threshold the model passes."""
    if not isinstance(record, dict) or not {"kind", "seed"} <= set(record):
        raise ParameterError("record must be one record (a dict with kind and seed)")
    judge = _judge_field(record)
    missing = [f for f in ADEQUACY_FACTORS if f not in judge]
    if missing:
        raise ParameterError(f"the judge field lacks the factors {missing}")
    return float(min(judge[f]["ratio"] for f in ADEQUACY_FACTORS))


def verdict_by_threshold(
    records: list[dict[str, Any]], thresholds
) -> list[tuple[str, str]]:
    """:func:`lib.pmp.seeds_verdict` on the PMP and Ada-GVAE seeds of ``records`` with the
    adequacy threshold set to each of ``thresholds`` in turn (the rule's is
    :data:`~lib.pmp.ADEQUACY_FRACTION`): how much the verdict hangs on that choice."""
    _check_records(records)
    values = np.asarray(thresholds, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0 or not np.isfinite(values).all():
        raise ParameterError(
            f"thresholds must be a non-empty 1-d sequence of finite numbers, got "
            f"{np.shape(thresholds)}"
        )
    out = []
    for t in values:
        seeds = seed_scores(records, fraction=float(t))
        out.append(seeds_verdict(seeds.scores, seeds.adequate))
    return out


def _where(record: dict[str, Any]) -> str:
    return record.get("gpu", record["device"]).replace("NVIDIA ", "")


def format_seed_table(
    records: list[dict[str, Any]],
    kinds: tuple[str, ...] = MODEL_KINDS,
    metrics: tuple[str, ...] = VERDICT_METRICS,
) -> str:
    """One line per seed: model, seed, device, ``metrics``, the judge's ratio for each
    adequacy factor and whether the seed is adequate; then each model's median."""
    table = seed_scores(records, kinds, metrics)
    short = {"orientation": "orient."}
    head = f"{'model':<10}{'seed':>5}{'device':>7}" + "".join(
        f"{m:>8}" for m in metrics
    )
    head += "   judge ratio:" + "".join(
        f"{short.get(f, f):>8}" for f in ADEQUACY_FACTORS
    )
    lines = [head + f"{'adequate':>10}"]
    for kind in kinds:
        for r in _rows(records, kind):
            cells = "".join(f"{r['metrics'][m]:>8.3f}" for m in metrics)
            ratios = "".join(
                f"{r['judge'][f]['ratio']:>8.2f}" for f in ADEQUACY_FACTORS
            )
            ok = "yes" if judge_adequate(r["judge"]) else "no"
            lines.append(
                f"{KIND_LABELS[kind]:<10}{r['seed']:>5}{_where(r):>7}{cells}"
                f"{'':>14}{ratios}{ok:>10}"
            )
        medians = "".join(f"{np.median(table.scores[kind][m]):>8.3f}" for m in metrics)
        n_ok = f"{sum(table.adequate[kind])} of {len(table.adequate[kind])}"
        lines.append(
            f"{KIND_LABELS[kind]:<10}{'median':>12}{medians}{'':>38}{n_ok:>10}"
        )
    return "\n".join(lines)


def plot_seed_scores(
    records: list[dict[str, Any]],
    kinds: tuple[str, ...] = MODEL_KINDS,
    metrics: tuple[str, ...] = METRIC_NAMES,
):
    """Each metric's median over seeds (bars) and every seed (dots), one bar per kind."""
    import matplotlib.pyplot as plt

    table = seed_scores(records, kinds, metrics)
    fig, ax = plt.subplots(figsize=(10, 3.2))
    width = 0.8 / len(kinds)
    for i, kind in enumerate(kinds):
        x = np.arange(len(metrics)) + (i - (len(kinds) - 1) / 2) * width
        values = np.array([table.scores[kind][m] for m in metrics])  # (metrics, seeds)
        n = values.shape[1]
        ax.bar(
            x,
            np.median(values, 1),
            width,
            label=f"{KIND_LABELS[kind]}: median of {n} seeds",
            color=f"C{i}",
        )
        for j in range(n):
            ax.plot(
                x, values[:, j], "k.", ms=3, label="a seed" if i == j == 0 else None
            )
    ax.set_xticks(np.arange(len(metrics)), metrics, rotation=30, ha="right", fontsize=8)
    for label in ax.get_xticklabels():  # the claim's metrics in bold
        label.set_fontweight(
            "bold" if label.get_text() in VERDICT_METRICS else "normal"
        )
    ax.set_ylim(0, 1)
    ax.set_ylabel("score")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# the adequacy check on every record, and the code probe beside it
# --------------------------------------------------------------------------------------------
def format_judge(records: list[dict[str, Any]]) -> str:
    """One line per record: model, seed, steps, device, the judge's ratio (accuracy on the
    reconstructions / on the originals) for each adequacy factor, and whether the model is
    adequate (ratio >= the rule's fraction on every one). A record without the judge field
    (a run whose weights were not kept) says so."""
    _check_records(records)
    short = {"orientation": "orient."}
    head = f"{'model':<24}{'seed':>5}{'steps':>8}{'device':>7}"
    head += "".join(f"{short.get(f, f):>9}" for f in ADEQUACY_FACTORS)
    lines = [head + f"{'adequate':>10}"]
    for r in records:
        where = f"{KIND_LABELS[r['kind']]:<24}{r['seed']:>5}{r['steps']:>8,}"
        where += f"{_where(r):>7}"
        if "judge" not in r:
            lines.append(where + "   weights not kept: not judged")
            continue
        cells = "".join(f"{r['judge'][f]['ratio']:>9.2f}" for f in ADEQUACY_FACTORS)
        ok = "yes" if judge_adequate(r["judge"]) else "no"
        lines.append(f"{where}{cells}{ok:>10}")
    return "\n".join(lines)


def format_code_probe(records: list[dict[str, Any]]) -> str:
    """One line per record with the code probe (``factor_accuracy``): each probed factor's
    accuracy from the code, with its chance level. No verdict rests on it."""
    rows = [r for r in _check_records(records) if "factor_accuracy" in r]
    if not rows:
        return "no record holds the code probe"
    factors = list(rows[0]["factor_accuracy"])
    head = f"{'model':<24}{'seed':>5}{'steps':>8}{'device':>7}"
    lines = [head + "".join(f"{f + ' (chance)':>22}" for f in factors)]
    for r in rows:
        cells = "".join(
            f"{r['factor_accuracy'][f]:>13.3f} ({r['factor_chance'][f]:.3f})"
            for f in factors
        )
        lines.append(
            f"{KIND_LABELS[r['kind']]:<24}{r['seed']:>5}{r['steps']:>8,}"
            f"{_where(r):>7}{cells}"
        )
    return "\n".join(lines)


DEMO_IMAGES = "seed 7"  # the training series' images: 2,000 drawn with seed 7
JUDGE_IMAGES = "lib.pmp.judge_images"  # the images chapter 05's models were judged on


def load_judge_demo(
    path: str | Path | None = None, images: str = DEMO_IMAGES
) -> list[dict[str, Any]]:
    """The demonstration record (``experiments/judge_demo.py``): one line per evaluation of
    chapter 04's plain autoencoder, with its ``step`` and the judge's ``judge`` field, on the
    judge images named ``images``: :data:`DEMO_IMAGES` (the series made while it trained;
    lines without an ``images`` field are these) or :data:`JUDGE_IMAGES` (the final model
    scored on the images chapter 05's models were judged on)."""
    if images not in (DEMO_IMAGES, JUDGE_IMAGES):
        raise ParameterError(
            f"images must be {DEMO_IMAGES!r} or {JUDGE_IMAGES!r}, got {images!r}"
        )
    path = Path(path) if path is not None else pretrained_path(JUDGE_DEMO_RECORD)
    rows = read_records(
        path, made_by="experiments/judge_demo.py", required=("step", "judge")
    )
    rows = [r for r in rows if r.get("images", DEMO_IMAGES) == images]
    if not rows:
        raise DataError(f"{path} holds no evaluation on the images {images!r}")
    return sorted(rows, key=lambda r: r["step"])


def first_adequate_step(rows: list[dict[str, Any]]) -> int | None:
    """The first step of the demonstration (:func:`load_judge_demo`) at which the model
    passes the adequacy check, or None if it never does."""
    _check_records(rows, "rows")
    for r in sorted(rows, key=lambda r: r["step"]):
        if judge_adequate(r["judge"]):
            return int(r["step"])
    return None


SHORT_LABELS = {
    "pmp": "PMP",
    "adagvae": "Ada-GVAE",
    "pmp_nospar": "no L_spar",
    "pmp_scalefree": "scale-free",
}


def plot_adequacy(records: list[dict[str, Any]], demo: list[dict[str, Any]]):
    """Left: the judge's ratio for each adequacy factor over the demonstration's steps;
    right: each judged model of ``records`` (one dot per seed and factor). A dashed line at
    the rule's fraction, which a model must reach on every factor; dotted lines at the ratio
    of a guess (chance / accuracy on originals), one per factor."""
    import matplotlib.pyplot as plt

    judged = [r for r in _check_records(records) if "judge" in r]
    if not judged or not _check_records(demo, "demo"):
        raise ParameterError("records and demo must each hold a judged model")
    fig, axes = plt.subplots(
        1, 2, figsize=(11, 3.6), sharey=True, gridspec_kw={"width_ratios": [1, 1.4]}
    )
    steps = [r["step"] for r in demo]
    for j, factor in enumerate(ADEQUACY_FACTORS):
        ratios = [r["judge"][factor]["ratio"] for r in demo]
        axes[0].plot(steps, ratios, "o-", color=f"C{j}", label=factor, ms=4)
        first = judged[0]["judge"][factor]
        for ax in axes:
            guess = first["chance"] / first["originals"]
            ax.axhline(guess, color=f"C{j}", ls=":", lw=1)
    axes[0].set_xlim(0, max(steps) * 1.05)
    axes[0].set_xlabel("training step")
    axes[0].set_title("plain autoencoder (chapter 04's recipe)", fontsize=9)
    axes[0].set_ylabel("judge accuracy:\nreconstructions / originals")
    groups = [
        (f"{SHORT_LABELS[k]}\n{_where(r)} {r['steps'] // 1000}k", r)
        for k in ALL_KINDS
        for r in judged
        if r["kind"] == k
    ]
    labels = list(dict.fromkeys(label for label, _ in groups))
    for j, factor in enumerate(ADEQUACY_FACTORS):
        for label, r in groups:
            x = labels.index(label) + (j - 1) * 0.2
            axes[1].plot(x, r["judge"][factor]["ratio"], "o", color=f"C{j}", ms=4)
    axes[1].set_xticks(range(len(labels)), labels, fontsize=7)
    axes[1].set_title("the chapter's models (one dot per seed)", fontsize=9)
    for ax in axes:
        ax.axhline(ADEQUACY_FRACTION, color="k", ls="--", lw=1)
        ax.set_ylim(0, 1.05)
    axes[0].plot([], [], "k--", lw=1, label="adequate from here")
    axes[0].plot([], [], ":", color="0.4", lw=1, label="a guess (one per factor)")
    handles, names = axes[
        0
    ].get_legend_handles_labels()  # the same colours on the right
    axes[1].legend(handles, names, fontsize=7, loc="upper right", ncol=3)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# the loss ablation
# --------------------------------------------------------------------------------------------
ABLATION_COLUMNS = (
    ("mean_foreign_share", "foreign share"),
    ("product_residual", "product residual"),
    ("support_mass", "support mass"),
    ("DCI D", "DCI D"),
    ("MIG", "MIG"),
    ("probe_bce", "BCE / pixel"),
)


def _column(record: dict[str, Any], key: str) -> float:
    """A metric, a record field, or the support mass (the sum of the support matrix)."""
    if key in record["metrics"]:
        return record["metrics"][key]
    if key == "support_mass":
        matrix = record.get("support_matrix")
        return float(np.sum(matrix)) if matrix is not None else np.nan
    return record.get(key, np.nan)


def ablation_table(
    records: list[dict[str, Any]],
) -> dict[str, dict[str, tuple[float, float, int]]]:
    """``{kind: {column: (mean, std, n_seeds)}}`` for :data:`ABLATION_COLUMNS`, every kind
    (chapter 04 reads DCI D and MIG of every kind from it). A metric is read from
    ``record["metrics"]``, anything else from the record; a column a kind does not have
    (Ada-GVAE has no supports) is NaN. std: sample std (0 for one seed)."""
    table: dict[str, dict[str, tuple[float, float, int]]] = {}
    for kind in ALL_KINDS:
        rows = _rows(records, kind)
        if not rows:
            continue
        table[kind] = {}
        for key, _ in ABLATION_COLUMNS:
            values = np.array([_column(r, key) for r in rows], dtype=np.float64)
            std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            table[kind][key] = (float(values.mean()), std, len(values))
    return table


def ablation_values(
    records: list[dict[str, Any]], kinds: tuple[str, ...] = ("pmp", *ABLATION_KINDS)
) -> dict[str, dict[str, list[float]]]:
    """``{kind: {column: one value per seed}}`` for :data:`ABLATION_COLUMNS` (latest record of
    each seed); a kind with no record is left out."""
    values: dict[str, dict[str, list[float]]] = {}
    for kind in kinds:
        check_kind(kind)
        rows = _rows(records, kind)
        if rows:
            values[kind] = {
                key: [float(_column(r, key)) for r in rows]
                for key, _ in ABLATION_COLUMNS
            }
    return values


def format_ablation(values: dict[str, dict[str, list[float]]]) -> str:
    """The ablation as text: per kind, its seeds and each column's median over them."""
    if not isinstance(values, dict) or not values:
        raise ParameterError("values must be ablation_values' {kind: {column: values}}")
    header = f"{'model':<24}{'seeds':>6}" + "".join(
        f"{label:>17}" for _, label in ABLATION_COLUMNS
    )
    lines = [header, f"{'':<30}" + f"{'(median)':>17}" * len(ABLATION_COLUMNS)]
    for kind, row in values.items():
        n = len(next(iter(row.values())))
        cells = "".join(f"{np.median(row[key]):>17.3f}" for key, _ in ABLATION_COLUMNS)
        lines.append(f"{KIND_LABELS[kind]:<24}{n:>6}{cells}")
    return "\n".join(lines)


def ablation_tests(
    values: dict[str, dict[str, list[float]]], alpha: float = ALPHA
) -> dict[str, dict[str, SeedComparison]]:
    """Each ablation variant against PMP, column by column, by the chapter's test
    (:func:`lib.pmp.compare_seeds`: exact one-sided permutation test over seeds)."""
    if "pmp" not in values:
        raise ParameterError("the ablation values have no PMP row to compare with")
    ref = values["pmp"]
    return {
        kind: {
            key: compare_seeds(row[key], ref[key], alpha) for key, _ in ABLATION_COLUMNS
        }
        for kind, row in values.items()
        if kind != "pmp"
    }


def format_ablation_tests(tests: dict[str, dict[str, SeedComparison]]) -> str:
    """One line per variant and column: both medians, the p-value of each direction, the
    smallest p the seeds allow, and the outcome."""
    if not isinstance(tests, dict):
        raise ParameterError(
            "tests must be ablation_tests' {kind: {column: comparison}}"
        )
    lines = [
        f"{'variant':<24}{'column':>18}{'median':>9}{'PMP':>8}"
        f"{'p above':>10}{'p below':>10}{'smallest p':>12}  outcome"
    ]
    labels = dict(ABLATION_COLUMNS)
    for kind, row in tests.items():
        for key, t in row.items():
            lines.append(
                f"{KIND_LABELS[kind]:<24}{labels[key]:>18}{t.median:>9.3f}"
                f"{t.reference_median:>8.3f}{t.p_higher:>10.2f}{t.p_lower:>10.2f}"
                f"{t.smallest_p:>12.2f}  {t.outcome}"
            )
    return "\n".join(lines)


class DeviceCheck(NamedTuple):
    """One column of PMP's seed 0 retrained on a GPU, beside the CPU seeds."""

    gpu: float  # the GPU run's value
    same_seed: float  # the CPU run of the same seed
    low: float  # the CPU seeds' range
    high: float
    spread: float  # the CPU seeds' standard deviation (ddof 1)


def device_check(
    records: list[dict[str, Any]],
    gpu_run: dict[str, Any],
    keys: tuple[str, ...] = ("mean_foreign_share", "product_residual", "DCI D", "MIG"),
) -> dict[str, DeviceCheck]:
    """``gpu_run`` (a record of a kind and seed also run on the CPU) against the CPU runs of
    its kind in ``records``: per column, its value, the same seed's, the seeds' range and
    standard deviation."""
    if not isinstance(gpu_run, dict) or not {"kind", "seed"} <= set(gpu_run):
        raise ParameterError("gpu_run must be one record (a dict with kind and seed)")
    cpu = [r for r in _rows(records, gpu_run["kind"]) if r["device"] == "cpu"]
    same = [r for r in cpu if r["seed"] == gpu_run["seed"]]
    if len(cpu) < 2 or not same:
        raise ParameterError(
            f"records need the CPU run of {gpu_run['kind']} seed {gpu_run['seed']} and "
            "at least one more CPU seed"
        )
    out = {}
    for key in keys:
        values = [_column(r, key) for r in cpu]
        out[key] = DeviceCheck(
            float(_column(gpu_run, key)),
            float(_column(same[0], key)),
            float(min(values)),
            float(max(values)),
            float(np.std(values, ddof=1)),
        )
    return out


# --------------------------------------------------------------------------------------------
# the budget ladder and the training curves
# --------------------------------------------------------------------------------------------
def budget_label(
    record: dict[str, Any], paper_steps: int = PAPER_STEPS, device: bool = True
) -> str:
    """A model's budget in words: its steps, their share of the paper's, the device (unless
    ``device`` is False), and for a PMP run stopped before its planned steps, how far into
    its schedule it got (its ramps were scaled onto the planned steps)."""
    if not isinstance(record, dict) or not {"kind", "steps", "device"} <= set(record):
        raise ParameterError(
            "record must be one record (a dict with kind, steps, device)"
        )
    share = 100 * record["steps"] / check_integer("paper_steps", paper_steps, 1)
    text = f"{KIND_LABELS[record['kind']]} {record['steps']:,} steps ({share:.1f} %)"
    if device:
        text += f" on the {_where(record)}" if "gpu" in record else " on the CPU"
    planned = record.get("steps_planned")
    if planned and planned > record["steps"] and record["kind"] != "adagvae":
        text += f", stopped at {100 * record['steps'] / planned:.0f} % of its schedule"
    return text


def format_ladder(records: list[dict[str, Any]], paper_steps: int = PAPER_STEPS) -> str:
    """The budget ladder, one line per run sorted by model and steps: device, steps, share
    of the paper's steps, share of its own schedule done (PMP runs cut short), MIG, DCI D,
    DCI I and the adequacy check ("-": weights not kept)."""
    head = f"{'model':<10}{'device':>7}{'steps':>8}{'% paper':>9}{'% sched.':>9}"
    lines = [head + f"{'MIG':>7}{'DCI D':>7}{'DCI I':>7}{'adequate':>10}"]
    for r in sorted(_check_records(records), key=lambda r: (r["kind"], r["steps"])):
        m = r["metrics"]
        planned = r.get("steps_planned") if r["kind"] != "adagvae" else None
        sched = f"{100 * r['steps'] / planned:.0f}%" if planned else "100%"
        if r["kind"] == "adagvae":
            sched = "-"  # no schedule: Ada-GVAE's loss does not change with the step
        ok = "-" if "judge" not in r else "yes" if judge_adequate(r["judge"]) else "no"
        lines.append(
            f"{KIND_LABELS[r['kind']]:<10}{_where(r):>7}{r['steps']:>8,}"
            f"{100 * r['steps'] / paper_steps:>8.1f}%{sched:>9}{m['MIG']:>7.3f}"
            f"{m['DCI D']:>7.3f}{m['DCI I']:>7.3f}{ok:>10}"
        )
    return "\n".join(lines)


def foreign_share_curves(
    kinds: tuple[str, ...] = ("pmp", *ABLATION_KINDS),
    seeds: tuple[int, ...] = (0, 1, 2),
) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """``{(kind, seed): (steps, mean foreign share)}`` from the snapshots stored with each
    shipped PMP checkpoint of ``kinds`` and ``seeds`` (one that is not shipped is skipped)."""
    curves = {}
    for kind in kinds:
        check_kind(kind)
        if kind == "adagvae":
            raise ParameterError("Ada-GVAE has no supports: kinds must be PMP kinds")
        for seed in seeds:
            path = pretrained_path(f"pmp/{kind}_seed{seed}")
            if not path.with_name(path.name + ".json").is_file():
                continue
            meta = read_checkpoint_meta(path)
            foreign = [
                support_overlap(np.asarray(m)).mean_foreign_share
                for m in meta["support_matrices"]
            ]
            curves[(kind, seed)] = (
                np.asarray(meta["support_steps"]),
                np.array(foreign),
            )
    return curves


def plot_foreign_share_curves(
    curves: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]], start: int
):
    """The mean foreign share during training, one line per run, one colour per kind; a
    dotted line where L_spar enters the loss."""
    import matplotlib.pyplot as plt

    if not curves:
        raise ParameterError("curves holds no run")
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    colours = {k: f"C{i}" for i, k in enumerate(dict.fromkeys(k for k, _ in curves))}
    for (kind, seed), (steps, foreign) in curves.items():
        ax.plot(
            steps,
            foreign,
            color=colours[kind],
            lw=1.2,
            label=KIND_LABELS[kind]
            if seed == min(s for k, s in curves if k == kind)
            else None,
        )
    last = max(float(steps[-1]) for steps, _ in curves.values())
    ax.axvspan(
        last * (1 - LATE_FRACTION), last, color="0.92", label="convergence checked"
    )
    ax.axvline(start, color="0.5", ls=":", lw=1, label=r"$\mathcal{L}_{spar}$ on")
    ax.set_ylim(0, 0.9)
    ax.set_xlabel("step")
    ax.set_ylabel("mean foreign share")
    ax.legend(fontsize=8, title="one line per seed", title_fontsize=8)
    fig.tight_layout()
    return fig
