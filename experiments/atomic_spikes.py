"""Train chapter 03's atomic autoencoder on spikes in any setting, and measure it.

The chapter trains k = 2 spikes of sigma = 3 px at 64x64 (a CPU budget). The authors' setting is
narrower spikes (sigma = 2.8 px at 128x128), more of them, and up to 1,000,000 iterations: a GPU
run. This script trains either with the chapter's recipe (the run spec ``lib.atomic.spike_run``
built by ``lib.atomic.build_run``, as the sweep trial and ``reproduce.py`` do: Adam, warm-up,
cosine decay, channels-last, fresh spikes every step) and appends one JSON line per evaluation
point to ``--out``: the test MSE, the best |rho| per spike parameter, the block R^2, the median
atom-to-spike distance, what the decoder can draw, and the training seconds so far (wall
seconds in lines written before the run spec, December 2026).

    python experiments/atomic_spikes.py --out runs.jsonl                      # the chapter's
    python experiments/atomic_spikes.py --size 128 --spikes 4 --sigma 2.8 \\
        --margin 8 --steps 100000 --batch 64 --device cuda --out faithful.jsonl          # the authors'
"""

from __future__ import annotations

import argparse
import json
import sys

from lib.atomic import (
    DRAWN_CODE_STEPS,
    SPIKE_SETTINGS,
    build_run,
    get_config,
    spike_measures,
    spike_run,
    spike_settings,
    spike_test_set,
)
from lib.cli import (
    MAX_BATCH,
    MAX_STEPS,
    int_at_least,
    real_at_least,
    record_file,
    refuse_shipped,
    run_main,
)
from lib.device import resolve_device
from lib.errors import BookError
from lib.records import append_record

MAX_SPIKES = 64  # the authors train 4; a model of more atoms than this is a typo
MAX_TEST = 10_000  # ten times the chapter's test set (images up to 512 x 512)

# how each of the spike run's settings (lib.atomic.SPIKE_SETTINGS) is read from its option
TYPES = {
    "size": int_at_least(8),
    "spikes": int_at_least(1, MAX_SPIKES),
    "sigma": real_at_least(0, strict=True),
    "margin": real_at_least(0),
    "separation": real_at_least(0),
    "steps": int_at_least(1, MAX_STEPS),
    "batch": int_at_least(1, MAX_BATCH),
    "lr": real_at_least(0, strict=True),
    "seed": int_at_least(0),
}


def main(argv: list[str] | None = None) -> int:
    chapter = get_config()
    defaults = spike_settings(spike_run())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, path in SPIKE_SETTINGS.items():
        parser.add_argument(
            f"--{name}",
            type=TYPES[name],
            default=None,
            help=f"{path} (default {defaults[name]!r})",
        )
    parser.add_argument(
        "--evaluate-every", type=int_at_least(1, MAX_STEPS), default=1000
    )
    parser.add_argument(
        "--n-test", type=int_at_least(1, MAX_TEST), default=chapter.n_test
    )
    parser.add_argument(
        "--drawn-steps",
        type=int_at_least(0),
        default=DRAWN_CODE_STEPS,
        help="Adam steps of the search through the decoder that checks what it can draw "
        "(default: the rule's, lib.atomic.DRAWN_CODE_STEPS)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--out", type=record_file, required=True, help="JSON-lines record to append to"
    )
    parser.add_argument(
        "--update-shipped",
        action="store_true",
        help="--out may be a record shipped with the book (maintainers)",
    )
    args = parser.parse_args(argv)
    if not args.update_shipped:
        refuse_shipped(args.out, "--out")
    given = {
        k: getattr(args, k) for k in SPIKE_SETTINGS if getattr(args, k) is not None
    }
    try:  # e.g. a margin too wide for the image: one line, before anything is trained
        spec = spike_run(given)
    except (BookError, ValueError) as exc:
        parser.error(str(exc))

    device = resolve_device(args.device)
    parts = build_run(
        spec, device
    )  # the chapter's recipe, as the trial and reproduce.py
    trainer = parts.trainer(progress=False)
    test = spike_test_set(spec.spikes, args.n_test, device)
    settings = {
        **spike_settings(spec),
        "evaluate_every": args.evaluate_every,
        "n_test": args.n_test,
        "drawn_steps": args.drawn_steps,
        "device": args.device,
        "out": str(args.out),
    }
    while trainer.step < spec.trainer.steps:
        trainer.fit(min(spec.trainer.steps, trainer.step + args.evaluate_every))
        line = {
            "args": settings,
            "step": trainer.step,
            "seconds": round(trainer.seconds, 1),
            **spike_measures(parts.model, test, args.drawn_steps),
        }
        append_record(args.out, line)
        print(json.dumps({k: line[k] for k in line if k != "args"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
