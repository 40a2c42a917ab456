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
with the chapter's measures (PMP: :func:`lib.pmp.grid_record`, every metric at the chapter's metric
sizes, in the format of the chapter's record, which :func:`lib.pmp.load_grid` reads), one JSON line per
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
import hashlib
import json
import sys
import time
from pathlib import Path

import torch

from lib.checkpoint import save_checkpoint
from lib.cli import (
    MAX_STEPS,
    budget_steps,
    int_at_least,
    output_file,
    output_folder,
    real_at_least,
    refuse_shipped,
    run_main,
    seed_list,
    threads,
)
from lib.config import parse_overrides
from lib.data.dsprites import DSprites
from lib.data.resident import ResidentGrid
from lib.device import describe_device, resolve_device
from lib.errors import CheckpointError, ConfigError
from lib.records import append_record, read_records
from lib.runs import stacked_trainer
from lib.scale import BATCHINGS, StackedModels
from lib.trainer import Trainer, resumable_fit

MADE_BY = "experiments/reproduce.py"


def paper_steps(chapter: str) -> int | None:
    """The paper's budget in steps, as the chapter's config states it (None: the paper
    states none): PMP's 30 epochs (691,200 steps of 32 pairs), the atomic authors'
    1,000,000 iterations; the toroidal paper gives none."""
    from lib.atomic import get_config as atomic
    from lib.pmp import get_config as pmp
    from lib.toroidal import get_config as torus

    return {"pmp": pmp, "atomic": atomic, "torus": torus}[chapter]().paper_steps


class Sitting:
    """This call's clock and the run folder: trains one run to its budget, or until time."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args, self.started = args, time.perf_counter()
        # the run spec's settings changed on the command line (--set PATH=VALUE)
        self.settings = parse_overrides(getattr(args, "set", None) or [])
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.done = True

    @property
    def stacked(self) -> bool:
        return not self.args.plain and len(self.args.seeds) > 1

    @property
    def batching(self) -> str | None:
        return self.args.batching if self.stacked else None

    def trainer(self, parts: list) -> tuple[Trainer, list]:
        """One trainer for the seeds' :class:`~lib.runs.RunParts` (stacked when this
        sitting stacks), with this call's GPU options: a CUDA graph unless ``--plain``,
        losses read back every ``--log-every`` steps."""
        return stacked_trainer(
            parts if self.stacked else parts[:1],
            batching=self.args.batching,
            progress=self.args.progress,
            log_every=self.args.log_every,
            cuda_graph=not self.args.plain,
        )

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
            # a run with settings changed by --set is another run (absent when none are)
            **({"settings": self.settings} if self.settings else {}),
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
        # a line cut short by a kill is left out: that seed is scored again
        rows = read_records(records, made_by=MADE_BY, skip_cut_tail=True)
        return any(
            (r.get("run"), r.get("seed"), r.get("steps")) == (name, seed, steps)
            for r in rows
        )

    def record(
        self, name: str, seed: int, model, trainer: Trainer, fields: dict
    ) -> None:
        """Save seed ``seed``'s weights and append its record line."""
        args = self.args
        save_checkpoint(
            self.out / "models" / f"{name}_seed{seed}",
            model,
            model.config.to_dict(),
            meta={"run": name, "seed": seed, "made_by": MADE_BY},
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
            **({"settings": self.settings} if self.settings else {}),
            "made_by": MADE_BY,
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


# --------------------------------------------------------------------------------------------
# chapter 05: PMP and Ada-GVAE
# --------------------------------------------------------------------------------------------
def run_pmp(args: argparse.Namespace, sitting: Sitting, device: torch.device) -> None:
    from lib.pmp import get_config, grid_record, scaled_trainer

    chapter = get_config()
    steps = budget_steps(args.budget, chapter.steps, paper_steps("pmp"))
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
            settings=sitting.settings,
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
            # the chapter's record line (lib.pmp.grid_record: every metric, the probe and
            # the adequacy check), in the format lib.pmp.load_grid reads
            fields = grid_record(
                model,
                DSprites(),
                kind=kind,
                seed=seed,
                steps=steps,
                k_changed=chapter.k_changed,
                train_seconds=trainer.seconds,
                recon=seed_history(trainer, args.seeds, seed, "recon"),
                sizes=sizes,
                device=device,
                saved=False,
                chapter=chapter,
            )
            # the sitting's record says where the weights went (OUT/models), the threads
            # (on a CPU) and how many seeds shared the training time
            for key in ("saved", "threads", "pairs_per_second"):
                fields.pop(key)
            sitting.record(kind, seed, model, trainer, fields)


# --------------------------------------------------------------------------------------------
# chapter 02: the toroidal autoencoder
# --------------------------------------------------------------------------------------------
def run_torus(args: argparse.Namespace, sitting: Sitting, device: torch.device) -> None:
    from lib.checkpoint import load_pretrained
    from lib.data.mnist import load_mnist_train_test
    from lib.toroidal import build_run, get_config
    from lib.toroidal.measure import TORUS_VERDICT_RULE, ladder_fields, sweep_measures

    chapter = get_config()
    steps = budget_steps(args.budget, chapter.steps, paper_steps("torus"))
    x_train, y_train, x_val, y_val = load_mnist_train_test().tensors(device)
    spec = chapter.run(args.weights, steps=steps).override(sitting.settings)
    parts = [
        build_run(spec.override(seed=seed), x_train, y_train) for seed in args.seeds
    ]
    trainer, models = sitting.trainer(parts)
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
        AUTHORS_SPIKES,
        DRAWN_CODE_STEPS,
        build_run,
        get_config,
        spike_measures,
        spike_run,
        spike_test_set,
    )

    chapter = get_config()
    steps = budget_steps(args.budget, chapter.spikes_steps, paper_steps("atomic"))
    setting = AUTHORS_SPIKES if args.setting == "authors" else {}
    # channels-last on a CPU, as the chapter trains; on a GPU (and for stacked seeds) the
    # default layout, as every GPU record was trained
    base = spike_run({**setting, "steps": steps}).override(
        channels_last=device.type == "cpu" and not sitting.stacked
    )
    base = base.override(sitting.settings)
    parts = [build_run(base.override(seed=seed), device) for seed in args.seeds]
    trainer, models = sitting.trainer(parts)
    name = f"atomic_{args.setting}"
    meta = {"setting": args.setting, "seeds": list(args.seeds), "steps": steps}
    if not sitting.train(name, trainer, models, meta):
        return
    for net in models:  # scored and saved in the default layout
        net.to(memory_format=torch.contiguous_format)
    spec, batch_size = base.spikes, base.batch_size
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


def base_specs(args: argparse.Namespace) -> list:
    """The run specs this call trains, before --set (to check its paths and values)."""
    if args.chapter == "torus":
        from lib.toroidal import get_config

        return [get_config().run(args.weights)]
    if args.chapter == "atomic":
        from lib.atomic import AUTHORS_SPIKES, spike_run

        return [spike_run(AUTHORS_SPIKES if args.setting == "authors" else {})]
    from lib.pmp import get_config

    return [get_config().run(kind) for kind in args.kinds]


def main(argv: list[str] | None = None) -> int:
    from lib.pmp import ALL_KINDS, MODEL_KINDS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", choices=sorted(CHAPTERS))
    parser.add_argument("--budget", default="cpu", help="paper | cpu | STEPS")
    parser.add_argument("--seeds", type=seed_list, default=(0,))
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
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="change a setting of the chapter's run spec by its path, e.g. trainer.lr=1e-4 "
        "or weights.spring=3000 (repeatable; an unknown path is refused; the run's "
        "checkpoint and record keep what was changed)",
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
        budget_steps(args.budget, 1, paper_steps(args.chapter))
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    for kind in args.kinds:
        if kind not in ALL_KINDS:
            parser.error(f"unknown kind {kind!r}; one of {ALL_KINDS}")
    try:  # and the settings --set changes: paths of the chapter's run spec, values
        settings = parse_overrides(args.set)
        if "seed" in settings:
            parser.error("--set seed: the seeds are --seeds")
        for spec in base_specs(args):
            spec.override(settings)
    except (ConfigError, ValueError) as exc:
        parser.error(f"--set: {exc}")
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
    except (ConfigError, ValueError) as exc:  # a --set the run spec refuses
        parser.error(f"--set: {exc}")
    return 0 if sitting.done else 3


if __name__ == "__main__":
    sys.exit(run_main(main))
