"""Where a paper-scale PMP step spends its time on a GPU: the host's pair sampling, the
batch's gather, and the recorded graph's replay, each timed alone.

    python bench/step_anatomy.py --device cuda --seeds 1,5

For each seed count: ms per call of :class:`lib.pmp.PairStream` (numpy sampling, one pinned
copy, the gather from the resident grid), of the graph's replay on a fixed batch, and of the
two together as :func:`lib.pmp.scaled_trainer` runs them. The replay alone bounds what any
data pipeline could reach; the gap to the whole step is the host's share.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from lib.data.dsprites import DSprites
from lib.data.resident import ResidentGrid
from lib.device import resolve_device
from lib.pmp import PairStream, get_config, scaled_trainer


def timed_fit(trainer, begin: int, steps: int) -> float:
    """ms per step of ``trainer.fit`` over ``steps`` steps from ``begin`` (one call)."""
    device = trainer.device
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    trainer.fit(begin + steps)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return 1000 * (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seeds", default="1,5")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    device = resolve_device(args.device)
    chapter = get_config()
    source = DSprites()
    if device.type == "cuda":
        source = ResidentGrid(source, device, workers=os.cpu_count() or 1)
    budget, rows = 691_200, []
    start = budget * 20 // 30
    for count in (int(c) for c in args.seeds.split(",")):
        seeds = tuple(range(count))

        def timed(fn, n):
            torch.cuda.synchronize(device) if device.type == "cuda" else None
            begin = time.perf_counter()
            for i in range(n):
                fn(i)
            torch.cuda.synchronize(device) if device.type == "cuda" else None
            return 1000 * (time.perf_counter() - begin) / n

        stream = PairStream(source, chapter.batch_size, seeds, device=device)
        data_ms = timed(lambda i: stream(start + i), args.steps)  # noqa: B023
        trainer, _ = scaled_trainer(
            "pmp", seeds, budget, source, chapter, progress=False, device=device
        )
        trainer.step = start
        trainer.fit(start + 20)  # warm-up and recording
        whole_ms = timed_fit(trainer, start + 20, args.steps)
        graph = trainer._graphed
        replay_ms = (
            timed(lambda i: graph.graph.replay(), args.steps)  # noqa: B023
            if graph is not None and graph.graph is not None
            else None
        )
        row = {
            "seeds": count,
            "pairs_ms": round(data_ms, 3),
            "replay_ms": None if replay_ms is None else round(replay_ms, 3),
            "step_ms": round(whole_ms, 3),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": str(device), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
