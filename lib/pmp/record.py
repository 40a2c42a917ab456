"""The records chapter 05 ships: the grid of seeds x models, the loss ablation, the GPU ladder.

One JSON line per trained model (``experiments/pmp_grid.py``): its metrics, adequacy check and,
for PMP, its supports. The chapter reads them with :func:`load_grid` and prints the tables
made here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lib.checkpoint import pretrained_path
from lib.metrics import METRIC_NAMES
from lib.pmp.measure import AdequacyRule, compare_means
from lib.pmp.model import (
    ABLATION_KINDS,
    ALL_KINDS,
    KIND_LABELS,
    MODEL_KINDS,
    check_kind,
)
from lib.records import read_records

GRID_RECORD = "pmp/grid.jsonl"


# The ladder's GPU rung: H200 runs of seed 0 (shared records of 2026-11) with probe fields.
H200_RECORD = "pmp/h200_ladder.jsonl"


# PMP seed 0 retrained on a GPU by experiments/pmp_ablation_gpu.sh (weights not kept): how far
# a change of device moves a run, beside the seeds' spread.
DEVICE_CHECK_RECORD = "pmp/device_check.jsonl"


def load_grid(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The records ``experiments/pmp_grid.py`` wrote (one JSON object per line)."""
    path = Path(path) if path is not None else pretrained_path(GRID_RECORD)
    return read_records(
        path, made_by="experiments/pmp_grid.py", required=("kind", "seed", "metrics")
    )


def grid_table(
    records: list[dict[str, Any]],
    metrics: tuple[str, ...] = METRIC_NAMES,
    kinds: tuple[str, ...] = MODEL_KINDS,
) -> dict[str, dict[str, tuple[float, float, int]]]:
    """``{kind: {metric: (mean, std, n_seeds)}}``; std is the sample std (ddof 1; 0 for one seed).

    Only the latest record of each (kind, seed) counts; ``kinds``: the rows (default the
    paper's comparison, PMP and Ada-GVAE).
    """
    latest = _latest(records)
    table: dict[str, dict[str, tuple[float, float, int]]] = {}
    for kind in kinds:
        check_kind(kind)
        rows = [r for (k, _), r in sorted(latest.items()) if k == kind]
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


ABLATION_COLUMNS = (
    ("mean_foreign_share", "foreign share"),
    ("product_residual", "product residual"),
    ("L_spar", "L_spar"),
    ("support_mass", "support mass"),
    ("DCI D", "DCI D"),
    ("MIG", "MIG"),
    ("probe_bce", "BCE / pixel"),
)


def _latest(records: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for r in records:
        latest[(r["kind"], r["seed"])] = r
    return latest


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
    """``{kind: {column: (mean, std, n_seeds)}}`` for :data:`ABLATION_COLUMNS`, every kind.

    A metric is read from ``record["metrics"]``, anything else from the record; a column a kind
    does not have (Ada-GVAE has no supports) is NaN. std: sample std (0 for one seed).
    """
    latest = _latest(records)
    table: dict[str, dict[str, tuple[float, float, int]]] = {}
    for kind in ALL_KINDS:
        rows = [r for (k, _), r in sorted(latest.items()) if k == kind]
        if not rows:
            continue
        table[kind] = {}
        for key, _ in ABLATION_COLUMNS:
            values = np.array([_column(r, key) for r in rows], dtype=np.float64)
            std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            table[kind][key] = (float(values.mean()), std, len(values))
    return table


def format_ablation(table: dict[str, dict[str, tuple[float, float, int]]]) -> str:
    """The ablation table as fixed-width text: one row per model, mean ± std per column."""
    header = f"{'model':<24}{'seeds':>6}" + "".join(
        f"{label:>18}" for _, label in ABLATION_COLUMNS
    )
    lines = [header]
    for kind, row in table.items():
        n = next(iter(row.values()))[2]
        cells = "".join(
            f"{'-':>18}"
            if np.isnan(row[key][0])
            else f"{row[key][0]:>11.3f} ± {row[key][1]:.3f}"
            if n > 1
            else f"{row[key][0]:>11.3f}      "  # one seed: no spread
            for key, _ in ABLATION_COLUMNS
        )
        lines.append(f"{KIND_LABELS[kind]:<24}{n:>6}{cells}")
    return "\n".join(lines)


def format_adequacy(
    records: list[dict[str, Any]], rule: AdequacyRule | None = None
) -> str:
    """One line per record: model, seed, steps, device, each factor's accuracy (chance), pass.

    Records without the adequacy fields (side runs made before they existed) are skipped.
    """
    rule = rule or AdequacyRule()  # the chapter's (PMPChapterConfig.adequacy)
    head = f"{'model':<24}{'seed':>5}{'steps':>8}{'device':>12}"
    head += (
        "".join(f"{f + ' (chance)':>22}" for f in rule.factors) + f"{'adequate':>10}"
    )
    lines = [head]
    for r in records:
        if "factor_accuracy" not in r:
            continue
        cells = "".join(
            f"{r['factor_accuracy'][f]:>13.3f} ({r['factor_chance'][f]:.3f})"
            for f in rule.factors
        )
        verdict = "yes" if rule.passes(r["factor_accuracy"]) else "no"
        lines.append(
            f"{KIND_LABELS[r['kind']]:<24}{r['seed']:>5}{r['steps']:>8,}"
            f"{r.get('gpu', r['device']).replace('NVIDIA ', ''):>12}{cells}{verdict:>10}"
        )
    return "\n".join(lines)


def ablation_findings(
    table: dict[str, dict[str, tuple[float, float, int]]],
    columns: tuple[tuple[str, str], ...] = (
        ("mean_foreign_share", "mean foreign share"),
        ("product_residual", "product residual"),
        ("MIG", "MIG"),
        ("DCI D", "DCI D"),
    ),
) -> dict[str, str]:
    """One sentence per ablation kind: each column's mean ± std against PMP's, and what
    :func:`compare_means` says of the two. A kind with no record says how to train it."""
    if "pmp" not in table:
        raise ValueError("the ablation table has no PMP row to compare with")
    findings = {}
    for kind in ABLATION_KINDS:
        if kind not in table:
            findings[kind] = (
                f"{KIND_LABELS[kind]}: no run recorded yet (the ablation option of "
                "experiments/pmp_grid.py trains it)"
            )
            continue
        row, ref = table[kind], table["pmp"]

        def value(cell: tuple[float, float, int]) -> str:  # no spread for one seed
            return f"{cell[0]:.3f}" + (f" ± {cell[1]:.3f}" if cell[2] > 1 else "")

        parts = [
            f"{label} {value(row[key])} against {value(ref[key])}, "
            f"{compare_means(row[key], ref[key])}"
            for key, label in columns
        ]
        seeds = row[columns[0][0]][2]
        findings[kind] = (
            f"{KIND_LABELS[kind]} ({seeds} seed{'s' if seeds > 1 else ''}): "
            + "; ".join(parts)
        )
    return findings
