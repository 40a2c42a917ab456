"""Where a paper-scale PMP step spends its time on a GPU, and what the next levers give.

    python bench/step_anatomy.py --device cuda --seeds 1,5 --json anatomy.json

Part 1, for each seed count (one seed alone, or the seeds batched with ``torch.func.vmap`` or
on CUDA streams): ms
per call of :class:`lib.pmp.PairStream` (numpy sampling, one pinned copy, the gather from the
resident grid), of the recorded graph's replay on a fixed batch, and of the whole step as
:func:`lib.pmp.scaled_trainer` runs it. The replay alone bounds what any data pipeline could
reach; the gap to the whole step is the host's share.

Part 2 (``--levers``, CUDA only), each a variant of the one-seed graphed step, in ms per step:
channels-last weights and activations; bf16 autocast; TF32 matmuls; the loss compiled by
``torch.compile`` (inductor) inside the graph; and S seeds as S graphs replayed on S
CUDA streams, so that the GPU overlaps small kernels of different seeds (instead of vmap's
grouped convolutions). Part 3 (``--kernels``): the CUDA kernels of five eager steps, by GPU
time, and how many a step launches.

On a CPU only part 1 runs (without a replay) and its numbers only check the code.
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
from lib.pmp import PairStream, get_config, pmp_objective, scaled_trainer
from lib.scale import stacked_loss

BUDGET = 691_200  # the paper's steps
START = BUDGET * 20 // 30  # the schedule's epoch 20 of 30: every loss term on


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def ms_per_call(fn, n: int, device: torch.device) -> float:
    sync(device)
    begin = time.perf_counter()
    for i in range(n):
        fn(i)
    sync(device)
    return 1000 * (time.perf_counter() - begin) / n


def ms_per_step(trainer, steps: int) -> float:
    """ms per step of one ``trainer.fit`` call over ``steps`` steps."""
    sync(trainer.device)
    begin = time.perf_counter()
    trainer.fit(trainer.step + steps)
    sync(trainer.device)
    return 1000 * (time.perf_counter() - begin) / steps


def graphed(
    source, seeds, device, loss_wrapper=None, channels_last=False, batching="vmap"
):
    """A warmed-up, recorded PMP trainer for ``seeds`` at the schedule's epoch 20."""
    trainer, _ = scaled_trainer(
        "pmp",
        seeds,
        BUDGET,
        source,
        get_config(),
        progress=False,
        device=device,
        batching=batching,
    )
    if loss_wrapper is not None:
        trainer.loss_fn = loss_wrapper(trainer.loss_fn)
    if channels_last:
        trainer.model.to(memory_format=torch.channels_last)
    trainer.step = START
    trainer.fit(START + 20)  # warm-up and recording
    return trainer


def anatomy(args, source, device) -> list[dict]:
    rows = []
    runs = [
        (count, batching)
        for count in (int(c) for c in args.seeds.split(","))
        for batching in (("vmap", "streams") if count > 1 else ("vmap",))
    ]
    for count, batching in runs:
        seeds = tuple(range(count))
        stream = PairStream(source, get_config().batch_size, seeds, device=device)
        data_ms = ms_per_call(lambda i, s=stream: s(START + i), args.steps, device)
        trainer = graphed(source, seeds, device, batching=batching)
        step_ms = ms_per_step(trainer, args.steps)
        graph = trainer._graphed
        replay_ms = None
        if graph is not None and graph.graph is not None:
            replay_ms = ms_per_call(
                lambda i, g=graph: g.graph.replay(), args.steps, device
            )
        row = {
            "seeds": count,
            "batched": batching if count > 1 else None,
            "pairs_ms": round(data_ms, 3),
            "replay_ms": None if replay_ms is None else round(replay_ms, 3),
            "step_ms": round(step_ms, 3),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def bf16(loss_fn):
    def loss(model, batch):
        # no weight cache: a recorded graph must not hold casts made before it
        with torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
            return loss_fn(model, batch)

    return loss


def compiled(loss_fn):
    # inductor fuses the loss's many small elementwise kernels; the graph records its
    # kernels like any others (compiled during the eager warm-up steps)
    return torch.compile(lambda model, batch: loss_fn(model, batch), dynamic=False)


class tf32_matmul:
    def __enter__(self):
        self.was = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = True

    def __exit__(self, *exc):
        torch.backends.cuda.matmul.allow_tf32 = self.was


def levers(args, source, device) -> list[dict]:
    import contextlib

    rows = []
    for label, kwargs, context in (
        ()
        if args.only_seed_levers
        else (
            ("one seed, graph", {}, contextlib.nullcontext),
            (
                "one seed, graph, channels-last",
                {"channels_last": True},
                contextlib.nullcontext,
            ),
            (
                "one seed, graph, bf16 autocast",
                {"loss_wrapper": bf16},
                contextlib.nullcontext,
            ),
            ("one seed, graph, TF32 matmuls", {}, tf32_matmul),
            (
                "one seed, graph, loss compiled",
                {"loss_wrapper": compiled},
                contextlib.nullcontext,
            ),
        )
    ):
        began = time.perf_counter()
        try:
            with context():
                trainer = graphed(source, (0,), device, **kwargs)
                step_ms = ms_per_step(trainer, args.steps)
        except Exception as error:  # a lever that fails is a result too
            row = {"variant": label, "error": f"{type(error).__name__}: {error}"[:300]}
        else:
            row = {"variant": label, "step_ms": round(step_ms, 3)}
            del trainer
        row["set_up_s"] = round(time.perf_counter() - began, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    count = max(int(c) for c in args.seeds.split(","))
    seeds = tuple(range(count))

    def compiled_seeds(loss_fn):  # each seed's loss compiled, the seeds on streams
        objective = pmp_objective("pmp", BUDGET, get_config().max_epochs)
        objective.check_values = False
        return stacked_loss(compiled(objective))

    for label, kwargs in (
        (f"{count} seeds on streams, graph", {}),
        (
            f"{count} seeds on streams, graph, loss compiled",
            {"loss_wrapper": compiled_seeds},
        ),
    ):
        began = time.perf_counter()
        try:
            trainer = graphed(source, seeds, device, batching="streams", **kwargs)
            step_ms = ms_per_step(trainer, args.steps)
        except Exception as error:
            row = {"variant": label, "error": f"{type(error).__name__}: {error}"[:300]}
        else:
            row = {
                "variant": label,
                "step_ms": round(step_ms, 3),
                "model_steps_per_s": round(1000 * count / step_ms, 1),
            }
            del trainer
        row["set_up_s"] = round(time.perf_counter() - began, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.only_seed_levers:
        return rows
    trainers = [graphed(source, (s,), device) for s in range(count)]
    streams = [torch.cuda.Stream(device) for _ in trainers]
    sync(device)

    def step(i: int) -> None:
        for trainer, stream in zip(trainers, streams, strict=True):
            with torch.cuda.stream(stream):
                trainer._graphed(trainer.batch_fn(START + 20 + i))

    # each seed's step on its own stream; the first call waits for the default stream
    for stream in streams:
        stream.wait_stream(torch.cuda.current_stream(device))
    ms = ms_per_call(step, args.steps, device)
    row = {
        "variant": f"{count} seeds as {count} graphs on {count} streams",
        "step_ms": round(ms, 3),
        "model_steps_per_s": round(1000 * count / ms, 1),
    }
    rows.append(row)
    print(json.dumps(row), flush=True)
    return rows


def kernels(source, device) -> dict:
    from torch.profiler import ProfilerActivity, profile

    trainer, _ = scaled_trainer(
        "pmp",
        (0,),
        BUDGET,
        source,
        get_config(),
        cuda_graph=False,
        progress=False,
        device=device,
    )
    trainer.step = START
    trainer.fit(START + 5)
    sync(device)
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        trainer.fit(START + 10)
        sync(device)
    events = [e for e in prof.key_averages() if e.device_type.name == "CUDA"]
    events.sort(key=lambda e: e.self_device_time_total, reverse=True)
    total = sum(e.self_device_time_total for e in events)
    launches = sum(e.count for e in events)
    top = [
        {
            "kernel": e.key[:90],
            "calls_per_step": e.count / 5,
            "us_per_step": round(e.self_device_time_total / 5, 1),
        }
        for e in events[:20]
    ]
    out = {
        "gpu_us_per_step": round(total / 5, 1),
        "kernels_per_step": launches / 5,
        "top": top,
    }
    print(json.dumps(out, indent=1), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seeds", default="1,5")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--levers", action="store_true")
    parser.add_argument("--kernels", action="store_true")
    parser.add_argument("--only-seed-levers", action="store_true")
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--grid-cache", default=None, help="a .npy kept between runs (3 GB)"
    )
    args = parser.parse_args()
    device = resolve_device(args.device)
    source = DSprites()
    if device.type == "cuda":
        source = ResidentGrid(
            source, device, workers=os.cpu_count() or 1, cache=args.grid_cache
        )
    out: dict = {"device": str(device), "torch": torch.__version__}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    parts = (
        []
        if args.only_seed_levers
        else [("anatomy", lambda: anatomy(args, source, device))]
    )
    if device.type == "cuda" and args.kernels:
        parts.append(("kernels", lambda: kernels(source, device)))
    if device.type == "cuda" and args.levers:
        parts.append(("levers", lambda: levers(args, source, device)))
    for name, run in parts:
        out[name] = run()
        if args.json:  # after each part, so a time limit keeps what was measured
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
