"""Train chapter 04's beta-VAE population on dSprites, one model at a time, and record it.

Chapter 04 tests Locatello et al.'s finding that the metrics other than modularity agree in
rank over trained models on a population of independent models that vary in how
disentangled they are: the beta-VAE (Higgins et al. 2017) with beta in {1, 2, 4, 8, 16} and
two seeds (``lib.measuring.get_config()``: ``betas``, ``population_seeds``, ``vae_steps``),
beside chapter 05's models. Each call trains one (beta, seed) with the chapter's recipe
(``lib.measuring.fit_beta_vae``, the function the notebook calls), writes the checkpoint
``measuring/beta_vae_b<beta>_s<seed>``, scores it with every metric at the chapter's sizes
(those of chapter 05's records), runs the adequacy check (the shipped factor judge,
``lib.measuring.judge_adequacy``) and appends one JSON line (``lib/measuring/record.py``).

By default the checkpoint goes to the user cache and the record to ``--out`` (default
``<cache>/records/beta_vae.jsonl``); ``--update-shipped`` writes the shipped checkpoint and
record. ``--all`` trains every model the record lacks, in turn (so an interrupted run
resumes where it stopped).

    python experiments/beta_vae_population.py --beta 4 --seed 0
    python experiments/beta_vae_population.py --all --update-shipped --threads 1
    python experiments/beta_vae_population.py --summary

On one thread of the shared 2-core CPU machine a model of the chapter's 1,000 steps trained in
about 3 minutes and scored in about 5 (the metrics render and encode about 290,000 images, and
DCI fits boosted trees). A longer budget: ``--steps N`` (a GPU: ``--device cuda``), into
another ``--out`` record.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import joblib
import numpy as np
import torch

from lib.checkpoint import load_pretrained, pretrained_path, user_cache_dir
from lib.cli import int_at_least, real_at_least, run_main, threads
from lib.measuring import (
    AGREEING,
    BETA_VAE_RECORD,
    SmallChunkDSprites,
    beta_vae_name,
    encode_images,
    fit_beta_vae,
    get_config,
    judge_adequacy,
    load_beta_vaes,
    population_table,
    score_all,
)
from lib.measuring.measure import JUDGE_NAME
from lib.notebook import setup
from lib.records import append_record


def record_path(args: argparse.Namespace) -> Path:
    if args.out:
        return Path(args.out)
    if args.update_shipped:
        return pretrained_path(BETA_VAE_RECORD)
    return user_cache_dir() / "records" / Path(BETA_VAE_RECORD).name


def run_one(args: argparse.Namespace, beta: float, seed: int) -> dict:
    torch.set_num_threads(args.threads)
    chapter = get_config()
    if args.steps is not None:
        chapter = replace(chapter, vae_steps=args.steps)
    save = "shipped" if args.update_shipped else "cache"
    settings = setup(device=args.device, seed=seed, train="always", save=save)
    data = SmallChunkDSprites()  # the same images, rendered faster on one thread
    run = fit_beta_vae(settings, chapter, data, beta, seed)
    model = run.model.eval()
    start = time.perf_counter()
    # chunks of 64 images: the same codes, 2-3 times faster on one thread than 1,024
    encode = encode_images(model, settings.device, chunk=64)
    # one process: DCI's per-factor fits would otherwise take every core (joblib)
    with joblib.parallel_config(backend="sequential"):
        metrics = score_all(data, encode, chapter.sizes, seed=seed)
    judge, _ = load_pretrained(JUDGE_NAME)
    check = judge_adequacy(model, judge, data, settings.device)
    score_seconds = time.perf_counter() - start
    tail = slice(-100, None)
    record = {
        "name": beta_vae_name(beta, seed),
        "family": "beta-VAE",
        "kind": "beta_vae",
        "beta": float(beta),
        "seed": seed,
        "steps": run.meta["steps"],
        "batch_size": run.meta["batch_size"],
        "lr": run.meta["lr"],
        "train_seconds": run.meta["train_seconds"],
        "score_seconds": round(score_seconds, 1),
        "threads": args.threads,
        "device": settings.device.type,
        "final_recon": float(np.mean(run.history["recon"][tail])),
        "final_kl": float(np.mean(run.history["kl"][tail])),
        "metrics": metrics,
        "metric_sizes": vars(chapter.sizes),
        **check,
    }
    append_record(record_path(args), record)
    print(json.dumps({k: v for k, v in record.items() if k != "judge"}), flush=True)
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beta", type=real_at_least(0.0, strict=True))
    parser.add_argument("--seed", type=int_at_least(0))
    parser.add_argument(
        "--all", action="store_true", help="every model the record lacks"
    )
    parser.add_argument("--steps", type=int_at_least(1), help="override vae_steps")
    parser.add_argument("--threads", type=threads, default=1)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    parser.add_argument("--update-shipped", action="store_true")
    parser.add_argument("--out", help="the record to append to")
    parser.add_argument("--summary", action="store_true", help="print the record")
    args = parser.parse_args(argv)
    out = record_path(args)
    if args.summary:
        print(population_table(load_beta_vaes(out), AGREEING + ("modularity",)))
        return 0
    if args.all:
        chapter = get_config()
        done = set()
        if out.is_file():
            done = {(r["beta"], r["seed"]) for r in load_beta_vaes(out)}
        # seeds outermost: an interrupted run still has every beta of the first seed
        for seed in chapter.population_seeds:
            for beta in chapter.betas:
                if (float(beta), seed) not in done:
                    run_one(args, beta, seed)
        return 0
    if args.beta is None or args.seed is None:
        parser.error("give --beta and --seed, or --all, or --summary")
    run_one(args, args.beta, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
