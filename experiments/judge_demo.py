"""Can a well-trained autoencoder pass chapter 05's adequacy check? A demonstration.

Chapter 05's rule calls a model adequate when the shipped dSprites factor judge
(:mod:`lib.judge`) recovers shape, scale and orientation from its reconstructions at
>= 75 % of its accuracy on the originals. A check that no model can pass decides nothing, so
this script trains chapter 04's plain dSprites autoencoder (the same conv64 network, loss and
optimiser as :func:`lib.measuring.fit_dsprites_ae`, fresh images every step) for ``--steps``
and appends, every ``--every`` steps, the judge's accuracy and ratio per factor on 2,000
held-out images (seed 7) to ``--out``:

    python experiments/judge_demo.py --steps 40000 --every 5000 --out runs/judge_demo.jsonl
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from lib.checkpoint import load_pretrained, save_checkpoint
from lib.cli import int_at_least, run_main, threads
from lib.data import DSprites
from lib.judge import reconstruction_adequacy
from lib.measuring.recipes import dsprites_batches, get_config
from lib.nets import Conv64Autoencoder, bce_ae_loss
from lib.pmp.measure import ADEQUACY_FACTORS, ADEQUACY_FRACTION
from lib.records import append_record
from lib.trainer import Trainer, TrainerConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int_at_least(1), default=40_000)
    parser.add_argument("--every", type=int_at_least(1), default=5_000)
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    parser.add_argument("--threads", type=threads, default=1)
    parser.add_argument("--out", required=True, help="JSON-lines record to append to")
    parser.add_argument(
        "--save", default=None, help="checkpoint path for the final model"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    chapter = get_config()
    data = DSprites()
    judge, _ = load_pretrained("judges/dsprites_factor_judge")
    factors = data.sample_factors(2000, np.random.default_rng(7))
    images = torch.from_numpy(data.render(factors))
    torch.manual_seed(args.seed)
    model = Conv64Autoencoder(chapter.model)
    batches = dsprites_batches(data, chapter.batch_size, args.seed)
    trainer = Trainer(
        model, bce_ae_loss, batches, TrainerConfig(steps=args.steps, lr=chapter.lr)
    )
    start = time.perf_counter()
    while trainer.step < args.steps:
        trainer.fit(min(args.steps, trainer.step + args.every))
        model.eval()
        with torch.no_grad():
            recon = torch.sigmoid(model.decode(model.encode(images)))
        model.train()
        result = reconstruction_adequacy(judge, images, recon, torch.as_tensor(factors))
        adequate = all(
            result[f]["ratio"] >= ADEQUACY_FRACTION for f in ADEQUACY_FACTORS
        )
        line = {
            "model": "measuring Conv64Autoencoder (chapter 04's recipe)",
            "seed": args.seed,
            "step": trainer.step,
            "threads": args.threads,
            "seconds": round(time.perf_counter() - start, 1),
            "recon_loss_last100": float(np.mean(trainer.history["loss"][-100:])),
            "judge": {
                f: {k: round(v, 4) for k, v in r.items()} for f, r in result.items()
            },
            "adequate": adequate,
            "made_by": "experiments/judge_demo.py",
        }
        append_record(args.out, line)
        ratios = {f: round(result[f]["ratio"], 3) for f in result}
        print(f"step {trainer.step}: ratios {ratios} adequate {adequate}", flush=True)
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
