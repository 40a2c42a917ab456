"""The record of chapter 02's loss-weight sweep: one JSON line per evaluation point of a run.

``experiments/torus_sweep.py`` trains the chapter's model for one setting and appends rows
holding :func:`lib.toroidal.measure.sweep_measures`; the chapter prints the shipped record (:data:`TORUS_SWEEP`) with
:func:`load_sweep` and :func:`format_sweep`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lib.checkpoint import PRETRAINED_DIR
from lib.errors import ParameterError
from lib.records import read_records

TORUS_SWEEP = PRETRAINED_DIR / "toroidal" / "sweep.jsonl"
# The chapter's recipe on an NVIDIA H200 (records of 2026-11, made with experiments/torus_sweep.py
# --device cuda; each row names its source): faithful seeds 0 (30,000 steps) and 1 (20,000), and
# the decorrelated model (20,000). Same row format as the sweep.
TORUS_GPU_RECORD = PRETRAINED_DIR / "toroidal" / "h200_runs.jsonl"
# The budget ladder the verdict is judged on: one line per seed of each rung (3 seeds or more
# at one number of steps), made with experiments/reproduce.py torus, each holding the seed's
# 1,000 validation codes (lib.toroidal.measure.ladder_fields).
TORUS_LADDER = PRETRAINED_DIR / "toroidal" / "ladder.jsonl"
LADDER_FIELDS = ("run", "seed", "steps", "weights", "val_phi", "objective")


def load_ladder(
    path: str | Path = TORUS_LADDER, *, weights: str | None = "faithful"
) -> list[dict[str, Any]]:
    """The rows of a ladder record (``experiments/reproduce.py torus``), of the loss
    ``weights`` given (None: every setting), in file order."""
    rows = read_records(
        path,
        made_by="experiments/reproduce.py torus --out DIR (then copy DIR/records.jsonl)",
        required=LADDER_FIELDS,
    )
    return [r for r in rows if weights is None or r["weights"] == weights]


def load_sweep(
    path: str | Path = TORUS_SWEEP, *, last_only: bool = True
) -> list[dict[str, Any]]:
    """The rows of a sweep record (JSON lines, one per evaluation point of a run), in file order.

    With ``last_only`` (the default) only the last evaluation point of each run name is kept, at
    the position of the run's first row. A missing file raises FileNotFoundError with a hint; a
    line that is not a JSON object with a run name and a step raises
    :class:`~lib.errors.DataError` naming the line.
    """
    rows = read_records(
        path, made_by="experiments/torus_sweep.py", required=("name", "step")
    )
    return rows if not last_only else _last_rows(rows)


def format_sweep(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of sweep rows (from :func:`load_sweep`): settings, then validation numbers.

    Columns: run name, seed, the four loss weights, steps; KS of each angle on the validation
    digits and the largest of the three on the training digits; the largest absolute circular
    correlation between two angles; mean and std of r^2; MSE per pixel; classifier accuracy.
    """
    lines = [
        f"{'run':<18}{'seed':>4}{'spring':>7}{'quant.':>7}{'class.':>7}{'decor.':>7}{'steps':>6} | "
        f"{'val KS per angle':<18} | train max | max|corr| | r2 mean/std |  MSE   | acc"
    ]
    for r in rows:
        val = r["val"]
        ks = " ".join(f"{v:.3f}" for v in val["ks"])
        corr = max(abs(c) for c in val["corr"])
        lines.append(
            f"{r['name']:<18}{r['seed']:>4}{r['spring']:>7g}{r['quantile']:>7g}"
            f"{r['classifier']:>7g}{r['decorrelation']:>7g}{r['step']:>6} | {ks:<18} | "
            f"{max(r['train']['ks']):9.3f} | {corr:9.2f} | "
            f"{val['r2_mean']:.2f} / {val['r2_std']:.2f} | {val['mse']:.4f} | {val['accuracy']:.2f}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# What the chapter reads from the records: the numbers its prose quotes, and the budget curve
# --------------------------------------------------------------------------------------------
def worst_ks(row: dict[str, Any], split: str = "val") -> float:
    """The largest KS statistic of a row's angles (the worst angle)."""
    return max(row[split]["ks"])


def largest_correlation(row: dict[str, Any]) -> float:
    """The largest |circular correlation| of a row's angle pairs (1: two copies)."""
    return max(abs(c) for c in row["val"]["corr"])


def sweep_findings(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The numbers chapter 02 quotes from the sweep record (all its evaluation points, as
    :func:`load_sweep` with ``last_only=False`` reads them), by the names it glues them under.
    """
    last = {r["name"]: r for r in _last_rows(rows)}
    needed = {"s1k", "s30k", "s10k_seed0", "s10k_seed1", "s10k_seed2", "s10k_2000"}
    missing = sorted(needed - set(last))
    if missing:
        raise ParameterError(f"the sweep record lacks the runs {missing}")

    def ks_range(names):
        values = [v for name in names for v in last[name]["val"]["ks"]]
        return min(values), max(values)

    seeds = ("s10k_seed0", "s10k_seed1", "s10k_seed2")
    plain = [n for n, r in last.items() if r["decorrelation"] == 0]
    copies = [largest_correlation(last[n]) for n in plain if last[n]["spring"] >= 3000]
    decorrelated = [n for n, r in last.items() if r["decorrelation"] > 0]
    broken = [n for n in decorrelated if largest_correlation(last[n]) < 0.5]
    best_broken = min(broken, key=lambda n: sorted(last[n]["val"]["ks"])[1])
    best_run = min(last, key=lambda n: worst_ks(last[n]))
    at_1000 = [
        r["val"]["ks"] for r in rows if r["name"] == "s10k_2000" and r["step"] == 1000
    ][0]
    found = {
        "sweep_1k_low": ks_range(["s1k"])[0],
        "sweep_1k_high": ks_range(["s1k"])[1],
        "sweep_10k_low": ks_range(seeds)[0],
        "sweep_10k_high": ks_range(seeds)[1],
        "sweep_30k_worst": worst_ks(last["s30k"]),
        "sweep_best_angle": min(min(r["val"]["ks"]) for r in last.values()),
        "sweep_best_run_train": worst_ks(last[best_run], "train"),
        "sweep_runs_at_goal": sum(worst_ks(r) < 0.05 for r in last.values()),
        "sweep_copies_low": min(copies),
        "sweep_copies_high": max(copies),
        "sweep_cls0_low": ks_range(["s10k_cls0"])[0],
        "sweep_cls0_high": ks_range(["s10k_cls0"])[1],
        "sweep_cls30_worst": worst_ks(last["s10k_cls30"]),
        "sweep_q1e6_std": last["s10k_q1e6"]["val"]["r2_std"],
        "sweep_q1e5_std": float(np.mean([last[n]["val"]["r2_std"] for n in seeds])),
        "sweep_q1e6_low": ks_range(["s10k_q1e6"])[0],
        "sweep_q1e6_high": ks_range(["s10k_q1e6"])[1],
        "sweep_dec1k_corr": largest_correlation(last["s10k_dec1k"]),
        "sweep_dec30k_corr": largest_correlation(last["s10k_dec30k"]),
        "sweep_dec30k_2000_corr": largest_correlation(last["s10k_dec30k_2000"]),
        "sweep_dec30k_seed1_corr": largest_correlation(last["s10k_dec30k_seed1"]),
        "sweep_broken_min_worst": min(worst_ks(last[n]) for n in broken),
        "sweep_best_broken_spring": last[best_broken]["spring"],
        "sweep_best_broken_dec": last[best_broken]["decorrelation"],
    }
    for i, name in enumerate(seeds):
        found[f"sweep_worst_seed{i}"] = worst_ks(last[name])
    for j in range(3):
        found[f"sweep_2000_at1000_{j}"] = at_1000[j]
        found[f"sweep_2000_end_{j}"] = last["s10k_2000"]["val"]["ks"][j]
        found[f"sweep_best_broken_{j}"] = sorted(last[best_broken]["val"]["ks"])[j]
    return found


def _last_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last evaluation point of each run among ``rows``, at its first row's position."""
    last: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["step"] >= last.get(row["name"], {"step": -1})["step"]:
            last[row["name"]] = row
    return list(last.values())


def gpu_findings(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The numbers chapter 02 quotes from the H200 record (:data:`TORUS_GPU_RECORD`, every
    evaluation point), by the names it glues them under."""
    final = {r["name"]: r for r in _last_rows(rows)}
    needed = {"gpu-long-faithful", "gpu-long-faithful-s1", "gpu-long-decorrelated"}
    if needed - set(final):
        raise ParameterError(
            f"the GPU record lacks the runs {sorted(needed - set(final))}"
        )
    seed0, seed1 = final["gpu-long-faithful"], final["gpu-long-faithful-s1"]
    faithful = [r for r in rows if r["decorrelation"] == 0]
    seed0_ks = [worst_ks(r) for r in faithful if r["name"] == "gpu-long-faithful"]
    decorrelated = final["gpu-long-decorrelated"]
    return {
        "gpu_name": seed0["gpu"],
        "gpu_steps": seed0["step"],
        "gpu_worst_ks": worst_ks(seed0),
        "gpu_ks_low": min(seed0_ks),
        "gpu_ks_high": max(seed0_ks),
        "gpu_corr": min(abs(c) for c in seed0["val"]["corr"]),
        "gpu_copy_floor": min(largest_correlation(r) for r in faithful),
        "gpu1_steps": seed1["step"],
        "gpu1_worst_ks": worst_ks(seed1),
        "gpu1_corr": min(abs(c) for c in seed1["val"]["corr"]),
        "gpu_dec_steps": decorrelated["step"],
        "gpu_dec_worst_ks": worst_ks(decorrelated),
        "gpu_dec_corr": largest_correlation(decorrelated),
    }


def plot_budget_curve(
    cpu_rows: list[dict[str, Any]],
    gpu_rows: list[dict[str, Any]],
    uniform_ks: tuple[float, float],
):
    """The worst angle's KS distance and the largest |circular correlation| against steps,
    for the CPU sweep's runs (grey) and the GPU runs (coloured), on log-log axes.

    ``uniform_ks``: (mean, 95th percentile) of the worst of d KS distances of truly uniform
    angles at the record's n, drawn as the floor a model cannot beat.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharex=True)
    colours = iter(["C0", "C2", "C1", "C3", "C4"])
    for rows, gpu in ((cpu_rows, False), (gpu_rows, True)):
        for name in dict.fromkeys(r["name"] for r in rows):
            run = [r for r in rows if r["name"] == name]
            if gpu:
                style = dict(c=next(colours), marker="o", ms=3, label=f"GPU: {name}")
            else:
                dotted = run[0]["decorrelation"] > 0
                style = dict(
                    c="0.65",
                    ls=":" if dotted else "-",
                    label="CPU sweep, + decorrelation"
                    if dotted
                    else "CPU sweep, spring 10,000",
                )
            steps = [r["step"] for r in run]
            axes[0].plot(steps, [worst_ks(r) for r in run], **style)
            axes[1].plot(steps, [largest_correlation(r) for r in run], **style)
    mean, high = uniform_ks
    axes[0].axhspan(0, high, color="0.9", zorder=0)
    axes[0].axhline(mean, color="k", ls="--", lw=1, label="truly uniform angles (mean)")
    axes[0].axhline(high, color="k", ls=":", lw=1, label="truly uniform angles (95 %)")
    axes[0].set_yscale("log")
    axes[0].set_ylabel("worst KS distance of the 3 angles")
    axes[1].set_ylabel("largest |circular correlation|")
    axes[1].set_ylim(0, 1.05)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("training step")
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))  # one entry per label
        ax.legend(unique.values(), unique.keys(), fontsize=7)
    fig.suptitle(
        f"validation digits; GPU runs on an {gpu_rows[0]['gpu']}" if gpu_rows else "",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
