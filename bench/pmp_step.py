"""PMP: our training step against the authors' Lightning step, side by side in one run.

    python bench/pmp_step.py                      # batch 32 pairs, CPU, 2 threads
    python bench/pmp_step.py --steps 40 --json out.json
    python bench/pmp_step.py --device cuda

A step is forward + backward + Adam on one batch of pairs, in the disentanglement phase (every
loss term on: the schedule's epoch 20 of 30), on the same pre-rendered dSprites pairs for both.

The reference reproduces the structure of the authors' ``training_step`` (github
marc0git/PMPdisentanglement @ accd80f, ``models/model.py``; re-written here from its
description, not copied, and without Lightning's loop or wandb): images arrive channels-last
(B, 64, 64, 1) and are permuted; the ten projectors are ten ``nn.Sequential`` modules called in a
Python loop and stacked, for the pair and again for the re-encoded hybrids; the sigmoid output
goes through ``BCELoss``; all k * B hybrids are built by a loop over the projectors and 2B of them
are kept; the outputs are permuted back and squashed a second time before re-encoding; every
loss term is read back with ``.item()`` for the logger. Ours is :class:`lib.pmp.PMPObjective` on
:class:`lib.pmp.PMPAutoencoder` (one batched matrix product for the k projectors, only the 2B
kept hybrids built, BCE on logits), the step the chapter trains with; a channels-last variant is
timed too. Both networks are the same size (supplementary Table 1, k = d = 10) and use Adam.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lib.data.dsprites import DSprites
from lib.pmp import PairBatch, PMPObjective, get_config, new_model, pair_batches


class ReferencePMP(nn.Module):
    """The authors' module layout: encoder, a ModuleList of projectors, decoder."""

    def __init__(self, d: int = 10, k: int = 10) -> None:
        super().__init__()
        ours = new_model("pmp", 0)  # same conv64 encoder and decoder
        self.encoder, self.decoder = ours.encoder, ours.decoder
        self.projectors = nn.ModuleList(
            nn.Sequential(nn.Linear(d, d), nn.ReLU(True), nn.Linear(d, d))
            for _ in range(k)
        )

    def project(self, z: torch.Tensor) -> list[torch.Tensor]:
        return [p(z) for p in self.projectors]

    def forward(self, images_nhwc: torch.Tensor):
        x = images_nhwc.permute(0, 3, 1, 2)
        zz = self.encoder(x)
        latents = self.project(zz)
        z = torch.stack(latents).sum(0)
        out = torch.sigmoid(self.decoder(z).permute(0, 2, 3, 1))
        return out, latents


def reference_step(model: ReferencePMP, optimiser, x1, x2, epoch: int, epochs: int):
    n_proj = len(model.projectors)
    xx = torch.cat([x1, x2])  # (2B, 64, 64, 1)
    yy, latents = model(xx)
    z = torch.stack(latents).view(n_proj, 2, -1, latents[0].shape[-1]).transpose(0, 1)
    beta1 = min(np.exp((25 / epochs) * (epoch - 0.4 * epochs)), 1)
    beta2 = min(np.exp((25 / epochs) * (epoch - 0.5 * epochs)), 1)
    beta3 = 1 - beta1
    loss_rec = nn.BCELoss()(yy, xx)
    # sparsity: per image and coordinate, |s_i[r] * sum_{l != i} s_l[r]| summed over i
    all_z = z.permute(0, 2, 3, 1)  # (2, B, d, k)
    off_diagonal = 1 - torch.eye(n_proj, device=all_z.device)  # on the data's device
    loss_sparse = (all_z @ off_diagonal * all_z).abs().sum(-1).mean()
    # consistency: every (projector, pair) hybrid, 2B of them kept
    _, nl, bs, d = z.shape
    sums, hybrids = [], []
    for i in range(nl):
        mixed = z[1] + 0
        mixed[i] = z[0, i] + 0
        sums.append(mixed.sum(0))
        hybrids.append(mixed)
    hybrids = torch.stack(hybrids, 1).view(nl, nl * bs, d)
    keep = torch.randperm(hybrids.shape[1])[: 2 * bs]
    hybrids = hybrids[:, keep]
    codes = torch.stack(sums).view(-1, d)[keep]
    decoded = model.decoder(codes)
    _ = torch.sigmoid(decoded.permute(0, 2, 3, 1))  # post-processed, unused
    again = torch.stack(model.project(model.encoder(torch.sigmoid(decoded))))
    loss_cons = F.mse_loss(again, hybrids)
    # distance and distribution terms
    dist = (z[0] - z[1]).pow(2).sum(-1).t()  # (B, k)
    outputs = z.transpose(0, 1).reshape(nl, 2 * bs, d)
    mean_dist = torch.cdist(outputs, outputs).mean([-2, -1]) + 1e-8
    mask = 1 - torch.softmax(1e6 * dist / mean_dist, -1).detach()
    loss_dist = (dist * mask).mean() + 10 * (0.05 - dist * (1 - mask)).relu().mean()
    chosen = torch.softmax(1e3 * dist, -1)
    loss_reg = 1e2 * (1 / chosen.shape[-1] - chosen.mean(0)).pow(2).mean()
    loss = (
        loss_rec
        + beta1 * (0.1 * loss_dist + 0.1 * loss_sparse)
        + beta2 * 100 * loss_cons
        + beta3 * 1e-4 * loss_reg
    )
    for term in (loss, loss_rec, loss_sparse, loss_cons, loss_dist, loss_reg):
        term.item()  # the logger reads every term
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()


def our_step(model, optimiser, objective, batch: PairBatch, step: int) -> None:
    loss, _ = objective(model, batch, step=step)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()


def timed(step, batches, steps: int, warmup: int, device: torch.device) -> float:
    for i in range(warmup + steps):
        if i == warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        step(batches[i % len(batches)])
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32, help="pairs per step")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    chapter = get_config()
    stream = pair_batches(DSprites(), args.batch, seed=0, device=device)
    batches = [stream(s) for s in range(8)]
    epochs, epoch = chapter.max_epochs, 20
    steps_total = 30 * epochs
    at_epoch = epoch * steps_total // epochs  # a step inside epoch 20

    def make_ours(channels_last: bool):
        torch.manual_seed(0)
        model = new_model("pmp", 0).to(device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), lr=chapter.lr)
        objective = PMPObjective(steps_total, epochs)

        def step(b: PairBatch) -> None:
            x1, x2 = b.x1, b.x2
            if channels_last:
                x1 = x1.contiguous(memory_format=torch.channels_last)
                x2 = x2.contiguous(memory_format=torch.channels_last)
            our_step(model, opt, objective, PairBatch(x1, x2), at_epoch)

        return step

    def make_reference():
        torch.manual_seed(0)
        model = ReferencePMP().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=chapter.lr)

        def step(b: PairBatch) -> None:
            nhwc = (
                b.x1.permute(0, 2, 3, 1).contiguous(),
                b.x2.permute(0, 2, 3, 1).contiguous(),
            )
            reference_step(model, opt, *nhwc, epoch, epochs)

        return step

    variants = {
        "authors' step (reference)": make_reference(),
        "ours (lib.pmp.PMPObjective)": make_ours(False),
        "ours, channels-last": make_ours(True),
    }
    seconds = {name: [] for name in variants}
    for _ in range(args.repeats):  # alternate, so drifts in machine speed hit all alike
        for name, step in variants.items():
            seconds[name].append(timed(step, batches, args.steps, args.warmup, device))
    best = {name: min(v) for name, v in seconds.items()}
    ref = best["authors' step (reference)"]
    print(
        f"device {device}, {torch.get_num_threads()} threads, batch {args.batch} pairs, "
        f"best of {args.repeats} rounds of {args.steps} steps | torch {torch.__version__} | "
        f"{platform.machine()}"
    )
    print("| step | s/step | pairs/s | vs authors' step |")
    print("| --- | ---: | ---: | ---: |")
    for name, s in best.items():
        print(f"| {name} | {s:.4f} | {args.batch / s:.0f} | {ref / s:.2f}x |")
    if args.json:
        record = {
            "device": str(device),
            "threads": torch.get_num_threads(),
            "batch_pairs": args.batch,
            "seconds_per_step": seconds,
            "speedup": {name: ref / s for name, s in best.items()},
        }
        with open(args.json, "w") as handle:
            json.dump(record, handle, indent=2)


if __name__ == "__main__":
    main()
