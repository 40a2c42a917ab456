"""Run one of the book's grids of training runs as a Ray Tune experiment.

    python experiments/sweep.py pmp                  # chapter 05: 3 seeds x (PMP, Ada-GVAE)
    python experiments/sweep.py torus --threads 1    # chapter 02: the loss-weight sweep
    python experiments/sweep.py atomic               # chapter 03: spike counts x widths
    python experiments/sweep.py pmp --list           # the trials, without running them
    python experiments/sweep.py pmp --summary        # the sweep's records as the chapter's table
    python experiments/sweep.py pmp --compare        # ... against the shipped record, run by run
    RAY_ADDRESS=head:6379 python experiments/sweep.py pmp --gpu 0.25 --budget paper \\
        --out /shared/sweeps/pmp                     # on a Ray cluster, 4 trials per GPU
    python experiments/sweep.py pmp --update-shipped # maintainers: into lib/pretrained/pmp/

Grids (each trial is the chapter's recipe, :mod:`lib.sweep`'s resumable trial):

- ``pmp``: every seed of the chapter (``--seeds``) x PMP and Ada-GVAE, the chapter's 10,000
  steps (``--budget``), scored at the chapter's metric sizes: the trial is
  :func:`lib.pmp.recipes.grid_trial`, the same model, pairs and trainer as
  ``experiments/pmp_grid.py``; records in the format of ``lib/pretrained/pmp/grid.jsonl``.
- ``torus``: the 17 runs of the shipped loss-weight sweep (``lib/pretrained/toroidal/
  sweep.jsonl``), named and set as there: :func:`lib.toroidal.recipes.sweep_trial`.
- ``atomic``: spike counts k in (2, 3, 4) x widths sigma in (2, 3) px on the chapter's
  64 x 64 images and budget: :func:`lib.atomic.recipes.spike_trial`.

Each trial holds ``--threads`` CPU threads and ``--gpu`` GPUs (a fraction shares one), and Ray
runs as many side by side as fit: on the 2-core machine, ``--threads 1`` runs two trials at
a time. Locally an embedded Ray starts with no set-up; with ``RAY_ADDRESS`` the same command
runs on that cluster (``--out`` is then required: a folder every node shares). A trial writes its
checkpoint every ``--checkpoint-minutes`` in ``OUT/trials/<name>/``; a trial that fails or
whose process dies is restarted by Tune (``--max-failures``) and resumes there, and running
the same command again finishes what a killed sweep left (finished trials are read back).
When every trial is done, their record lines go to ``OUT/records.jsonl`` in grid order. The
shipped record changes only with ``--update-shipped`` (the chapter's budget only): each
trial's lines replace the lines of the same run. ``--in-process`` runs the trials one by one
in this process, without Ray. Exit status: 0 when every trial finished, 1 when one did not
(after its retries), 2 for bad arguments (a trial's bad parameters included).

OUT defaults to ``<cache>/sweeps/<grid>`` (``$BOOK_CACHE`` or the platform's user cache).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from lib.checkpoint import pretrained_path, user_cache_dir
from lib.cli import (
    budget_steps,
    int_at_least,
    output_folder,
    real_at_least,
    refuse_shipped,
    run_main,
    seed_list,
    threads,
)
from lib.config import check_can_write
from lib.errors import BookError
from lib.sweep import (
    Resources,
    SweepError,
    TrialSpec,
    compare_records,
    merge_records,
    run_sweep,
    run_trial,
    write_lines,
)

# The shipped loss-weight sweep of chapter 02: each run's name and what it changes from the
# base (the chapter's faithful weights with spring 10,000; 1,000 steps, seed 0).
TORUS_BASE = {"spring": 10_000.0, "steps": 1000}
TORUS_RUNS: tuple[tuple[str, dict], ...] = (
    ("s1k", {"spring": 1_000.0}),
    ("s3k", {"spring": 3_000.0}),
    ("s10k_seed0", {}),
    ("s30k", {"spring": 30_000.0}),
    ("s10k_seed1", {"seed": 1}),
    ("s10k_seed2", {"seed": 2}),
    ("s10k_2000", {"steps": 2000, "every": 500}),
    ("s10k_q1e6", {"quantile": 1_000_000.0}),
    ("s10k_cls0", {"classifier": 0.0}),
    ("s10k_cls30", {"classifier": 30.0}),
    ("s10k_dec1k", {"decorrelation": 1_000.0}),
    ("s10k_dec10k", {"decorrelation": 10_000.0}),
    ("s10k_dec30k", {"decorrelation": 30_000.0}),
    ("s10k_dec30k_seed1", {"decorrelation": 30_000.0, "seed": 1}),
    ("s10k_dec30k_2000", {"decorrelation": 30_000.0, "steps": 2000, "every": 500}),
    ("s10k_dec100k", {"decorrelation": 100_000.0}),
    ("s30k_dec30k", {"spring": 30_000.0, "decorrelation": 30_000.0}),
)
# Chapter 03's spikes are k = 2 of sigma = 3 px; the authors' are more (k = 4) and narrower
# (2.8 px): the grid spans both directions from the chapter's setting.
ATOMIC_COUNTS = (2, 3, 4)
ATOMIC_WIDTHS = (2.0, 3.0)


def budget(text: str, grid: str) -> int | None:
    """``cpu`` (None: each trial's own budget, the chapter's), ``paper`` or a number of
    steps (:func:`lib.cli.budget_steps`; the paper's from the chapter's config)."""
    if text == "cpu":
        return None
    return budget_steps(text, 0, paper_budget(grid))


def paper_budget(grid: str) -> int | None:
    """The paper's budget of a grid's chapter, as its config states it (None: none)."""
    from lib.atomic import get_config as atomic
    from lib.pmp import get_config as pmp
    from lib.toroidal import get_config as torus

    return {"pmp": pmp, "atomic": atomic, "torus": torus}[grid]().paper_steps


def pmp_grid(args: argparse.Namespace) -> list[TrialSpec]:
    from lib.pmp import MODEL_KINDS, get_config

    chapter = get_config()
    specs = []
    for seed in args.seeds or chapter.seeds:  # the order of pmp_grid.py --all
        for kind in MODEL_KINDS:
            params = {"kind": kind, "seed": seed}
            params.update({"steps": args.budget} if args.budget else {})
            params.update({"quick_sizes": True} if args.quick_sizes else {})
            specs.append(
                TrialSpec(f"{kind}_seed{seed}", "lib.pmp.recipes:grid_trial", params)
            )
    return specs


def torus_grid(args: argparse.Namespace) -> list[TrialSpec]:
    specs = []
    for name, change in TORUS_RUNS:
        params = {"name": name, **TORUS_BASE, **change}
        if args.seeds and params.get("seed", 0) not in args.seeds:
            continue
        if args.budget:
            params["steps"] = args.budget
            params["every"] = min(250, args.budget)
        specs.append(TrialSpec(name, "lib.toroidal.recipes:sweep_trial", params))
    return specs


def atomic_grid(args: argparse.Namespace) -> list[TrialSpec]:
    specs = []
    for seed in args.seeds or (0,):
        for count in ATOMIC_COUNTS:
            for width in ATOMIC_WIDTHS:
                params = {"spikes": count, "sigma": width, "seed": seed}
                if args.budget:
                    params["steps"] = args.budget
                    params["evaluate_every"] = min(1000, args.budget)
                if args.quick_sizes:  # a short search through the decoder (tests)
                    params["drawn_steps"] = 3
                name = f"k{count}_sigma{width:g}_seed{seed}"
                specs.append(TrialSpec(name, "lib.atomic.recipes:spike_trial", params))
    return specs


GRIDS = {"pmp": pmp_grid, "torus": torus_grid, "atomic": atomic_grid}


def shipped_record(grid: str) -> tuple[Path, object] | None:
    """The chapter's shipped record of ``grid`` and the key that names a run in it."""
    if grid == "pmp":
        from lib.pmp import GRID_RECORD

        def key(line):
            return (line["kind"], line["seed"], line["steps"], line.get("k_changed"))

        return pretrained_path(GRID_RECORD), key
    if grid == "torus":
        from lib.toroidal import TORUS_SWEEP

        return Path(TORUS_SWEEP), lambda line: line["name"]
    return None  # chapter 03 ships no grid record


def summary(grid: str, path: Path) -> str:
    if grid == "pmp":
        from lib.pmp import format_grid, grid_table, load_grid

        return format_grid(grid_table(load_grid(path)))
    if grid == "torus":
        from lib.toroidal import format_sweep, load_sweep

        return format_sweep(load_sweep(path))
    from lib.records import read_records

    rows = read_records(path, made_by="experiments/sweep.py atomic", required=("args",))
    last = {}
    for row in rows:
        last[row["sweep_trial"]] = row
    lines = [
        f"{'trial':<18}{'step':>7}{'test MSE':>11}{'R2 x':>7}{'R2 y':>7}{'dist px':>9}"
    ]
    for name, r in last.items():
        lines.append(
            f"{name:<18}{r['step']:>7}{r['test_mse']:>11.2e}{r['block_r2']['x']:>7.2f}"
            f"{r['block_r2']['y']:>7.2f}{r['match_distance_px']:>9.2f}"
        )
    return "\n".join(lines)


def compare(path: Path, shipped: Path, key) -> int:
    """Print each run of the sweep's record against the shipped one; 0 when all identical."""
    from lib.records import read_records

    lines = read_records(path, made_by="experiments/sweep.py")

    def run_and_point(line):  # a torus run is one line per evaluation point
        return (key(line), line.get("step"))

    old = read_records(shipped, made_by="the book")
    report = compare_records(lines, old, run_and_point)
    for entry in report:
        if not entry["found"]:
            print(f"{entry['run']}: not in {shipped}")
            continue
        verdict = "identical" if entry["identical"] else "differs"
        print(
            f"{entry['run']}: {verdict} ({entry['compared']} numbers; largest difference "
            f"{entry['largest_difference']:.3g} at {entry['where']})"
        )
    same = all(e["found"] and e["identical"] for e in report)
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", choices=sorted(GRIDS))
    parser.add_argument(
        "--out", type=output_folder, default=None, help="default <cache>/sweeps/GRID"
    )
    parser.add_argument(
        "--threads", type=threads, default=1, help="CPU threads per trial"
    )
    parser.add_argument(
        "--gpu",
        type=real_at_least(0),
        default=0.0,
        help="GPUs per trial (0.25: four share one)",
    )
    parser.add_argument(
        "--budget", default="cpu", help="cpu (the chapter's) | paper | STEPS"
    )
    parser.add_argument("--seeds", type=seed_list, default=None)
    parser.add_argument(
        "--trials",
        type=lambda t: t.split(","),
        default=None,
        help="NAME,NAME: only these",
    )
    parser.add_argument("--list", action="store_true", help="print the trials and exit")
    parser.add_argument(
        "--summary", action="store_true", help="print OUT/records.jsonl as a table"
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="compare OUT/records.jsonl with the shipped record, run by run",
    )
    parser.add_argument(
        "--in-process", action="store_true", help="no Ray: the trials one by one here"
    )
    parser.add_argument("--max-failures", type=int_at_least(0), default=2)
    parser.add_argument("--max-concurrent", type=int_at_least(1), default=None)
    parser.add_argument(
        "--checkpoint-minutes", type=real_at_least(0, strict=True), default=5.0
    )
    parser.add_argument("--checkpoint-steps", type=int_at_least(1), default=None)
    parser.add_argument("--report-every", type=int_at_least(1), default=500)
    parser.add_argument(
        "--quick-sizes",
        action="store_true",
        help="pmp: the quick metric sizes; atomic: a short search through the decoder "
        "for what it can draw (tests)",
    )
    parser.add_argument(
        "--kill-trial",
        metavar="NAME",
        default=None,
        help="fault injection: kill this trial's process once, at --kill-at-step",
    )
    parser.add_argument("--kill-at-step", type=int_at_least(1), default=None)
    parser.add_argument(
        "--update-shipped",
        action="store_true",
        help="merge the records into the chapter's shipped record (maintainers)",
    )
    parser.add_argument("--quiet", action="store_true", help="Tune's progress off")
    args = parser.parse_args(argv)
    if (args.kill_trial is None) != (args.kill_at_step is None):
        parser.error("--kill-trial and --kill-at-step go together")
    try:
        args.budget = budget(args.budget, args.grid)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    if os.environ.get("RAY_ADDRESS") and args.out is None and not args.in_process:
        parser.error("on a Ray cluster give --out: a folder every node shares")
    out = args.out or user_cache_dir() / "sweeps" / args.grid
    # the shipped record changes by merging only (--update-shipped), never as --out
    refuse_shipped(out, "--out", flag=None)
    check_can_write(out, "--out", folder=True)
    try:
        specs = GRIDS[args.grid](args)
        if args.trials:
            unknown = set(args.trials) - {s.name for s in specs}
            if unknown:
                parser.error(f"no trials {sorted(unknown)} in the {args.grid} grid")
            specs = [s for s in specs if s.name in args.trials]
        if (
            not specs
        ):  # nothing would run, and an earlier record must not be overwritten
            parser.error(f"no trial of the {args.grid} grid matches these options")
        if args.kill_trial and args.kill_trial not in {s.name for s in specs}:
            parser.error(f"--kill-trial {args.kill_trial!r} is not a trial of this run")
        if args.list:
            for spec in specs:
                print(spec.name, spec.params)
            return 0
        if args.summary:
            print(summary(args.grid, out / "records.jsonl"))
            return 0
        shipped = shipped_record(args.grid)
        if args.compare:
            if shipped is None:
                parser.error(f"the {args.grid} chapter ships no grid record to compare")
            return compare(out / "records.jsonl", *shipped)
        if args.update_shipped and shipped is None:
            parser.error(
                f"--update-shipped: the {args.grid} chapter ships no grid record to update"
            )
        if args.update_shipped and (args.budget or args.quick_sizes):
            parser.error(
                "--update-shipped takes the chapter's budget and metric sizes only"
            )
        resources = Resources(threads=args.threads, gpu=args.gpu)
        context = {
            "checkpoint_minutes": args.checkpoint_minutes,
            "checkpoint_steps": args.checkpoint_steps,
            "report_every": args.report_every,
            "interrupt_at_step": args.kill_at_step,
        }
        print(
            f"sweep {args.grid}: {len(specs)} trials, {args.threads} thread(s) and "
            f"{args.gpu:g} GPU each, into {out}",
            flush=True,
        )
        start = time.perf_counter()
        if args.in_process:
            if args.kill_trial:
                parser.error("--kill-trial needs Ray (a trial's own process)")
            records = {s.name: run_trial(s, out, resources, **context) for s in specs}
        else:
            records = run_sweep(
                specs,
                out,
                resources,
                name=args.grid,
                max_failures=args.max_failures,
                max_concurrent=args.max_concurrent,
                interrupt_trials=[args.kill_trial] if args.kill_trial else [],
                verbose=0 if args.quiet else 1,
                **context,
            )
    except SweepError as exc:
        print(f"sweep {args.grid}: {exc}", file=sys.stderr)
        return 1
    except BookError as exc:
        parser.error(str(exc))
    lines = [line for spec in specs for line in records[spec.name]]
    write_lines(out / "records.jsonl", lines)
    print(
        f"sweep {args.grid}: {len(specs)} trials done in "
        f"{time.perf_counter() - start:.0f} s; records in {out / 'records.jsonl'}",
        flush=True,
    )
    if args.update_shipped:
        path, key = shipped
        dropped, added = merge_records(lines, path, key)
        print(f"{path}: {dropped} lines replaced by {added} from this sweep")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
