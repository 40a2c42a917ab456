"""The record of chapter 02's loss-weight sweep: one JSON line per evaluation point of a run.

``experiments/torus_sweep.py`` trains the chapter's model for one setting and appends rows
holding :func:`lib.toroidal.measure.sweep_measures`; the chapter prints the shipped record (:data:`TORUS_SWEEP`) with
:func:`load_sweep` and :func:`format_sweep`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lib.checkpoint import PRETRAINED_DIR
from lib.records import read_records

TORUS_SWEEP = PRETRAINED_DIR / "toroidal" / "sweep.jsonl"
# The chapter's recipe on an NVIDIA H200 (records of 2026-11, made with experiments/torus_sweep.py
# --device cuda; each row names its source): faithful seeds 0 (30,000 steps) and 1 (20,000), and
# the decorrelated model (20,000). Same row format as the sweep.
TORUS_GPU_RECORD = PRETRAINED_DIR / "toroidal" / "h200_runs.jsonl"


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
    if not last_only:
        return rows
    last: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["step"] >= last.get(row["name"], {"step": -1})["step"]:
            last[row["name"]] = row
    return list(last.values())


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
