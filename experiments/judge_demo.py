"""Can a well-trained autoencoder pass chapter 05's adequacy check? A demonstration.

Chapter 05's rule calls a model adequate when the shipped dSprites factor judge
(:mod:`lib.judge`) recovers shape, scale and orientation from its reconstructions at
>= 75 % of its accuracy on the originals. A check that no model can pass decides nothing, so
this script trains chapter 04's plain dSprites autoencoder (the same conv64 network, loss and
optimiser as :func:`lib.measuring.fit_dsprites_ae`, fresh images every step) for ``--steps``
and appends, every ``--every`` steps, the judge's accuracy and ratio per factor to ``--out``:

    python experiments/judge_demo.py --steps 40000 --every 5000 --out runs/judge_demo.jsonl \
        --save runs/judge_demo_ae

``--images`` picks the images the judge reads: ``seed7`` (the default, as the shipped
record's training series: 2,000 images drawn with seed 7) or ``judge`` (the 2,000 fixed
images of :func:`lib.pmp.judge_images`, which chapter 05's models were judged on). Every line
names them in its ``images`` field. ``--score CHECKPOINT`` trains nothing: it judges a saved
model (``--save`` of an earlier run) once and appends one line. The shipped record's last
line was made so:

    python experiments/judge_demo.py --score runs/judge_demo_ae --images judge \
        --out lib/pretrained/judges/judge_demo.jsonl --update-shipped

(``--out`` names a shipped record only with ``--update-shipped``; ``--save`` never names a
shipped checkpoint.)
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from lib.checkpoint import (
    checkpoint_paths,
    load_checkpoint,
    load_pretrained,
    save_checkpoint,
)
from lib.cli import (
    MAX_STEPS,
    int_at_least,
    record_file,
    refuse_shipped,
    run_main,
    seed_value,
    threads,
)
from lib.config import check_can_write
from lib.data import DSprites
from lib.errors import ParameterError
from lib.measuring import build_run, get_config
from lib.nets import Conv64Autoencoder
from lib.pmp.measure import judge_adequate, judge_images
from lib.pmp.record import DEMO_IMAGES, JUDGE_IMAGES
from lib.records import append_record

MODEL = "measuring Conv64Autoencoder (chapter 04's recipe)"
# --images: the record's name for the images, and how to draw them
IMAGES = {"seed7": DEMO_IMAGES, "judge": JUDGE_IMAGES}


def demo_images(data: DSprites, which: str) -> tuple[torch.Tensor, np.ndarray]:
    """The 2,000 images the judge reads: ``"seed7"`` or ``"judge"`` (:data:`IMAGES`)."""
    if which not in IMAGES:
        raise ParameterError(f"which must be one of {sorted(IMAGES)}, got {which!r}")
    if which == "judge":
        return judge_images(data)
    factors = data.sample_factors(2000, np.random.default_rng(7))
    return torch.from_numpy(data.render(factors)), factors


@torch.no_grad()
def judge_line(model, judge, data: DSprites, which: str) -> dict:
    """The judge's fields of one record line: the images' name, per factor the judge's
    accuracy on the originals and on the reconstructions, their ratio and chance, and
    whether the model is adequate (the reconstructions are sigmoid(decode(encode(x))), as
    :func:`lib.pmp.judge_report` makes them for chapter 05's models)."""
    from lib.judge import judge_model

    images, factors = demo_images(data, which)
    rounded = judge_model(judge, model, images, factors)
    model.train()
    return {
        "images": IMAGES[which],
        "judge": rounded,
        "adequate": judge_adequate(rounded),
    }


def score_checkpoint(path: str, which: str, out: str, n_threads: int) -> dict:
    """Judge the model saved at ``path`` once and append the line to ``out``."""
    checkpoint_model = Conv64Autoencoder(get_config().model)
    saved = load_checkpoint(path, checkpoint_model)
    weights, meta = checkpoint_paths(path)
    sha256 = json.loads(meta.read_text()).get("sha256", "")
    data = DSprites()
    judge, _ = load_pretrained("judges/dsprites_factor_judge")
    loss = saved.history.get("loss", [])
    line = {
        "model": MODEL,
        "seed": saved.meta.get("seed"),
        "step": saved.step,
        "threads": n_threads,
        "scored_from": f"{weights.name}, sha256 {sha256}",
        "recon_loss_last100": float(np.mean(loss[-100:])) if loss else None,
        **judge_line(checkpoint_model, judge, data, which),
        "made_by": "experiments/judge_demo.py",
    }
    append_record(out, line)
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int_at_least(1, MAX_STEPS), default=40_000)
    parser.add_argument("--every", type=int_at_least(1, MAX_STEPS), default=5_000)
    parser.add_argument("--seed", type=seed_value, default=0)
    parser.add_argument("--threads", type=threads, default=1)
    parser.add_argument(
        "--out", type=record_file, required=True, help="JSON-lines record to append to"
    )
    parser.add_argument(
        "--update-shipped",
        action="store_true",
        help="--out may be the record shipped with the book (maintainers)",
    )
    parser.add_argument(
        "--images",
        choices=sorted(IMAGES),
        default="seed7",
        help="the images the judge reads (seed7: the demo's own; judge: chapter 05's)",
    )
    parser.add_argument(
        "--save", default=None, help="checkpoint path for the final model"
    )
    parser.add_argument(
        "--score",
        default=None,
        metavar="CHECKPOINT",
        help="judge this saved model once (train nothing)",
    )
    args = parser.parse_args(argv)
    if not args.update_shipped:
        refuse_shipped(args.out, "--out")
    if args.save is not None:  # checked now, not after the hours of training
        for path in (
            args.save,
            *checkpoint_paths(check_can_write(args.save, "--save")),
        ):
            check_can_write(path, "--save")
        refuse_shipped(args.save, "--save", flag=None)
    torch.set_num_threads(args.threads)
    if args.score:
        line = score_checkpoint(args.score, args.images, args.out, args.threads)
        ratios = {f: line["judge"][f]["ratio"] for f in line["judge"]}
        print(f"step {line['step']}: ratios {ratios} adequate {line['adequate']}")
        return 0
    chapter = get_config()
    data = DSprites()
    judge, _ = load_pretrained("judges/dsprites_factor_judge")
    # chapter 04's plain autoencoder, its recipe (lib.measuring.build_run), --steps long
    parts = build_run(chapter.run(seed=args.seed, steps=args.steps), data)
    model, trainer = parts.model, parts.trainer()
    start = time.perf_counter()
    while trainer.step < args.steps:
        trainer.fit(min(args.steps, trainer.step + args.every))
        judged = judge_line(model, judge, data, args.images)
        line = {
            "model": MODEL,
            "seed": args.seed,
            "step": trainer.step,
            "threads": args.threads,
            "seconds": round(time.perf_counter() - start, 1),
            "recon_loss_last100": float(np.mean(trainer.history["loss"][-100:])),
            **judged,
            "made_by": "experiments/judge_demo.py",
        }
        append_record(args.out, line)
        ratios = {f: round(r["ratio"], 3) for f, r in judged["judge"].items()}
        print(f"step {trainer.step}: ratios {ratios} adequate {judged['adequate']}")
    if args.save:
        save_checkpoint(
            args.save,
            model,
            model.config.to_dict(),
            history=trainer.history,
            meta={"steps": trainer.step, "seed": args.seed},
            step=trainer.step,
        )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
