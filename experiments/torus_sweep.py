"""Sweep the loss weights of the toroidal AE (chapter 02) and record the held-out uniformity.

The paper gives no loss weights, batch size or training length. This script trains the chapter's
model (same network, data split and recipe as the notebook: the run spec ``lib.toroidal.TorusRun``
built by ``lib.toroidal.build_run``) for one setting and appends one JSON line per evaluation point to
the record named by ``--out``. The chapter prints the record shipped beside its checkpoints,
``lib/pretrained/toroidal/sweep.jsonl``; to add a run to it, say so with ``--update-shipped``.

    python experiments/torus_sweep.py --name s10k --spring 10000 --seed 1 --out runs.jsonl
    python experiments/torus_sweep.py --name s10k --spring 10000 --update-shipped
    python experiments/torus_sweep.py --summary            # the shipped record, last point per run
    python experiments/torus_sweep.py --summary --out runs.jsonl

One run of 1,000 steps takes about 3.5 minutes on one CPU thread (two runs side by side on the
2-core machine). Every line records the settings, the step, the training seconds so far (wall
seconds in the lines written before the run spec, December 2026) and, on the validation
digits (and the training digits), the KS statistic of each angle, the circular correlations of the
three angle pairs, the mean and std of r^2, the reconstruction MSE and the classifier accuracy.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from lib.cli import (
    MAX_BATCH,
    MAX_STEPS,
    int_at_least,
    real_at_least,
    refuse_shipped,
    run_main,
    seed_value,
    threads,
)
from lib.config import check_can_write, config_arguments, config_from_args
from lib.data.mnist import load_mnist_train_test
from lib.device import resolve_device
from lib.records import append_record, check_appendable
from lib.toroidal import (
    TORUS_SWEEP,
    TorusRun,
    build_run,
    format_sweep,
    load_sweep,
    sweep_point,
    sweep_settings,
)

# the run spec's settings this script sets, with the flags of the shipped record's names
FLAGS = {
    "seed": ("--seed", seed_value),
    "trainer.steps": ("--steps", int_at_least(1, MAX_STEPS)),
    "batch_size": ("--batch-size", int_at_least(1, MAX_BATCH)),
    "trainer.lr": ("--lr", real_at_least(0, strict=True)),
    "weights.spring": ("--spring", real_at_least(0)),
    "weights.quantile": ("--quantile", real_at_least(0)),
    "weights.classifier": ("--classifier", real_at_least(0)),
    "weights.decorrelation": ("--decorrelation", real_at_least(0)),
}


def run(spec: TorusRun, args: argparse.Namespace) -> None:
    """Train ``spec`` (:func:`lib.toroidal.build_run`, as the chapter and the sweep trial
    do), appending a line of :func:`lib.toroidal.sweep_point` every ``--every`` steps."""
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    digits = load_mnist_train_test().tensors(device)
    parts = build_run(spec, digits[0], digits[1], device)
    trainer = parts.trainer(progress=False)
    stamp = {
        "name": args.name,
        **sweep_settings(spec),
        "every": args.every,
        "threads": args.threads,
        "device": args.device,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    steps = spec.trainer.steps
    for step in range(args.every, steps + args.every, args.every):
        trainer.fit(min(step, steps))
        row = sweep_point(parts.model, trainer, digits, stamp)
        print(json.dumps(row), flush=True)
        append_record(args.out, row)


def main(argv: list[str] | None = None) -> int:
    spec = TorusRun()  # the chapter's faithful run: its network, weights and budget
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--name", help="run name (one line per evaluation point is appended)"
    )
    config_arguments(p, spec, FLAGS)
    p.add_argument(
        "--every",
        type=int_at_least(1, MAX_STEPS),
        default=250,
        help="evaluate every N steps",
    )
    p.add_argument(
        "--threads",
        type=threads,
        default=1,
        help="torch CPU threads (1: run two sweeps side by side)",
    )
    p.add_argument(
        "--device",
        default="cpu",
        help='"cpu" (default, as the recorded runs), "cuda", "mps" or "auto"',
    )
    p.add_argument(
        "--out", type=Path, help="JSON-lines record to append to (or to summarise)"
    )
    p.add_argument(
        "--update-shipped",
        action="store_true",
        help=f"append to the record shipped with the chapter, {TORUS_SWEEP.name}",
    )
    p.add_argument(
        "--summary",
        action="store_true",
        help="print the last point of every run and exit",
    )
    args = p.parse_args(argv)
    if args.out is not None and args.update_shipped:
        p.error("give --out or --update-shipped, not both")
    if args.summary:
        print(format_sweep(load_sweep(args.out or TORUS_SWEEP)))
        return 0
    if args.update_shipped:
        args.out = TORUS_SWEEP
    if args.out is None:
        p.error("say where the record goes: --out FILE, or --update-shipped")
    if not args.name:
        p.error("--name is required to run")
    # the record is checked before anything is trained: a folder, a read-only place or a
    # shipped file (without --update-shipped) is refused now, not after the training
    check_appendable(check_can_write(args.out, "--out"), "--out")
    if not args.update_shipped:
        refuse_shipped(args.out, "--out")
    run(config_from_args(p, args, spec), args)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
