"""Train a chapter's models at the paper's budget on one GPU, in sittings that resume.

    python experiments/reproduce.py pmp --budget paper --seeds 0-4 --device cuda \
        --max-minutes 50 --out runs/pmp-paper
    python experiments/reproduce.py pmp --budget 2000 --seeds 0-1 --out /tmp/r  # 2,000 steps
    python experiments/reproduce.py torus --budget 30000 --seeds 0-4 --device cuda --out runs/t
    python experiments/reproduce.py atomic --setting authors --budget 100000 --seeds 0-2 \
        --device cuda --out runs/atomic

Every chapter: the seeds train together as one batched model (:class:`lib.scale.StackedModels`,
one seed: the model itself), the step recorded as a CUDA graph on a GPU (``--plain``: neither),
the losses read back every ``--log-every`` steps, with the chapter's networks, losses, Adam and
schedule from its ``get_config()``.

Chapter ``pmp`` (05): for each model kind (``--kinds``, default PMP and Ada-GVAE), the recipe
(:func:`lib.pmp.scaled_trainer`: its networks, objective, schedule and Adam; pairs gathered from
the whole dSprites grid rendered once onto the device, the same pairs as the chapter's stream).
``--budget``: ``paper`` (691,200 steps of 32 pairs: 30 epochs of 737,280 pairs), ``cpu`` (the
chapter's 10,000) or a number of steps; the 30-epoch schedule is scaled onto it.

Chapter ``torus`` (02): the toroidal AE on the chapter's MNIST split with ``--weights`` (the
chapter's ``faithful`` weights, ``plain`` or ``decorrelated``); the paper states no budget, so
``--budget`` is ``cpu`` (the chapter's 1,000 steps) or a number (the H200 records ran 30,000).
Each seed is scored on the validation and training digits (:func:`lib.toroidal.measure.sweep_measures`:
the KS statistic of each angle, circular correlations, r^2, MSE, digit accuracy), and its line
keeps what the chapter's rule judges (:func:`lib.toroidal.measure.ladder_fields`: the 1,000
validation codes, the shipped digit judge on the reconstructions, the objective's plateau);
the lines of 3 seeds or more make a rung of ``lib/pretrained/toroidal/ladder.jsonl``.

Chapter ``atomic`` (03): the atomic AE on fresh spikes every step, ``--setting chapter`` (k = 2,
sigma = 3 px, 64 x 64) or ``authors`` (k = 4, sigma = 2.8 px, 128 x 128, batch 64); ``paper`` is
the authors' 1,000,000 iterations. Each seed is scored on the chapter's spike test set (test MSE,
best |rho| per spike parameter, block R^2, atom-to-spike distance).

Every ``--checkpoint-minutes`` the run writes ``OUT/<name>.pt/.json`` (weights, Adam, step, loss
history, RNG states, the pair stream's state) with :meth:`lib.trainer.Trainer.save`; run the
same command again and it resumes where it stopped, so a budget that one sitting cannot finish
(``--max-minutes``) is finished by the next. When a run reaches its budget, each seed is scored
with the chapter's measures (PMP: :func:`lib.pmp.evaluate_pmp_model` at the chapter's metric sizes,
in the format of the chapter's record, which :func:`lib.pmp.load_grid` reads), one JSON line per
seed is appended to ``OUT/records.jsonl``, and the seed's weights are written as an ordinary
checkpoint ``OUT/models/<name>_seed<s>``. Nothing shipped with the book is touched. The exit
status is 0 when every run is done, 3 when a sitting ran out of ``--max-minutes``.

``--score-minutes S`` (with ``--max-minutes``): a seed is scored only while at least S minutes
of the sitting are left; the others are scored by the next sitting (exit status 3), so a sitting
of fixed length never overruns it by scoring (``experiments/campaign.py`` uses it).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import json
import sys
import time
from pathlib import Path

import torch

from lib.checkpoint import save_checkpoint
from lib.cli import (
    MAX_STEPS,
    int_at_least,
    output_file,
    output_folder,
    real_at_least,
    refuse_shipped,
    run_main,
    seed_list,
    threads,
)
from lib.data.dsprites import DSprites
from lib.data.resident import ResidentGrid
from lib.device import describe_device, resolve_device
from lib.errors import CheckpointError
from lib.records import append_record
from lib.scale import (
    BATCHINGS,
    StackedBatches,
    StackedModels,
    resumable_fit,
    stacked_loss,
)
from lib.trainer import Trainer, TrainerConfig

PAPER_STEPS = {
    "pmp": 691_200,  # 30 epochs x 737,280 pairs / 32 pairs per step
    "atomic": 1_000_000,  # the authors' "up to 1,000,000 iterations"
    "torus": None,  # the paper states none
}


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0-4"`` -> (0, 1, 2, 3, 4); ``"0,2"`` -> (0, 2) (:func:`lib.cli.seed_list`)."""
    return seed_list(text)


def budget_steps(
    text: str, chapter_steps: int, paper_steps: int | None = 691_200
) -> int:
    """``paper``, ``cpu`` (the chapter's budget) or a number of steps."""
    if text == "paper":
        if paper_steps is None:
            raise argparse.ArgumentTypeError(
                "the paper states no training budget for this chapter; give a number "
                "of steps"
            )
        return paper_steps
    if text == "cpu":
        return chapter_steps
    try:
        steps = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--budget is paper, cpu or a number of steps, got {text!r}"
        ) from None
    if not 1 <= steps <= MAX_STEPS:
        raise argparse.ArgumentTypeError(
            f"--budget must be from 1 to {MAX_STEPS:,} steps, got {steps}"
        )
    return steps


class Sitting:
    """This call's clock and the run folder: trains one run to its budget, or until time."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args, self.started = args, time.perf_counter()
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.done = True

    @property
    def stacked(self) -> bool:
        return not self.args.plain and len(self.args.seeds) > 1

    @property
    def batching(self) -> str | None:
        return self.args.batching if self.stacked else None

    def minutes_left(self) -> float | None:
        if self.args.max_minutes is None:
            return None
        return self.args.max_minutes - (time.perf_counter() - self.started) / 60

    def may_score(self) -> bool:
        """Whether a seed may be scored now: always, unless ``--score-minutes`` says that
        what is left of ``--max-minutes`` is too short (then the sitting is not done)."""
        wanted = getattr(self.args, "score_minutes", None)
        left = self.minutes_left()
        if wanted is None or left is None or left >= wanted:
            return True
        self.done = False
        return False

    def train(self, name: str, trainer: Trainer, models: list, meta: dict) -> bool:
        """Train ``trainer`` in this sitting; when done, copy the seeds into ``models``."""
        left = self.minutes_left()
        if left is not None and left <= 0:
            self.done = False
            return False
        # a checkpoint of another budget, seed set or mode is refused, not continued
        identity = {
            "run": name,
            "seeds": list(self.args.seeds),
            "steps": meta["steps"],
            "plain": self.args.plain,
            "batching": self.batching,
        }
        done = resumable_fit(
            trainer,
            self.out / name,
            identity,
            checkpoint_minutes=self.args.checkpoint_minutes,
            max_minutes=left,
            meta=meta,
            max_steps=self.args.sitting_steps,
        )
        rate = trainer.step / max(trainer.seconds, 1e-9)
        print(
            f"{name}: step {trainer.step:,} of {meta['steps']:,} "
            f"({rate:.0f} steps/s over {trainer.seconds:.0f} s of training)",
            flush=True,
        )
        if not done:
            self.done = False
        elif isinstance(trainer.model, StackedModels):
            trainer.model.unstack(models)
        return done

    def recorded(self, name: str, seed: int, steps: int) -> bool:
        """Whether seed ``seed`` of run ``name`` at ``steps`` is in the record already."""
        records = self.out / "records.jsonl"
        if not records.is_file():
            return False
        for line in records.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill: that seed is scored again
            if (r.get("run"), r.get("seed"), r.get("steps")) == (name, seed, steps):
                return True
        return False

    def record(
        self, name: str, seed: int, model, trainer: Trainer, fields: dict
    ) -> None:
        """Save seed ``seed``'s weights and append its record line."""
        args = self.args
        save_checkpoint(
            self.out / "models" / f"{name}_seed{seed}",
            model,
            model.config.to_dict(),
            meta={"run": name, "seed": seed, "made_by": "experiments/reproduce.py"},
            step=trainer.step,
        )
        device = trainer.device
        record = {
            "run": name,
            "seed": seed,
            "steps": trainer.step,
            "train_seconds": round(trainer.seconds, 1),
            "seeds_trained_together": len(args.seeds) if self.stacked else 1,
            "batching": self.batching,
            "cuda_graph": not args.plain and device.type == "cuda",
            "device": str(device),
            **(
                {"gpu": torch.cuda.get_device_name(device)}
                if device.type == "cuda"
                else {"threads": torch.get_num_threads()}
            ),
            "made_by": "experiments/reproduce.py",
            "made_on": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
            **fields,
        }
        append_record(self.out / "records.jsonl", record)
        shown = {k: v for k, v in record.items() if k != "support_matrix"}
        print(json.dumps(shown)[:600], flush=True)


def seed_history(trainer: Trainer, seeds: tuple[int, ...], seed: int, key: str) -> list:
    """A loss part of one seed from a stacked or a plain trainer's history."""
    if isinstance(trainer.model, StackedModels):
        return trainer.history[f"{key}/{seeds.index(seed)}"]
    return trainer.history[key]


def stack_up(models, loss, batch_fns, stacked: bool, batching: str):
    """The model, loss and batches a trainer needs, for one seed or a stack of them."""
    if stacked:
        stack = StackedModels(models, batching)
        return stack, stacked_loss(loss), StackedBatches(batch_fns)
    return models[0], loss, batch_fns[0]


# --------------------------------------------------------------------------------------------
# chapter 05: PMP and Ada-GVAE
# --------------------------------------------------------------------------------------------
def run_pmp(args: argparse.Namespace, sitting: Sitting, device: torch.device) -> None:
    from lib.metrics import METRIC_NAMES
    from lib.pmp import evaluate_pmp_model, get_config, scaled_trainer

    chapter = get_config()
    steps = budget_steps(args.budget, chapter.steps, PAPER_STEPS["pmp"])
    source: ResidentGrid | DSprites = DSprites()
    if device.type != "cpu":  # on a CPU rendering per step costs less than the grid
        cache = args.grid_cache or sitting.out / "dsprites_grid.npy"
        source = ResidentGrid(source, device, workers=args.workers, cache=cache)
        how = f"read from {cache}" if source.from_cache else "rendered"
        print(
            f"dSprites grid on the device: {source.count:,} images, "
            f"{source.nbytes / 2**30:.2f} GiB, {how} in "
            f"{time.perf_counter() - sitting.started:.1f} s",
            flush=True,
        )
    for kind in args.kinds:
        trainer, models = scaled_trainer(
            kind,
            args.seeds,
            steps,
            source,
            chapter,
            cuda_graph=not args.plain,
            log_every=args.log_every,
            stacked=sitting.stacked,
            batching=args.batching,
            progress=args.progress,
            device=device,
        )
        meta = {"kind": kind, "seeds": list(args.seeds), "steps": steps}
        if not sitting.train(kind, trainer, models, meta):
            continue
        sizes = chapter.quick_sizes if args.quick_sizes else chapter.sizes
        for seed, model in zip(args.seeds, models, strict=True):
            if sitting.recorded(kind, seed, steps):
                continue  # scored in an earlier sitting
            if not sitting.may_score():
                break  # too little of the sitting left: the next one scores it
            model.eval()
            scored = time.perf_counter()
            result = evaluate_pmp_model(model, DSprites(), sizes, seed, device)
            metrics = {k: result.pop(k) for k in list(result) if k in METRIC_NAMES}
            recent = seed_history(trainer, args.seeds, seed, "recon")[-100:]
            fields = {
                "kind": kind,
                "k_changed": chapter.k_changed,
                "pairs": steps * chapter.batch_size,
                "score_seconds": round(time.perf_counter() - scored, 1),
                "metric_sizes": vars(sizes),
                "final_rec": sum(recent) / len(recent),
                "metrics": metrics,
                **result,
            }
            sitting.record(kind, seed, model, trainer, fields)


# --------------------------------------------------------------------------------------------
# chapter 02: the toroidal autoencoder
# --------------------------------------------------------------------------------------------
def run_torus(args: argparse.Namespace, sitting: Sitting, device: torch.device) -> None:
    from lib.checkpoint import load_pretrained
    from lib.data.mnist import load_mnist_train_test
    from lib.toroidal.losses import torus_ae_loss
    from lib.toroidal.measure import TORUS_VERDICT_RULE, ladder_fields, sweep_measures
    from lib.toroidal.recipes import get_config, new_torus_ae
    from lib.trainer import TensorSampler

    chapter = get_config()
    steps = budget_steps(args.budget, chapter.steps, PAPER_STEPS["torus"])
    weights = {
        "faithful": chapter.torus_weights,
        "plain": chapter.plain_weights,
        "decorrelated": chapter.decorrelated_weights,
    }[args.weights]
    x_train, y_train, x_val, y_val = load_mnist_train_test().tensors(device)
    models = [new_torus_ae(chapter.model, seed, device) for seed in args.seeds]
    samplers = [
        TensorSampler(x_train, y_train, batch_size=chapter.batch_size, seed=seed)
        for seed in args.seeds
    ]
    loss = functools.partial(torus_ae_loss, weights=weights)
    model, loss, batches = stack_up(
        models, loss, samplers, sitting.stacked, args.batching
    )
    config = TrainerConfig(
        steps=steps,
        lr=chapter.lr,
        progress=args.progress,
        log_every=args.log_every,
        cuda_graph=not args.plain,
    )
    trainer = Trainer(model, loss, batches, config)
    name = f"torus_{args.weights}"
    meta = {"weights": args.weights, "seeds": list(args.seeds), "steps": steps}
    if not sitting.train(name, trainer, models, meta):
        return
    judge, _ = load_pretrained("toroidal/digit_judge", map_location=device)
    for seed, net in zip(args.seeds, models, strict=True):
        if sitting.recorded(name, seed, steps):
            continue
        if not sitting.may_score():
            break
        net.eval()
        history = seed_history(trainer, args.seeds, seed, "loss")
        fields = {
            "weights": args.weights,
            "val": sweep_measures(net, x_val, y_val),
            "train": sweep_measures(net, x_train, y_train),
            # the rung of the budget ladder: codes, judge, plateau (chapter 02's rule),
            # and which rule was in force when the run was measured
            **ladder_fields(net, judge, x_val, y_val, history),
            "rule_sha256": hashlib.sha256(TORUS_VERDICT_RULE.encode()).hexdigest(),
        }
        sitting.record(name, seed, net, trainer, fields)


# --------------------------------------------------------------------------------------------
# chapter 03: the atomic autoencoder on spikes
# --------------------------------------------------------------------------------------------
def run_atomic(
    args: argparse.Namespace, sitting: Sitting, device: torch.device
) -> None:
    from lib.atomic import (
        DRAWN_CODE_STEPS,
        AtomicAEConfig,
        get_config,
        new_atomic_ae,
        spike_batches,
        spike_measures,
        spike_test_set,
    )
    from lib.atomic.losses import atomic_ae_loss
    from lib.data import SpikeSpec

    chapter = get_config()
    steps = budget_steps(args.budget, chapter.spikes_steps, PAPER_STEPS["atomic"])
    spec, batch_size = chapter.spikes, chapter.batch_size
    if args.setting == "authors":
        spec = SpikeSpec(image_size=128, n_spikes=4, sigma=2.8, margin=8.0)
        batch_size = 64
    config = AtomicAEConfig(
        image_size=spec.image_size, n_atoms=spec.n_spikes, atom_dim=3
    )
    models = [new_atomic_ae(config, seed, device) for seed in args.seeds]
    streams = [spike_batches(spec, batch_size, seed, device) for seed in args.seeds]
    model, loss, batches = stack_up(
        models, atomic_ae_loss, streams, sitting.stacked, args.batching
    )
    trainer_config = TrainerConfig(
        steps=steps,
        lr=chapter.lr,
        warmup_steps=min(chapter.warmup_steps, steps),
        schedule=chapter.schedule,
        progress=args.progress,
        log_every=args.log_every,
        cuda_graph=not args.plain,
    )
    trainer = Trainer(model, loss, batches, trainer_config)
    name = f"atomic_{args.setting}"
    meta = {"setting": args.setting, "seeds": list(args.seeds), "steps": steps}
    if not sitting.train(name, trainer, models, meta):
        return
    test = spike_test_set(spec, chapter.n_test, device)
    for seed, net in zip(args.seeds, models, strict=True):
        if sitting.recorded(name, seed, steps):
            continue
        if not sitting.may_score():
            break
        net.eval()
        fields = {
            "setting": args.setting,
            "spikes": vars(spec),
            "batch_size": batch_size,
            **spike_measures(
                net,
                test,
                DRAWN_CODE_STEPS if args.drawn_steps is None else args.drawn_steps,
            ),
        }
        sitting.record(name, seed, net, trainer, fields)


CHAPTERS = {"pmp": run_pmp, "torus": run_torus, "atomic": run_atomic}


def main(argv: list[str] | None = None) -> int:
    from lib.pmp import ALL_KINDS, MODEL_KINDS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", choices=sorted(CHAPTERS))
    parser.add_argument("--budget", default="cpu", help="paper | cpu | STEPS")
    parser.add_argument("--seeds", type=parse_seeds, default=(0,))
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--max-minutes", type=real_at_least(0, strict=True), default=None
    )
    parser.add_argument(
        "--checkpoint-minutes", type=real_at_least(0, strict=True), default=5.0
    )
    parser.add_argument(
        "--sitting-steps",
        type=int_at_least(1, MAX_STEPS),
        default=None,
        help="train at most this many steps in this sitting (then checkpoint and stop)",
    )
    parser.add_argument(
        "--score-minutes",
        type=real_at_least(0, strict=True),
        default=None,
        help="with --max-minutes: score a seed only while at least this many minutes are "
        "left (the rest is scored by the next sitting)",
    )
    parser.add_argument("--out", type=output_folder, required=True)
    parser.add_argument("--plain", action="store_true", help="no graph, no batching")
    parser.add_argument(
        "--batching",
        choices=BATCHINGS,
        default="streams",
        help="several seeds: each on its own CUDA stream (the same numbers as each seed "
        "alone), or vmap'd into grouped kernels",
    )
    parser.add_argument("--log-every", type=int_at_least(1), default=200)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument(
        "--threads", type=threads, default=None, help="torch CPU threads"
    )
    group = parser.add_argument_group("pmp")
    group.add_argument(
        "--kinds", type=lambda t: tuple(t.split(",")), default=MODEL_KINDS
    )
    group.add_argument(
        "--workers", type=int_at_least(1), default=1, help="grid renderers"
    )
    group.add_argument("--quick-sizes", action="store_true")
    group.add_argument(
        "--grid-cache",
        type=output_file,
        default=None,
        help="where the rendered grid is kept between sittings (OUT/dsprites_grid.npy)",
    )
    parser.add_argument_group("torus").add_argument(
        "--weights", choices=("faithful", "plain", "decorrelated"), default="faithful"
    )
    atomic = parser.add_argument_group("atomic")
    atomic.add_argument("--setting", choices=("chapter", "authors"), default="chapter")
    atomic.add_argument(
        "--drawn-steps",
        type=int_at_least(0),
        default=None,
        help="Adam steps of the search through the decoder that checks what it can draw "
        "(default: the rule's, lib.atomic.DRAWN_CODE_STEPS)",
    )
    args = parser.parse_args(argv)
    try:  # the budget is checked before anything is trained or written
        budget_steps(args.budget, 1, PAPER_STEPS[args.chapter])
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    for kind in args.kinds:
        if kind not in ALL_KINDS:
            parser.error(f"unknown kind {kind!r}; one of {ALL_KINDS}")
    if args.plain and len(args.seeds) > 1:
        parser.error("--plain trains one seed per call: pass one --seeds value")
    if args.score_minutes is not None and args.max_minutes is None:
        parser.error(
            "--score-minutes needs --max-minutes (the sitting it keeps within)"
        )
    refuse_shipped(args.out, "--out", flag=None)  # a run folder, never the shipped one
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    sitting = Sitting(args)
    print(
        f"{args.chapter} on {describe_device(device)}; seeds {args.seeds}", flush=True
    )
    try:
        CHAPTERS[args.chapter](args, sitting, device)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    except CheckpointError as exc:  # e.g. OUT holds a run of another budget
        parser.error(f"{exc}; use another --out for another run")
    return 0 if sitting.done else 3


if __name__ == "__main__":
    sys.exit(run_main(main))
