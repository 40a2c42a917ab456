"""Atomic autoencoder: our training step against the authors' loop, side by side in one run.

    python bench/atomic_step.py                       # 128x128, batch 64, CPU
    python bench/atomic_step.py --size 64 --steps 10
    python bench/atomic_step.py --device cuda --json out.json

The reference reproduces the structure of the authors' training loop (github
alasdairnewson/atomic_ae @ e50299f, ``ae_models.py``; re-written here from its description, not
copied): every step lists the training folder, reads 64 PNG files and stacks them, runs the
shared block decoder once per atom in a Python loop and sums (``Decoder_Sum_Layer``), and the
loss runs the encoder a second time for a code it never uses. Ours: the digits sit in memory as
one 28x28 tensor and are upsampled per batch, all k atoms go through g in one batched call, and
the loss is the reconstruction error alone. Both use the same network (Table I) and Adam.
Variants of ours (channels-last memory format; bf16 autocast and ``torch.compile`` on CUDA) are
timed too, so one can keep what wins. Prints a Markdown table; ``--json`` saves the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import platform
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from lib.atomic import AtomicAEConfig, AtomicAutoencoder
from lib.data.mnist import upsample


def write_pngs(folder: str, digits: torch.Tensor, size: int) -> None:
    images = (upsample(digits, size)[:, 0] * 255).round().byte().numpy()
    for i, image in enumerate(images):
        Image.fromarray(image).save(os.path.join(folder, f"{i:05d}.png"))


def reference_batch(
    folder: str, batch_size: int, rng: np.random.Generator
) -> torch.Tensor:
    files = sorted(
        glob.glob(os.path.join(folder, "*.png"))
    )  # listed every step, as theirs
    order = rng.permutation(len(files))[:batch_size]
    batch = np.stack(
        [np.asarray(Image.open(files[i]), dtype=np.float64) for i in order]
    )
    return torch.from_numpy(batch / 255.0).float().unsqueeze(1)


def reference_decode(model: AtomicAutoencoder, z: torch.Tensor) -> torch.Tensor:
    out = model.block_decoder(z[:, 0])  # one atom at a time, summed in a Python loop
    for i in range(1, z.shape[1]):
        out = out + model.block_decoder(z[:, i])
    return out


def reference_step(model, optimiser, folder, batch_size, rng, device) -> None:
    x = reference_batch(folder, batch_size, rng).to(device)
    recon = reference_decode(model, model.encode(x))
    model.encode(x)  # the authors' loss computes a code it does not use
    loss = F.mse_loss(recon, x)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()


def our_step(model, optimiser, digits, size, batch_size, generator, autocast) -> None:
    idx = torch.randint(len(digits), (batch_size,), generator=generator).to(
        digits.device
    )
    x = upsample(digits[idx], size)
    if model.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with autocast():
        loss = F.mse_loss(model.forward_fn(x), x)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()


def timed(step, steps: int, warmup: int, device: torch.device) -> float:
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    digits = torch.rand(512, 1, 28, 28)  # the step's cost does not depend on the pixels
    config = AtomicAEConfig(image_size=args.size)

    def fresh(channels_last: bool = False, compiled: bool = False) -> AtomicAutoencoder:
        torch.manual_seed(0)
        model = AtomicAutoencoder(config).to(device)
        model.channels_last = channels_last
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
            model.channels_last = True
        model.forward_fn = (
            torch.compile(lambda x: model(x)[0])
            if compiled
            else (lambda x: model(x)[0])
        )
        return model

    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        write_pngs(folder, digits, args.size)
        model = fresh()
        optimiser = torch.optim.Adam(model.parameters(), lr=5e-4)
        rng = np.random.default_rng(0)
        seconds = timed(
            lambda: reference_step(model, optimiser, folder, args.batch, rng, device),
            args.steps,
            args.warmup,
            device,
        )
        rows.append(
            ("authors' loop (PNG reads, atom loop, extra encoder pass)", seconds)
        )

    on_device = digits.to(device)
    variants = [("ours: tensor data, batched atoms", False, False, False)]
    variants.append(("ours + channels-last", True, False, False))
    if device.type == "cuda":
        variants += [
            ("ours + bf16 autocast", False, True, False),
            ("ours + bf16 autocast + channels-last", True, True, False),
            ("ours + bf16 autocast + torch.compile", False, True, True),
        ]
    for name, channels_last, bf16, compiled in variants:
        model = fresh(channels_last, compiled)
        optimiser = torch.optim.Adam(model.parameters(), lr=5e-4)
        generator = torch.Generator().manual_seed(0)

        def autocast(bf16=bf16):
            if bf16:
                return torch.autocast(device.type, dtype=torch.bfloat16)
            return contextlib.nullcontext()

        seconds = timed(
            lambda model=model, optimiser=optimiser, generator=generator, autocast=autocast: (
                our_step(
                    model,
                    optimiser,
                    on_device,
                    args.size,
                    args.batch,
                    generator,
                    autocast,
                )
            ),
            args.steps,
            args.warmup,
            device,
        )
        rows.append((name, seconds))

    reference = rows[0][1]
    where = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    )
    print(
        f"atomic AE training step, {args.size}x{args.size}, batch {args.batch}, {where}\n"
    )
    print("| step | s/step | images/s | vs authors' loop |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in rows:
        print(
            f"| {name} | {seconds:.3f} | {args.batch / seconds:.1f} | {reference / seconds:.2f}x |"
        )
    if args.json:
        record = {
            "size": args.size,
            "batch": args.batch,
            "device": where,
            "torch": torch.__version__,
            "seconds_per_step": dict(rows),
        }
        with open(args.json, "w") as handle:
            json.dump(record, handle, indent=2)


if __name__ == "__main__":
    main()
