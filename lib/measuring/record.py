"""Chapter 04's shipped record: the beta-VAE population, trained and scored by
``experiments/beta_vae_population.py``, one JSON line per model.

A row holds ``name`` (the checkpoint), ``family`` ("beta-VAE"), ``beta``, ``seed``, ``steps``,
``batch_size``, ``lr``, ``train_seconds``, ``score_seconds``, ``threads``, ``device``,
``final_recon`` and ``final_kl`` (the mean of the last 100 steps), ``metrics`` (every metric of
:func:`lib.metrics.score_all`), ``metric_sizes`` and the adequacy check (``judge``,
``judge_adequate``; :func:`lib.measuring.measure.judge_adequacy`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lib.checkpoint import pretrained_path
from lib.records import read_records

BETA_VAE_RECORD = "measuring/beta_vae.jsonl"
MADE_BY = "experiments/beta_vae_population.py --all --update-shipped"
REQUIRED = ("name", "family", "beta", "seed", "steps", "metrics", "judge_adequate")


def load_beta_vaes(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The rows of the beta-VAE record (the shipped one unless ``path``), sorted by beta
    then seed; a model recorded twice keeps its last row."""
    rows = read_records(
        path or pretrained_path(BETA_VAE_RECORD), made_by=MADE_BY, required=REQUIRED
    )
    latest = {(r["beta"], r["seed"]): r for r in rows}
    return [latest[k] for k in sorted(latest)]


def population_table(rows: list[dict[str, Any]], metrics: tuple[str, ...]) -> str:
    """One line per model: its name, family, beta, seed, steps, adequacy and ``metrics``."""
    head = (
        f"{'model':<24}{'family':<10}{'beta':>5}{'seed':>5}{'steps':>7}{'adequate':>9}"
    )
    lines = [head + "".join(f"{m:>11}" for m in metrics)]
    for r in rows:
        beta = "" if r.get("beta") is None else f"{r['beta']:g}"
        line = (
            f"{r['name']:<26}{r['family']:<10}{beta:>5}{r['seed']:>5}{r['steps']:>7}"
            f"{'yes' if r['judge_adequate'] else 'no':>9}"
        )
        lines.append(line + "".join(f"{r['metrics'][m]:>11.3f}" for m in metrics))
    return "\n".join(lines)
