"""Train PMP and Ada-GVAE on dSprites pairs, one model per call, and record every metric.

Chapter 05 prints the record shipped beside its checkpoints, ``lib/pretrained/pmp/grid.jsonl``.
Each call trains one (model, seed) with the chapter's recipe (``lib.pmp.get_config()``,
``lib.pmp.fit_pmp_model``: the same function the notebook calls), writes the checkpoint
``pmp/<kind>_seed<seed>``, scores it with ``lib.pmp.evaluate_pmp_model`` at the chapter's metric
sizes and appends one JSON line: kind, seed, steps, pairs seen, training seconds and pairs/s,
threads, device, the metrics, the adequacy check of the chapter's rule (the factor judge on the
reconstructions: ``judge``, ``judge_adequate``), and for PMP L_spar, the support overlap and the
product residual.

The shipped files change only when asked: by default the checkpoint goes to the user cache
(``$BOOK_CACHE`` or the platform's, see ``lib.checkpoint.user_cache_dir``) and the record to
``--out`` (default ``<cache>/records/grid.jsonl``); ``--update-shipped`` writes the shipped
checkpoint and, unless ``--out`` says otherwise, appends to the shipped record. An ``--out``
among the shipped files is refused without ``--update-shipped`` (with ``--no-save``, that
record is written and no checkpoint).

    python experiments/pmp_grid.py --kind pmp --seed 0
    python experiments/pmp_grid.py --kind adagvae --seed 0
    python experiments/pmp_grid.py --all                  # the chapter's seeds x models, in turn
    python experiments/pmp_grid.py --all --update-shipped # ... into the shipped files
    python experiments/pmp_grid.py --ablation             # the loss ablation (2 variants x 2 seeds)
    python experiments/pmp_grid.py --summary              # the shipped record as a table
    python experiments/pmp_grid.py --refresh-probe --update-shipped  # re-measure the probes
    python experiments/pmp_grid.py --measure-gpu-records ../shared/records/h200-2026-11 \
        --update-shipped
    python experiments/pmp_grid.py --kind pmp --steps 2500 --no-save --out budget.jsonl
    python experiments/pmp_grid.py --kind pmp --steps 2500 --no-save --update-shipped \
        --out lib/pretrained/pmp/budget.jsonl   # a shipped side record (maintainers)

On the 2-core CPU machine a PMP model of the chapter's 10,000 steps takes about 10 minutes,
an Ada-GVAE about 6 (run one at a time; a slower or shared machine can take several times as
long: the λ_spar = 0 seed-0 run of the shipped record took 71 minutes beside other jobs). On a
GPU pass ``--device cuda`` (and ``--steps`` for a longer budget: the paper's is 691,200
steps). ``experiments/pmp_ablation_gpu.sh`` runs the ablation that way, side by side on one
GPU: it made the shipped ablation runs other than the λ_spar = 0 seed 0.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from lib.checkpoint import pretrained_path, user_cache_dir
from lib.cli import (
    MAX_STEPS,
    int_at_least,
    refuse_shipped,
    run_main,
    seed_value,
    threads,
)
from lib.config import check_can_write
from lib.data.dsprites import FACTOR_NAMES, DSprites
from lib.errors import ParameterError
from lib.files import atomic_write
from lib.notebook import setup
from lib.pmp import (
    ABLATION_KINDS,
    ALL_KINDS,
    GRID_RECORD,
    H200_RECORD,
    MODEL_KINDS,
    fit_pmp_model,
    format_grid,
    get_config,
    grid_record,
    grid_table,
    load_grid,
)
from lib.records import append_record, check_appendable


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    chapter = get_config()
    # --no-save: a side run (e.g. another budget) writes no checkpoint at all
    save = "none" if args.no_save else "shipped" if args.update_shipped else "cache"
    settings = setup(device=args.device, seed=args.seed, train="always", save=save)
    data = DSprites()
    start = time.perf_counter()
    steps = args.steps if args.steps is not None else chapter.steps
    k = args.k_changed if args.k_changed is not None else "chapter"
    run = fit_pmp_model(settings, chapter, data, args.kind, args.seed, steps, k)
    seconds = time.perf_counter() - start
    sizes = chapter.quick_sizes if args.quick_sizes else chapter.sizes
    record = grid_record(
        run.model,
        data,
        kind=args.kind,
        seed=args.seed,
        steps=run.meta["steps"],
        k_changed=run.meta["k_changed"],
        train_seconds=seconds,
        recon=run.history["recon"],
        sizes=sizes,
        device=settings.device,
        saved=not args.no_save,
        chapter=chapter,
    )
    out = record_path(args, GRID_RECORD)
    append_record(out, record)
    print(json.dumps({k: v for k, v in record.items() if k != "support_matrix"}))
    return record


def record_path(args: argparse.Namespace, shipped: str) -> Path:
    """Where a record is written: ``--out``; the shipped record with ``--update-shipped``;
    else the user cache (a reader's run never changes the shipped files)."""
    if args.out:
        return Path(args.out)
    if args.update_shipped:
        return pretrained_path(shipped)
    return user_cache_dir() / "records" / Path(shipped).name


def refresh_probe(out: Path) -> None:
    """Re-measure the probe fields of every record from its shipped checkpoint (the metrics
    stay): the code probe, the reconstruction BCE and, for PMP, the supports (the adequacy
    check is ``--add-judge``).

    For records written before :func:`lib.pmp.probe_report` measured them (records that have
    the fields are kept as they are); the checkpoint's step count must match the record's.
    """
    from lib.checkpoint import load_checkpoint
    from lib.metrics import MetricSizes
    from lib.pmp import checkpoint_name, new_model, probe_report

    records = load_grid(out)
    data = DSprites()
    for record in records:
        if "factor_accuracy" in record and "probe_bce" in record:
            continue  # measured when it was recorded
        model = new_model(record["kind"], record["seed"])
        ckpt = load_checkpoint(
            pretrained_path(checkpoint_name(record["kind"], record["seed"])), model
        )
        if ckpt.meta.get("steps") != record["steps"]:
            raise SystemExit(
                f"checkpoint of {record['kind']} seed {record['seed']} is not this "
                "record's run"
            )
        sizes = MetricSizes(**record.get("metric_sizes", vars(get_config().sizes)))
        record["metric_sizes"] = vars(sizes)
        record.update(probe_report(model, data, sizes, record["seed"]))
        print(record["kind"], record["seed"], record["factor_accuracy"], flush=True)
    atomic_write(out, "".join(json.dumps(r) + "\n" for r in records))
    print(f"refreshed the probe fields of {out}")


def measure_gpu_records(folder: Path, out: Path) -> None:
    """Add the probe fields to the H200 records of ``folder`` (its README says how they were
    made) from their weights, and write them to ``out``, the ladder's GPU rung.

    ``folder`` holds ``pmp_adagvae_seed0_long.jsonl`` and, per kind, a plain
    ``{"state_dict", "record"}`` file of ``lib.pmp.new_model(kind, 0)``.
    """
    from lib.pmp import new_model, probe_report

    weights = {"pmp": "pmp_seed0_22k.pt", "adagvae": "adagvae_seed0_28k.pt"}
    records = load_grid(folder / "pmp_adagvae_seed0_long.jsonl")
    data = DSprites()
    sizes = get_config().sizes
    for record in records:
        saved = torch.load(
            folder / weights[record["kind"]], map_location="cpu", weights_only=True
        )
        if saved["record"]["steps"] != record["steps"]:
            raise SystemExit(f"{weights[record['kind']]} is not this record's run")
        model = new_model(record["kind"], record["seed"])
        model.load_state_dict(saved["state_dict"])
        record["metric_sizes"] = vars(sizes)
        record["source"] = f"{folder.name}/{weights[record['kind']]}"
        record.update(probe_report(model, data, sizes, record["seed"]))
        print(record["kind"], record["factor_accuracy"], flush=True)
    atomic_write(out, "".join(json.dumps(r) + "\n" for r in records))
    print(f"wrote {out}")


def add_judge(out: Path, gpu_folder: Path | None = None) -> None:
    """Add the factor judge's adequacy check (:func:`lib.pmp.judge_report`) to every record
    of ``out`` that lacks it, from the record's weights: its shipped checkpoint, or, with
    ``gpu_folder``, the H200 run's weights there (see :func:`measure_gpu_records`). A record
    whose weights were not kept is left as it is, and said so."""
    from lib.checkpoint import load_checkpoint, load_pretrained
    from lib.pmp import checkpoint_name, judge_report, new_model

    judge, _ = load_pretrained("judges/dsprites_factor_judge")
    weights = {"pmp": "pmp_seed0_22k.pt", "adagvae": "adagvae_seed0_28k.pt"}
    records = load_grid(out)
    data = DSprites()
    for record in records:
        if "judge" in record:
            continue
        model = new_model(record["kind"], record["seed"])
        if gpu_folder is not None:
            saved = torch.load(
                gpu_folder / weights[record["kind"]],
                map_location="cpu",
                weights_only=True,
            )
            if saved["record"]["steps"] != record["steps"]:
                raise ParameterError(
                    f"{weights[record['kind']]} is not this record's run"
                )
            model.load_state_dict(saved["state_dict"])
        else:
            path = pretrained_path(checkpoint_name(record["kind"], record["seed"]))
            if (
                not path.with_suffix(".pt").is_file()
                and not Path(f"{path}.pt").is_file()
            ):
                print(
                    f"{record['kind']} seed {record['seed']}: no weights kept, skipped"
                )
                continue
            ckpt = load_checkpoint(path, model)
            if ckpt.meta.get("steps") != record["steps"]:
                print(f"{record['kind']} seed {record['seed']}: weights of another run")
                continue
        record.update(judge_report(model, judge, data))
        ratios = {f: r["ratio"] for f, r in record["judge"].items()}
        print(record["kind"], record["seed"], record["steps"], ratios, flush=True)
    atomic_write(out, "".join(json.dumps(r) + "\n" for r in records))
    print(f"added the judge's adequacy check to {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=ALL_KINDS)
    parser.add_argument("--seed", type=seed_value, default=None)
    parser.add_argument(
        "--steps",
        type=int_at_least(1, MAX_STEPS),
        default=None,
        help="default: the chapter's",
    )
    parser.add_argument(
        "--k-changed",
        type=int_at_least(1, len(FACTOR_NAMES)),
        default=None,
        help="factors a pair differs in (default: the chapter's unknown k)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=threads, default=2)
    parser.add_argument(
        "--out",
        default=None,
        help="record to append to (default: the user cache's; with --update-shipped the "
        "shipped record)",
    )
    parser.add_argument(
        "--update-shipped",
        action="store_true",
        help="write the shipped checkpoint and record (maintainers)",
    )
    parser.add_argument(
        "--all", action="store_true", help="every seed x model, in turn"
    )
    parser.add_argument(
        "--ablation",
        action="store_true",
        help="the loss ablation: ablation seeds x (no L_spar, scale-free L_spar), in turn",
    )
    parser.add_argument("--summary", action="store_true")
    parser.add_argument(
        "--quick-sizes", action="store_true", help="the quick metric sizes (tests)"
    )
    parser.add_argument(
        "--no-save", action="store_true", help="write no checkpoint (side runs)"
    )
    parser.add_argument(
        "--refresh-probe",
        action="store_true",
        help="re-measure code probe, reconstruction and supports from the checkpoints",
    )
    parser.add_argument(
        "--add-judge",
        action="store_true",
        help="add the factor judge's adequacy check to the records (from their weights; "
        "with --measure-gpu-records FOLDER, the H200 weights there)",
    )
    parser.add_argument(
        "--measure-gpu-records",
        metavar="FOLDER",
        help="add the probe fields to the H200 records in FOLDER; write --out "
        "(default lib/pretrained/pmp/h200_ladder.jsonl)",
    )
    args = parser.parse_args(argv)
    if (args.all or args.ablation) and (args.kind or args.seed is not None):
        parser.error(
            "--all and --ablation run every kind and seed: drop --kind and --seed"
        )
    if args.all and args.ablation:
        parser.error("give --all or --ablation, not both")
    args.seed = 0 if args.seed is None else args.seed
    torch.set_num_threads(args.threads)
    if args.no_save and args.update_shipped and args.out is None:
        parser.error(
            "--no-save and --update-shipped contradict each other (with --out, they "
            "write that shipped record and no checkpoint)"
        )
    if (args.refresh_probe or args.measure_gpu_records or args.add_judge) and not (
        args.out or args.update_shipped
    ):
        parser.error("say which record to rewrite: --out FILE, or --update-shipped")
    writes = args.add_judge or args.refresh_probe or args.measure_gpu_records
    if writes or not args.summary:  # a record to write: checked before any work
        if args.out is not None:
            check_appendable(check_can_write(args.out, "--out"), "--out")
        elif args.kind and not writes:  # the record in the user cache
            check_can_write(record_path(args, GRID_RECORD), "the record (BOOK_CACHE)")
        if not args.update_shipped:
            refuse_shipped(args.out, "--out")
    if args.add_judge:
        folder = args.measure_gpu_records
        record = record_path(args, H200_RECORD if folder else GRID_RECORD)
        add_judge(record, Path(folder) if folder else None)
        return 0
    if args.refresh_probe:
        refresh_probe(record_path(args, GRID_RECORD))
        return 0
    if args.measure_gpu_records:
        measure_gpu_records(
            Path(args.measure_gpu_records), record_path(args, H200_RECORD)
        )
        return 0
    if args.summary:
        print(format_grid(grid_table(load_grid(args.out))))
        return 0
    if args.all or args.ablation:  # each run its own process, as the budget is stated
        chapter = get_config()
        seeds = chapter.ablation_seeds if args.ablation else chapter.seeds
        kinds = ABLATION_KINDS if args.ablation else MODEL_KINDS
        for seed in seeds:
            for kind in kinds:
                cmd = [sys.executable, __file__, "--kind", kind, "--seed", str(seed)]
                cmd += ["--device", args.device, "--threads", str(args.threads)]
                cmd += ["--out", args.out] if args.out else []
                cmd += ["--update-shipped"] if args.update_shipped else []
                cmd += ["--no-save"] if args.no_save else []
                cmd += ["--steps", str(args.steps)] if args.steps else []
                cmd += ["--k-changed", str(args.k_changed)] if args.k_changed else []
                cmd += ["--quick-sizes"] if args.quick_sizes else []
                if subprocess.run(cmd).returncode != 0:
                    print(f"{Path(__file__).name}: error: {kind} seed {seed} failed")
                    return 1
        return 0
    if args.kind is None:
        parser.error("give --kind (or --all, or --summary)")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
