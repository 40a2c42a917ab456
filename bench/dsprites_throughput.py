"""Throughput of the procedural dSprites renderer and of the weak-supervision pair sampler.

python bench/dsprites_throughput.py            # prints a Markdown table
python bench/dsprites_throughput.py --n 20000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from lib.data import DSprites, sample_pairs


def images_per_second(fn, n: int, repeats: int = 3) -> float:
    fn(min(n, 256))  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - start)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    data = DSprites()
    rng = np.random.default_rng(0)
    rows = {
        "render (images/s)": images_per_second(
            lambda n: data.render(data.sample_factors(n, rng)), args.n
        ),
        "sample_pairs (pairs/s, two images each)": images_per_second(
            lambda n: sample_pairs(data, n, rng), args.n
        ),
    }
    print(f"procedural dSprites, {args.n} at a time, best of 3\n")
    print("| what | throughput |")
    print("| --- | ---: |")
    for name, value in rows.items():
        print(f"| {name} | {value:,.0f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
