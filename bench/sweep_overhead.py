"""What the sweep engine (Ray Tune, ``lib/sweep.py``) costs: one trial against two side by side.

    python bench/sweep_overhead.py                       # torus trials of 300 steps, 1 thread
    python bench/sweep_overhead.py --steps 100 --out /tmp/sweep_overhead.json

Four wall-clock times of the same one-thread trial (the chapter 02 loss-weight trial,
:func:`lib.toroidal.recipes.sweep_trial`, at ``--steps``), each from a fresh process:

1. ``plain_one``: one trial, no Ray (``experiments/sweep.py --in-process``);
2. ``plain_two``: two such processes side by side (what two cores give without an engine);
3. ``ray_one``: one trial through Ray Tune (an embedded Ray started by the command);
4. ``ray_two``: two trials through Ray Tune, side by side (1 CPU each).

The ratios: ``ray_two / ray_one`` (the issue's number: two trials side by side should take
<= 1.15x the time of one), ``plain_two / plain_one`` (the machine's own cost of running two at
once: shared caches and memory bandwidth), and ``ray_one - plain_one`` (Ray's fixed start-up
and scheduling, in seconds). Wall times include each command's start (imports, and for Ray
the embedded cluster), which is the same for one trial and two and so pulls the wall ratio
towards 1; ``training_two_over_one`` compares the trials' own training seconds (from their
records), without any start-up. Each run writes into a fresh temporary folder, so nothing is
read back from an earlier run. Run it with nothing else running on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, str(ROOT / "experiments" / "sweep.py"), "torus"]


def launch(trials: str, steps: int, out: Path, ray: bool) -> subprocess.Popen:
    argv = [*COMMAND, "--trials", trials, "--budget", str(steps), "--out", str(out)]
    argv += ["--threads", "1", "--quiet"] + ([] if ray else ["--in-process"])
    env = {**os.environ, "RAY_ADDRESS": "", "RAY_DISABLE_USAGE_STATS": "1"}
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def training_seconds(folder: Path) -> float:
    """A finished torus trial's training seconds (its record's last line)."""
    lines = (folder / "record.jsonl").read_text().splitlines()
    return json.loads(lines[-1])["seconds"]


def timed(processes: list[subprocess.Popen]) -> float:
    start = time.perf_counter()
    for p in processes:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"a run failed:\n{err[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument(
        "--out", type=Path, default=None, help="write the result as JSON"
    )
    args = parser.parse_args()
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        times["plain_one"] = timed([launch("s1k", args.steps, tmp / "p1", ray=False)])
        times["plain_two"] = timed(
            [
                launch("s1k", args.steps, tmp / "p2a", ray=False),
                launch("s3k", args.steps, tmp / "p2b", ray=False),
            ]
        )
        times["ray_one"] = timed([launch("s1k", args.steps, tmp / "r1", ray=True)])
        times["ray_two"] = timed([launch("s1k,s3k", args.steps, tmp / "r2", ray=True)])
        training = {
            run: [training_seconds(tmp / run / "trials" / t) for t in trials]
            for run, trials in (("r1", ["s1k"]), ("r2", ["s1k", "s3k"]))
        }
    import ray
    import torch

    result = {
        "steps": args.steps,
        "seconds": {k: round(v, 1) for k, v in times.items()},
        "ray_two_over_ray_one": round(times["ray_two"] / times["ray_one"], 3),
        "plain_two_over_plain_one": round(times["plain_two"] / times["plain_one"], 3),
        "ray_start_seconds": round(times["ray_one"] - times["plain_one"], 1),
        "training_seconds": training,
        "training_two_over_one": round(max(training["r2"]) / training["r1"][0], 3),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "torch": torch.__version__,
        "ray": ray.__version__,
    }
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
