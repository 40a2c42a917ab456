"""Train the dSprites factor judge (lib.judge) on rendered originals and save its checkpoint.

The judge is trained on a fresh batch of procedurally rendered dSprites every step (each
factor drawn uniformly, generator seeded by ``--seed``) and measured on ``--n-eval``
held-out originals drawn with another seed (``--eval-seed``). The held-out draws are not
disjoint from the training draws by construction: the grid has 737,280 combinations, and a
run of S steps of B images draws about 1 - exp(-S B / 737,280) of them, so a held-out image
may repeat one seen in training. The run records which combinations it drew, and the meta
gives the fraction of held-out images seen in training and the accuracy on those never seen
beside the accuracy on all.

The shipped judge (``lib/pretrained/judges/dsprites_factor_judge``) is written only when
asked; by default the checkpoint goes where ``--out`` says:

    python experiments/train_factor_judge.py --out /tmp/judge                # a trial
    python experiments/train_factor_judge.py --update-shipped                # the shipped one
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from lib.checkpoint import checkpoint_paths, pretrained_path, save_checkpoint
from lib.cli import (
    MAX_BATCH,
    MAX_IMAGES,
    MAX_STEPS,
    int_at_least,
    real_at_least,
    refuse_shipped,
    run_main,
    seed_value,
    threads,
)
from lib.config import check_can_write
from lib.data.dsprites import FACTOR_NAMES, FACTOR_SIZES, DSprites, flat_index
from lib.judge import (
    FactorJudgeConfig,
    chance_accuracy,
    factor_accuracy,
    train_factor_judge,
)

SHIPPED = "judges/dsprites_factor_judge"
DEFAULTS = {
    "steps": 6000,
    "batch": 128,
    "lr": 2e-3,
    "seed": 0,
    "eval_seed": 1,
    "n_eval": 10_000,
    "threads": 1,
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = OneLineParser(prog="train_factor_judge.py", description=__doc__.splitlines()[0])
    p.add_argument(
        "--steps", type=int_at_least(1, MAX_STEPS), default=DEFAULTS["steps"]
    )
    p.add_argument(
        "--batch", type=int_at_least(1, MAX_BATCH), default=DEFAULTS["batch"]
    )
    p.add_argument("--lr", type=real_at_least(0, strict=True), default=DEFAULTS["lr"])
    p.add_argument("--seed", type=seed_value, default=DEFAULTS["seed"])
    p.add_argument("--eval-seed", type=seed_value, default=DEFAULTS["eval_seed"])
    p.add_argument(
        "--n-eval", type=int_at_least(1, MAX_IMAGES), default=DEFAULTS["n_eval"]
    )
    p.add_argument("--threads", type=threads, default=DEFAULTS["threads"])
    p.add_argument("--out", type=Path, help="checkpoint path (without suffix)")
    p.add_argument(
        "--update-shipped",
        action="store_true",
        help=f"write the shipped checkpoint lib/pretrained/{SHIPPED}",
    )
    args = p.parse_args(argv)
    if args.seed == args.eval_seed:
        p.error(f"--eval-seed must differ from --seed, both are {args.seed}")
    if (args.out is None) == (not args.update_shipped):
        p.error(
            "say where the checkpoint goes: --out PATH or --update-shipped, one of them"
        )
    if args.out is not None:  # checked before the training, and nothing created
        for path in (args.out, *checkpoint_paths(check_can_write(args.out, "--out"))):
            check_can_write(path, "--out")
        refuse_shipped(args.out, "--out")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    path = pretrained_path(SHIPPED) if args.update_shipped else args.out
    config = FactorJudgeConfig()
    judge, trainer = train_factor_judge(
        args.steps, batch_size=args.batch, lr=args.lr, seed=args.seed, config=config
    )
    print(trainer.summary())

    start = time.perf_counter()
    data = DSprites()
    factors = data.sample_factors(args.n_eval, np.random.default_rng(args.eval_seed))
    images = torch.from_numpy(data.render(factors))  # (n_eval, 1, 64, 64)
    accuracy = factor_accuracy(judge, images, factors)
    seen = trainer.batch_fn.seen[flat_index(factors, FACTOR_SIZES)]  # (n_eval,)
    unseen = (
        factor_accuracy(judge, images[torch.from_numpy(~seen)], factors[~seen])
        if (~seen).any()
        else {}
    )
    eval_seconds = time.perf_counter() - start

    meta = {
        "steps": trainer.step,
        "batch_size": args.batch,
        "lr": args.lr,
        "schedule": "cosine, warm-up 2%",
        "threads": torch.get_num_threads(),
        "device": "cpu",
        "seconds": round(trainer.seconds, 1),
        "seed": args.seed,
        "eval_seed": args.eval_seed,
        "n_eval": args.n_eval,
        "accuracy": {k: round(v, 4) for k, v in accuracy.items()},
        "chance": {k: round(v, 4) for k, v in chance_accuracy(factors).items()},
        "orientation_scoring": "modulo each shape's rotational symmetry, half a grid "
        "step of tolerance (lib.judge.orientation_equivalence)",
        "eval_seen_in_training": round(float(seen.mean()), 4),
        "accuracy_unseen": {k: round(v, 4) for k, v in unseen.items()},
        "n_unseen": int((~seen).sum()),
        "eval_seconds": round(eval_seconds, 1),
        "torch": torch.__version__,
        "command": "python experiments/train_factor_judge.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    history = {
        k: [float(f"{v:.5g}") for v in values] for k, values in trainer.history.items()
    }
    saved = save_checkpoint(
        path,
        judge,
        config.to_dict(),
        history=history,
        meta=meta,
        step=trainer.step,
    )
    width = max(map(len, FACTOR_NAMES))
    print(f"held-out originals ({args.n_eval}, seed {args.eval_seed}):")
    for name in FACTOR_NAMES:
        print(
            f"  {name:<{width}}  {accuracy[name]:.4f}   never seen in training "
            f"{unseen.get(name, float('nan')):.4f}   chance {meta['chance'][name]:.4f}"
        )
    print(
        f"{meta['eval_seen_in_training']:.1%} of the held-out combinations were drawn in "
        f"training; {trainer.step} steps in {trainer.seconds:.0f} s on "
        f"{meta['threads']} thread(s); wrote {saved} ({saved.stat().st_size:,} bytes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
