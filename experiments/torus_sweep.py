"""Sweep the loss weights of the toroidal AE (chapter 02) and record the held-out uniformity.

The paper gives no loss weights, batch size or training length. This script trains the chapter's
model (same network, data split and recipe as the notebook, from ``lib.recipes``) for one setting
and appends one JSON line per evaluation point to a record, by default
``lib/pretrained/torus/sweep.jsonl``, shipped beside the chapter's checkpoints. The chapter reads
it to show the sweep behind its choice of weights.

    python experiments/torus_sweep.py --name s10k --spring 10000 --seed 1
    python experiments/torus_sweep.py --summary            # table of the last point of every run

One run of 1,000 steps takes about 3.5 minutes on one CPU thread (two runs side by side on the
2-core machine). Every line records the arguments, the step, the wall time and, on the validation
digits (and the training digits), the KS statistic of each angle, the circular correlations of the
three angle pairs, the mean and std of r^2, the reconstruction MSE and the classifier accuracy.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from lib.data.mnist import load_mnist
from lib.device import resolve_device
from lib.losses.torus import TorusLossWeights
from lib.models.torus import TorusAutoencoder
from lib.recipes import (TORUS_CHAPTER_CONFIG, TORUS_SWEEP, evaluate_torus_ae, format_sweep, load_sweep,
                         torus_trainer)


def measure(model: TorusAutoencoder, images: torch.Tensor, labels: torch.Tensor) -> dict:
    ev = evaluate_torus_ae(model, images, labels)
    corr = ev["corr"]
    return {
        "ks": [round(float(v), 4) for v in ev["ks"]],
        "corr": [round(float(corr[a, b]), 3) for a, b in ((0, 1), (0, 2), (1, 2))],
        "r2_mean": round(ev["r2"].mean().item(), 4), "r2_std": round(ev["r2"].std().item(), 4),
        "mse": round(ev["mse"], 5), "accuracy": round(ev["accuracy"], 4),
    }


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    x_train, y_train = load_mnist("train").tensors(device)
    x_val, y_val = load_mnist("test").tensors(device)
    weights = TorusLossWeights(recon=1.0, classifier=args.classifier, spring=args.spring,
                               quantile=args.quantile, decorrelation=args.decorrelation)
    torch.manual_seed(args.seed)  # the notebook's new_model(): same initial weights for a seed
    model = TorusAutoencoder(TORUS_CHAPTER_CONFIG).to(device)
    trainer = torus_trainer(model, x_train, y_train, weights, steps=args.steps, batch_size=args.batch_size,
                            lr=args.lr, seed=args.seed, progress=False)
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "summary")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for step in range(args.every, args.steps + args.every, args.every):
        trainer.fit(min(step, args.steps))
        row = {**settings, "step": trainer.step, "seconds": round(time.perf_counter() - start, 1),
               "val": measure(model, x_val, y_val), "train": measure(model, x_train, y_train),
               "spring_last50": round(float(np.mean(trainer.history["spring"][-50:])), 4)}
        print(json.dumps(row), flush=True)
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")


def summary(path: Path) -> None:
    print(format_sweep(load_sweep(path)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", help="run name (one line per evaluation point is appended)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--every", type=int, default=250, help="evaluate every N steps")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--spring", type=float, default=10_000.0)
    p.add_argument("--quantile", type=float, default=100_000.0)
    p.add_argument("--classifier", type=float, default=10.0)
    p.add_argument("--decorrelation", type=float, default=0.0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: run two sweeps side by side)")
    p.add_argument("--device", default="cpu", help='"cpu" (default, as the recorded runs), "cuda", "mps" or "auto"')
    p.add_argument("--out", type=Path, default=TORUS_SWEEP, help="JSON-lines record (default: shipped beside the checkpoints)")
    p.add_argument("--summary", action="store_true", help="print the last point of every run and exit")
    args = p.parse_args()
    if args.summary:
        summary(args.out)
    elif not args.name:
        p.error("--name is required to run")
    else:
        run(args)


if __name__ == "__main__":
    main()
