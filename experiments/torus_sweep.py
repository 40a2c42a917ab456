"""Sweep the loss weights of the toroidal AE (chapter 02) and record the held-out uniformity.

The paper gives no loss weights, batch size or training length. This script trains the chapter's
model (same network, data split and recipe as the notebook: ``lib.toroidal.get_config()`` and
``lib.toroidal.torus_trainer``) for one setting and appends one JSON line per evaluation point to
the record named by ``--out``. The chapter prints the record shipped beside its checkpoints,
``lib/pretrained/toroidal/sweep.jsonl``; to add a run to it, say so with ``--update-shipped``.

    python experiments/torus_sweep.py --name s10k --spring 10000 --seed 1 --out runs.jsonl
    python experiments/torus_sweep.py --name s10k --spring 10000 --update-shipped
    python experiments/torus_sweep.py --summary            # the shipped record, last point per run
    python experiments/torus_sweep.py --summary --out runs.jsonl

One run of 1,000 steps takes about 3.5 minutes on one CPU thread (two runs side by side on the
2-core machine). Every line records the arguments, the step, the wall time and, on the validation
digits (and the training digits), the KS statistic of each angle, the circular correlations of the
three angle pairs, the mean and std of r^2, the reconstruction MSE and the classifier accuracy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
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
from lib.config import check_can_write
from lib.data.mnist import load_mnist_train_test
from lib.device import resolve_device
from lib.records import append_record, check_appendable
from lib.toroidal import (
    TORUS_SWEEP,
    TorusLossWeights,
    format_sweep,
    get_config,
    load_sweep,
)
from lib.toroidal.measure import sweep_measures
from lib.toroidal.recipes import new_torus_ae, torus_trainer


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    x_train, y_train, x_val, y_val = load_mnist_train_test().tensors(device)
    weights = TorusLossWeights(
        recon=1.0,
        classifier=args.classifier,
        spring=args.spring,
        quantile=args.quantile,
        decorrelation=args.decorrelation,
    )
    model = new_torus_ae(
        get_config().model, args.seed, device
    )  # the notebook's initial weights
    trainer = torus_trainer(
        model,
        x_train,
        y_train,
        weights,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        progress=False,
    )
    skip = ("out", "summary", "update_shipped")
    settings = {k: v for k, v in vars(args).items() if k not in skip}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for step in range(args.every, args.steps + args.every, args.every):
        trainer.fit(min(step, args.steps))
        row = {
            **settings,
            "step": trainer.step,
            "seconds": round(time.perf_counter() - start, 1),
            "val": sweep_measures(model, x_val, y_val),
            "train": sweep_measures(model, x_train, y_train),
            "spring_last50": round(float(np.mean(trainer.history["spring"][-50:])), 4),
        }
        print(json.dumps(row), flush=True)
        append_record(args.out, row)


def main(argv: list[str] | None = None) -> int:
    chapter = get_config()
    weights = chapter.torus_weights
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--name", help="run name (one line per evaluation point is appended)"
    )
    p.add_argument("--seed", type=seed_value, default=0)
    p.add_argument("--steps", type=int_at_least(1, MAX_STEPS), default=chapter.steps)
    p.add_argument(
        "--every",
        type=int_at_least(1, MAX_STEPS),
        default=250,
        help="evaluate every N steps",
    )
    p.add_argument(
        "--batch-size", type=int_at_least(1, MAX_BATCH), default=chapter.batch_size
    )
    p.add_argument("--lr", type=real_at_least(0, strict=True), default=chapter.lr)
    p.add_argument("--spring", type=real_at_least(0), default=weights.spring)
    p.add_argument("--quantile", type=real_at_least(0), default=weights.quantile)
    p.add_argument("--classifier", type=real_at_least(0), default=weights.classifier)
    p.add_argument(
        "--decorrelation", type=real_at_least(0), default=weights.decorrelation
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
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
