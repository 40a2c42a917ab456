"""Paper-scale training speed: each chapter's recipe, plain vs CUDA graph vs batched seeds.

    python bench/scale.py --device cuda --json scale.json     # on a GPU: every row
    python bench/scale.py                                      # CPU, small step counts
    python bench/scale.py --only pmp --seeds 5

One run measures, on one device:

- PMP and Ada-GVAE (chapter 05, 32 pairs per step, the disentanglement phase: the schedule's
  epoch 20 of 30 at the paper's budget): *plain* is the chapter's trainer as it is today
  (:func:`lib.pmp.build_run`: the loss read back and the pixels checked every step) on pairs
  gathered from the resident grid; *graph* is :func:`lib.pmp.scaled_trainer` for one seed with
  the step recorded as a CUDA graph and the losses read every 200 steps; *batched* trains
  ``--seeds`` seeds as one model (:class:`lib.scale.StackedModels`), eagerly and as a graph.
  Per model: steps/s; aggregate: model-steps/s (steps/s x seeds). Also the largest difference
  between the losses of the graphed and the eager step over the same batches (PMP: its
  hybrids are drawn outside the loss, so the two see identical inputs).
- The atomic AE (chapter 04, 128 x 128, batch 64): images/s plain, channels-last,
  channels-last + cuDNN autotuning, and that as a CUDA graph.
- The torus AE (chapter 03, batch 128): seconds for the chapter's 1,000 steps from a fresh
  trainer, plain and as a CUDA graph (the recording included).

On a CPU the graph rows are the plain step (a graph needs CUDA) and the numbers only check the
code runs; ``--json`` saves everything with the device and torch version.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch

from lib.device import describe_device, resolve_device


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rate(trainer, start: int, warm: int, steps: int, device: torch.device) -> float:
    """Steps/s of ``trainer`` over ``steps`` steps after ``warm`` untimed ones from ``start``."""
    trainer.step = start
    trainer.fit(start + warm)
    sync(device)
    begin = time.perf_counter()
    trainer.fit(start + warm + steps)
    sync(device)
    return steps / (time.perf_counter() - begin)


def bench_pmp(args, device, out: dict) -> None:
    from lib.data.dsprites import DSprites
    from lib.data.resident import ResidentGrid
    from lib.pmp import build_run, get_config, scaled_trainer

    chapter = get_config()
    budget = (
        691_200  # the paper's steps; the timed steps sit in the schedule's epoch 20
    )
    start = budget * 20 // 30
    began = time.perf_counter()
    source = DSprites()
    if device.type == "cuda":
        source = ResidentGrid(
            source, device, workers=os.cpu_count() or 1, cache=args.grid_cache
        )
        out["grid_seconds"] = round(time.perf_counter() - began, 1)
        print(f"grid rendered onto the GPU in {out['grid_seconds']} s", flush=True)
    n = args.steps
    seeds = tuple(range(args.seeds))
    rows = out.setdefault("pmp", [])
    for kind in ("pmp", "adagvae"):
        # the chapter's step, one seed: the loss read back and the pixels checked each step
        spec = chapter.run(kind, steps=budget).override(hybrids="stream")
        plain = build_run(spec, source, device).trainer(progress=False)
        variants = [("plain (today)", plain, 1, max(20, n // 5))]
        batched = f"batched x{len(seeds)}"
        for label, graph, group, batching in (
            ("graph", True, (0,), "vmap"),
            (f"{batched} (vmap)", False, seeds, "vmap"),
            (f"{batched} (vmap) + graph", True, seeds, "vmap"),
            (f"{batched} (streams)", False, seeds, "streams"),
            (f"{batched} (streams) + graph", True, seeds, "streams"),
        ):
            trainer, _ = scaled_trainer(
                kind,
                group,
                budget,
                source,
                chapter,
                cuda_graph=graph,
                progress=False,
                device=device,
                batching=batching,
            )
            # eager batched steps are slow on a GPU: fewer of them
            variants.append(
                (label, trainer, len(group), n if graph else max(20, n // 5))
            )
        for label, trainer, count, steps in variants:
            per_model = rate(trainer, start, 10, steps, device)
            row = {
                "kind": kind,
                "variant": label,
                "seeds": count,
                "steps_timed": steps,
                "steps_per_s": round(per_model, 1),
                "model_steps_per_s": round(per_model * count, 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            del trainer

    def losses(seeds, steps, **options) -> list[list[float]]:
        """Each seed's PMP loss over ``steps`` steps from the schedule's epoch 20."""
        trainer, _ = scaled_trainer(
            "pmp",
            seeds,
            budget,
            source,
            chapter,
            progress=False,
            device=device,
            **options,
        )
        trainer.step = start
        trainer.fit(start + steps)
        if not options.get("stacked", True):  # one seed, a plain model
            return [trainer.history["loss"]]
        return [trainer.history[f"loss/{s}"] for s in range(len(seeds))]

    # the graph replays the eager step: same batches, same initial weights
    eager, graphed = (
        losses((0,), 60, cuda_graph=graph, log_every=20, stacked=False)[0]
        for graph in (False, True)
    )
    diff = max(abs(a - b) for a, b in zip(eager, graphed, strict=True))
    out["pmp_graph_vs_eager_max_loss_diff_60_steps"] = diff
    print(f"PMP graph vs eager, 60 steps: max |loss difference| {diff:.3g}", flush=True)
    # two seeds batched against each seed alone (same batches): eager for both batchings,
    # and as graphs for streams (its seeds run as parallel branches of one graph)
    for batching, graph in (("vmap", False), ("streams", False), ("streams", True)):
        options = dict(cuda_graph=graph, log_every=10)
        alone = [losses((seed,), 30, stacked=False, **options)[0] for seed in (0, 1)]
        batched = losses((0, 1), 30, batching=batching, **options)
        diff = max(
            abs(a - b)
            for s in (0, 1)
            for a, b in zip(alone[s], batched[s], strict=True)
        )
        how = batching + (" + graph" if graph else "")
        out[f"pmp_batched_{how}_vs_alone_max_loss_diff_30_steps"] = diff
        print(f"PMP 2 seeds batched ({how}) vs alone, 30 steps: max |diff| {diff:.3g}")


def bench_atomic(args, device, out: dict) -> None:
    from lib.atomic import AtomicAEConfig, build_run, get_config, mnist_batches

    digits = torch.rand(512, 1, 28, 28, device=device)  # cost does not depend on pixels
    rows = out.setdefault("atomic", [])
    n = max(5, args.steps // 10)
    for label, channels_last, autotune, graph in (
        ("plain", False, False, False),
        ("channels-last", True, False, False),
        ("channels-last + cudnn autotune", True, True, False),
        ("channels-last + cudnn autotune + graph", True, True, True),
    ):
        torch.backends.cudnn.benchmark = autotune
        # the chapter's recipe on the authors' 128 x 128 network, in either layout
        spec = get_config().run(AtomicAEConfig(image_size=128), steps=100_000)
        spec = spec.override(channels_last=channels_last)
        parts = build_run(spec, device, batches=mnist_batches(digits, 128, 64))
        trainer = parts.trainer(
            progress=False, log_every=200 if graph else 1, cuda_graph=graph
        )
        steps_per_s = rate(trainer, 1000, 10, n, device)
        row = {
            "variant": label,
            "steps_timed": n,
            "images_per_s": round(64 * steps_per_s, 1),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    torch.backends.cudnn.benchmark = False


def bench_torus(args, device, out: dict) -> None:
    from lib.toroidal import build_run, get_config

    chapter = get_config()
    images = torch.rand(5000, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (5000,), device=device)
    steps = chapter.steps if device.type == "cuda" else max(10, args.steps // 10)
    rows = out.setdefault("torus", [])
    for label, graph in (
        ("warm-up (not reported)", False),
        ("plain", False),
        ("graph", True),
    ):
        parts = build_run(chapter.run("faithful", steps=steps), images, labels)
        trainer = parts.trainer(
            progress=False, log_every=steps if graph else 1, cuda_graph=graph
        )
        sync(device)
        begin = time.perf_counter()
        trainer.fit()
        sync(device)
        seconds = time.perf_counter() - begin
        if label.startswith("warm-up"):
            continue
        row = {"variant": label, "steps": steps, "seconds": round(seconds, 3)}
        rows.append(row)
        print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (PMP)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", default="pmp,atomic,torus")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--grid-cache", default=None, help="a .npy kept between runs (3 GB)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if args.steps is None:
        args.steps = 1000 if device.type == "cuda" else 20
    out: dict = {
        "device": describe_device(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
    }
    print(out, flush=True)
    benches = {"pmp": bench_pmp, "atomic": bench_atomic, "torus": bench_torus}
    for name in args.only.split(","):
        benches[name](args, device, out)
        if (
            args.json
        ):  # written after each part, so a time limit keeps what was measured
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
