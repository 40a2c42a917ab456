"""Training-step throughput of the book's models on this machine (forward + backward + Adam step).

    python bench/train_step.py                 # all models, prints a Markdown table
    python bench/train_step.py --json out.json

Run it twice to measure the glibc malloc tunables that the Makefile exports:

    GLIBC_TUNABLES= python bench/train_step.py
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=17179869184 python bench/train_step.py
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch


def _models():
    from lib.intro import WarmupAEConfig, WarmupAutoencoder

    yield "warmup AE (intro)", WarmupAutoencoder(WarmupAEConfig()), (128, 1, 28, 28)
    try:
        from lib.taking_apart import DiskAEConfig, DiskAutoencoder

        yield (
            "disk AE (Newson et al.)",
            DiskAutoencoder(DiskAEConfig(bias=False)),
            (300, 1, 64, 64),
        )
    except ImportError:
        pass


def time_steps(
    model: torch.nn.Module, shape: tuple[int, ...], steps: int = 20, warmup: int = 3
) -> float:
    x = torch.rand(shape)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for i in range(warmup + steps):
        if i == warmup:
            start = time.perf_counter()
        out = model(x)
        recon = out[0] if isinstance(out, tuple) else out
        loss = ((recon - x) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for name, model, shape in _models():
        seconds = time_steps(model, shape, args.steps)
        rows.append(
            {
                "model": name,
                "batch": shape[0],
                "ms_per_step": 1000 * seconds,
                "images_per_s": shape[0] / seconds,
            }
        )
    tunables = os.environ.get("GLIBC_TUNABLES", "") or "(unset)"
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, GLIBC_TUNABLES={tunables}\n"
    )
    print("| model | batch | ms/step | images/s |\n| --- | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['model']} | {r['batch']} | {r['ms_per_step']:.1f} | {r['images_per_s']:.0f} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"glibc_tunables": tunables, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
