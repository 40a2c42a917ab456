"""Pin every chapter's training numerics: weights and histories of tiny fixed-seed CPU runs.

    python bench/bit_identity.py --check bench/bit_identity_reference.json   # compare
    python bench/bit_identity.py --write bench/bit_identity_reference.json   # record
    python bench/bit_identity.py --check REF.json --only intro pmp           # some chapters

Each case trains one chapter's model a handful of steps on tiny data through the public
function a reader, a script or a sweep calls: a notebook's ``fit_*`` recipe (``setup(device=
"cpu", quick=True, train="always", save="none")``, the chapter's config with a smaller quick
budget), an ``experiments/`` script's ``main`` or ``run``, a sweep trial
(:class:`lib.sweep.TrialContext` in a temporary folder), ``experiments/reproduce.py``
(``--plain``, one seed). It records the sha256 of the final ``state_dict`` (keys in sorted
order: name, dtype, shape and the tensor's bytes) and of the history (the loss curves as
JSON, keys sorted). ``--check`` trains again and prints case | weights | history (same /
DIFFERENT), and exits 1 on any difference: the acceptance test of a refactor that must not
change the numbers (project issue 45).

Fixed here, so that the numbers are a function of the code alone: one torch thread (CPU
float sums depend on the thread count), ``seed_everything(0)`` before every case (a case's
result does not depend on which ran before), ``BOOK_CACHE`` a temporary folder,
``BOOK_SAVE=none``, ``BOOK_OFFLINE=1``. MNIST is replaced, in the drivers that load it, by
a tiny synthetic split (:func:`tiny_mnist`, the same for every driver), so no data file or
download decides the numbers. What a script or trial measures *after* training (metric
suites, the digit judge, the PMP grid record) is stubbed out: it cannot change the weights
or the history, and it would take minutes. Drivers of the same model with the same settings
are also compared with each other (the "drift" table): today's disagreements are reported,
not failures. A reference written with another torch version may differ for that reason
alone: the check says so.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lib.cli import output_file, run_main  # noqa: E402
from lib.errors import ParameterError  # noqa: E402
from lib.files import atomic_write  # noqa: E402

THREADS = 1
STEPS = 3  # optimiser steps of every case (PMP: PMP_STEPS)
PMP_STEPS = 4  # enough for the objective's epoch ramps to move (two phases)
DEFAULT_REFERENCE = ROOT / "bench" / "bit_identity_reference.json"


# --------------------------------------------------------------------------------------------
# fingerprints
# --------------------------------------------------------------------------------------------
def state_sha256(model: torch.nn.Module) -> str:
    """sha256 of ``model.state_dict()``: per key in sorted order its name, dtype, shape and
    bytes (the tensor made contiguous: a channels-last copy hashes as the plain one)."""
    digest = hashlib.sha256()
    state = model.state_dict()
    for key in sorted(state):
        tensor = state[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def history_sha256(history: dict[str, Any]) -> str:
    """sha256 of the history as JSON (keys sorted; floats as Python writes them: exact)."""
    plain = {str(k): [float(v) for v in values] for k, values in history.items()}
    text = json.dumps(plain, sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# helpers: patches, trainer capture, settings, tiny data
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def patched(*changes: tuple[Any, str, Any]) -> Iterator[None]:
    """Set ``setattr(obj, name, value)`` for each change, and put the old values back."""
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in changes]
    try:
        for obj, name, value in changes:
            setattr(obj, name, value)
        yield
    finally:
        for obj, name, old in reversed(saved):
            setattr(obj, name, old)


@contextlib.contextmanager
def captured_trainers() -> Iterator[list]:
    """Every :class:`~lib.trainer.Trainer` whose ``fit`` runs inside, in order (once each):
    how a script's or trial's weights and history are read without changing the script."""
    from lib.trainer import Trainer

    trainers: list = []
    fit = Trainer.fit

    def spy(self, *args: Any, **kwargs: Any):
        if not any(t is self for t in trainers):
            trainers.append(self)
        return fit(self, *args, **kwargs)

    with patched((Trainer, "fit", spy)):
        yield trainers


def last_trainer(trainers: list) -> tuple[torch.nn.Module, dict]:
    if not trainers:
        raise RuntimeError("the driver trained nothing")
    trainer = trainers[-1]
    return trainer.model, dict(trainer.history)


def notebook_settings():
    """What a chapter's ``setup`` cell gives on a CPU in quick mode, training always."""
    from lib.notebook import setup

    return setup(device="cpu", seed=0, quick=True, train="always", save="none")


def tiny_mnist():
    """A synthetic stand-in for MNIST (160 training, 32 test digits, labels 0..9), the same
    on every call: what every driver of a case that loads MNIST is handed."""
    from lib.data.mnist import ImageDataset, TrainTest

    rng = np.random.default_rng(0)

    def split(n: int, name: str) -> ImageDataset:
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.int64) % 10
        return ImageDataset(
            images, labels, source="synthetic (bit_identity)", split=name
        )

    return TrainTest(split(160, "train"), split(32, "test"))


def tiny_mnist_patches(*modules: Any) -> tuple:
    """Patches that hand :func:`tiny_mnist` to whoever calls ``load_mnist_train_test``."""
    import lib.data.mnist

    def load(**_: Any):
        return tiny_mnist()

    targets = (lib.data.mnist, *modules)
    return tuple((m, "load_mnist_train_test", load) for m in targets)


def script(name: str):
    """The module of ``experiments/<name>.py`` (loaded once)."""
    key = f"_bit_identity_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(
        key, ROOT / "experiments" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


def trial_context(folder: Path):
    from lib.sweep import Resources, TrialContext

    return TrialContext(folder, Resources(threads=THREADS))


def nothing(*_: Any, **__: Any) -> dict:
    return {}


# --------------------------------------------------------------------------------------------
# the cases: name -> run(tmp) -> (model, history)
# --------------------------------------------------------------------------------------------
def intro_notebook(tmp: Path):
    import lib.intro.recipes as intro

    chapter = dataclasses.replace(intro.get_config(), quick_steps=STEPS)
    images, _, _, _ = tiny_mnist().tensors()
    run = intro.fit_warmup_ae(notebook_settings(), chapter, images)
    return run.model, run.history


def intro_function(tmp: Path):
    import lib.intro.recipes as intro
    from lib.intro.model import WarmupAutoencoder

    chapter = intro.get_config()
    images, _, _, _ = tiny_mnist().tensors()
    torch.manual_seed(0)
    model = WarmupAutoencoder(chapter.model)
    trainer = intro.train_warmup_ae(
        model, images, steps=STEPS, batch_size=chapter.batch_size, lr=chapter.lr, seed=0
    )
    return trainer.model, dict(trainer.history)


def disks(reg: str) -> Callable[[Path], tuple]:
    def run_case(tmp: Path):
        import lib.taking_apart.recipes as taking_apart
        from lib.taking_apart.model import DiskAEConfig

        chapter = dataclasses.replace(taking_apart.get_config(), quick_steps=STEPS)
        settings = notebook_settings()
        data = taking_apart.training_disks(32, seed=0)
        run = taking_apart.fit_disk_ae(
            settings, chapter, f"bit_{reg}", DiskAEConfig(), data, steps=10, reg=reg
        )
        return run.model, run.history

    return run_case


def torus_notebook(tmp: Path):
    import lib.toroidal.recipes as toroidal

    chapter = dataclasses.replace(toroidal.get_config(), quick_steps=STEPS)
    x, y, _, _ = tiny_mnist().tensors()
    run = toroidal.fit_torus_ae(
        notebook_settings(), chapter, "bit_torus", chapter.torus_weights, x, y
    )
    return run.model, run.history


def torus_script(tmp: Path):
    module = script("torus_sweep")
    argv = ["--name", "bit", "--steps", str(STEPS), "--every", str(STEPS)]
    argv += ["--threads", str(THREADS), "--device", "cpu"]
    argv += ["--out", str(tmp / "t.jsonl")]
    with patched(*tiny_mnist_patches(module)), captured_trainers() as trainers:
        module.main(argv)
    return last_trainer(trainers)


def torus_trial(tmp: Path):
    import lib.toroidal.recipes as toroidal

    params = {"name": "bit", "seed": 0, "steps": STEPS, "every": STEPS}
    with patched(*tiny_mnist_patches(toroidal)), captured_trainers() as trainers:
        toroidal.sweep_trial(params, trial_context(tmp / "trial"))
    return last_trainer(trainers)


def torus_reproduce(tmp: Path):
    module = script("reproduce")
    import lib.checkpoint
    import lib.toroidal.measure

    argv = ["torus", "--budget", str(STEPS), "--seeds", "0", "--plain"]
    argv += ["--device", "cpu", "--threads", str(THREADS), "--out", str(tmp / "r")]
    stubs = (
        (lib.toroidal.measure, "ladder_fields", nothing),
        (lib.checkpoint, "load_pretrained", lambda *a, **k: (None, None)),
    )
    with patched(*tiny_mnist_patches(), *stubs), captured_trainers() as trainers:
        module.main(argv)
    return last_trainer(trainers)


def digit_judge_notebook(tmp: Path):
    import lib.toroidal.recipes as toroidal

    chapter = dataclasses.replace(toroidal.get_config(), judge_quick_steps=STEPS)
    x, y, _, _ = tiny_mnist().tensors()
    run = toroidal.fit_digit_judge(notebook_settings(), chapter, x, y)
    return run.model, run.history


def atomic_mnist_notebook(tmp: Path):
    import lib.atomic.recipes as atomic

    chapter = dataclasses.replace(atomic.get_config(), quick_steps=STEPS)
    digits, _, _, _ = tiny_mnist().tensors()
    batches = atomic.mnist_batches(digits, chapter.image_size, 8, seed=0)
    run = atomic.fit_atomic_ae(
        notebook_settings(), chapter, "bit_mnist", chapter.mnist, batches, 10
    )
    return run.model, run.history


def spikes_notebook(tmp: Path):
    import lib.atomic.recipes as atomic

    chapter = dataclasses.replace(atomic.get_config(), quick_steps=STEPS)
    batches = atomic.spike_batches(chapter.spikes, chapter.batch_size, 0)
    run = atomic.fit_atomic_ae(
        notebook_settings(), chapter, "bit_spikes", chapter.spikes_model, batches, 10
    )
    return run.model, run.history


def spikes_script(tmp: Path):
    module = script("atomic_spikes")
    argv = ["--steps", str(STEPS), "--evaluate-every", str(STEPS), "--n-test", "8"]
    argv += ["--device", "cpu", "--out", str(tmp / "a.jsonl")]
    stubs = ((module, "spike_measures", nothing),)
    with patched(*stubs), captured_trainers() as trainers:
        module.main(argv)
    return last_trainer(trainers)


def spikes_trial(tmp: Path):
    import lib.atomic.recipes as atomic

    params = {"steps": STEPS, "evaluate_every": STEPS, "n_test": 8, "seed": 0}
    stubs = ((atomic, "spike_measures", nothing),)
    with patched(*stubs), captured_trainers() as trainers:
        atomic.spike_trial(params, trial_context(tmp / "trial"))
    return last_trainer(trainers)


def spikes_reproduce(tmp: Path):
    module = script("reproduce")
    import lib.atomic

    argv = ["atomic", "--budget", str(STEPS), "--seeds", "0", "--plain"]
    argv += ["--device", "cpu", "--threads", str(THREADS), "--out", str(tmp / "r")]
    stubs = ((lib.atomic, "spike_measures", nothing),)
    with patched(*stubs), captured_trainers() as trainers:
        module.main(argv)
    return last_trainer(trainers)


def pmp_notebook(kind: str) -> Callable[[Path], tuple]:
    def run_case(tmp: Path):
        import lib.pmp.recipes as pmp
        from lib.data.dsprites import DSprites

        chapter = dataclasses.replace(pmp.get_config(), quick_steps=PMP_STEPS)
        run = pmp.fit_pmp_model(notebook_settings(), chapter, DSprites(), kind, 0)
        return run.model, run.history

    return run_case


def pmp_script(kind: str) -> Callable[[Path], tuple]:
    def run_case(tmp: Path):
        module = script("pmp_grid")
        argv = ["--kind", kind, "--seed", "0", "--steps", str(PMP_STEPS), "--no-save"]
        argv += ["--quick-sizes", "--device", "cpu", "--threads", str(THREADS)]
        argv += ["--out", str(tmp / "grid.jsonl")]
        stubs = ((module, "grid_record", nothing),)
        with patched(*stubs), captured_trainers() as trainers:
            module.main(argv)
        return last_trainer(trainers)

    return run_case


def pmp_trial(kind: str) -> Callable[[Path], tuple]:
    def run_case(tmp: Path):
        import lib.pmp.recipes as pmp

        params = {"kind": kind, "seed": 0, "steps": PMP_STEPS, "quick_sizes": True}
        stubs = ((pmp, "grid_record", nothing),)
        with patched(*stubs), captured_trainers() as trainers:
            pmp.grid_trial(params, trial_context(tmp / "trial"))
        return last_trainer(trainers)

    return run_case


def pmp_reproduce(kind: str) -> Callable[[Path], tuple]:
    def run_case(tmp: Path):
        module = script("reproduce")
        import lib.pmp.measure

        argv = ["pmp", "--budget", str(PMP_STEPS), "--seeds", "0", "--plain"]
        argv += ["--kinds", kind, "--quick-sizes", "--device", "cpu"]
        argv += ["--threads", str(THREADS), "--out", str(tmp / "r")]
        stubs = ((lib.pmp.measure, "evaluate_pmp_model", nothing),)
        with patched(*stubs), captured_trainers() as trainers:
            module.main(argv)
        return last_trainer(trainers)

    return run_case


def dsprites_ae_notebook(tmp: Path):
    import lib.measuring.recipes as measuring
    from lib.data.dsprites import DSprites

    chapter = dataclasses.replace(measuring.get_config(), quick_steps=STEPS)
    run = measuring.fit_dsprites_ae(notebook_settings(), chapter, DSprites())
    return run.model, run.history


def beta_vae_notebook(tmp: Path):
    import lib.measuring.recipes as measuring
    from lib.measuring.recipes import SmallChunkDSprites

    chapter = dataclasses.replace(measuring.get_config(), vae_quick_steps=STEPS)
    run = measuring.fit_beta_vae(
        notebook_settings(), chapter, SmallChunkDSprites(), beta=4.0, seed=0
    )
    return run.model, run.history


def beta_vae_script(tmp: Path):
    module = script("beta_vae_population")
    argv = ["--beta", "4", "--seed", "0", "--steps", str(STEPS)]
    argv += ["--threads", str(THREADS), "--device", "cpu"]
    argv += ["--out", str(tmp / "b.jsonl")]
    stubs = (
        (module, "score_all", nothing),
        (module, "judge_adequacy", nothing),
        (module, "load_pretrained", lambda *a, **k: (None, None)),
    )
    with patched(*stubs), captured_trainers() as trainers:
        module.main(argv)
    return last_trainer(trainers)


# name -> (what it drives, the function)
CASES: dict[str, tuple[str, Callable[[Path], tuple]]] = {
    "intro/notebook": ("lib.intro.fit_warmup_ae", intro_notebook),
    "intro/function": ("lib.intro.train_warmup_ae", intro_function),
    "taking_apart/none": ("lib.taking_apart.fit_disk_ae reg=none", disks("none")),
    "taking_apart/type1": ("lib.taking_apart.fit_disk_ae reg=type1", disks("type1")),
    "toroidal/notebook": ("lib.toroidal.fit_torus_ae", torus_notebook),
    "toroidal/script": ("experiments/torus_sweep.py", torus_script),
    "toroidal/trial": ("lib.toroidal.sweep_trial", torus_trial),
    "toroidal/reproduce": ("experiments/reproduce.py torus --plain", torus_reproduce),
    "toroidal/judge": ("lib.toroidal.fit_digit_judge", digit_judge_notebook),
    "atomic/mnist": ("lib.atomic.fit_atomic_ae (MNIST)", atomic_mnist_notebook),
    "atomic/spikes": ("lib.atomic.fit_atomic_ae (spikes)", spikes_notebook),
    "atomic/spikes-script": ("experiments/atomic_spikes.py", spikes_script),
    "atomic/spikes-trial": ("lib.atomic.spike_trial", spikes_trial),
    "atomic/spikes-reproduce": (
        "experiments/reproduce.py atomic --plain",
        spikes_reproduce,
    ),
    "pmp/pmp": ("lib.pmp.fit_pmp_model pmp", pmp_notebook("pmp")),
    "pmp/pmp-script": ("experiments/pmp_grid.py --kind pmp", pmp_script("pmp")),
    "pmp/pmp-trial": ("lib.pmp.grid_trial pmp", pmp_trial("pmp")),
    "pmp/pmp-reproduce": ("experiments/reproduce.py pmp --plain", pmp_reproduce("pmp")),
    "pmp/adagvae": ("lib.pmp.fit_pmp_model adagvae", pmp_notebook("adagvae")),
    "pmp/adagvae-script": (
        "experiments/pmp_grid.py --kind adagvae",
        pmp_script("adagvae"),
    ),
    "pmp/adagvae-trial": ("lib.pmp.grid_trial adagvae", pmp_trial("adagvae")),
    "pmp/adagvae-reproduce": (
        "experiments/reproduce.py pmp --plain --kinds adagvae",
        pmp_reproduce("adagvae"),
    ),
    "measuring/dsprites_ae": ("lib.measuring.fit_dsprites_ae", dsprites_ae_notebook),
    "measuring/beta_vae": ("lib.measuring.fit_beta_vae", beta_vae_notebook),
    "measuring/beta_vae-script": (
        "experiments/beta_vae_population.py",
        beta_vae_script,
    ),
}

# drivers of one model with one setting: each is compared with the first (drift, reported)
GROUPS: dict[str, tuple[str, ...]] = {
    "intro warm-up AE": ("intro/notebook", "intro/function"),
    "torus AE": (
        "toroidal/notebook",
        "toroidal/script",
        "toroidal/trial",
        "toroidal/reproduce",
    ),
    "atomic spikes": (
        "atomic/spikes",
        "atomic/spikes-script",
        "atomic/spikes-trial",
        "atomic/spikes-reproduce",
    ),
    "PMP": ("pmp/pmp", "pmp/pmp-script", "pmp/pmp-trial", "pmp/pmp-reproduce"),
    "Ada-GVAE": (
        "pmp/adagvae",
        "pmp/adagvae-script",
        "pmp/adagvae-trial",
        "pmp/adagvae-reproduce",
    ),
    "beta-VAE": ("measuring/beta_vae", "measuring/beta_vae-script"),
}


# --------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def quiet_fixed_environment(tmp: Path) -> Iterator[None]:
    """One thread, a temporary cache, nothing saved, no download, no progress bars, no
    prints (the drivers' own lines); all put back afterwards."""
    keep_env, keep_threads = dict(os.environ), torch.get_num_threads()
    keep_deterministic = torch.are_deterministic_algorithms_enabled()
    os.environ.update(
        BOOK_CACHE=str(tmp / "cache"),
        BOOK_SAVE="none",
        BOOK_OFFLINE="1",
        BOOK_NO_PROGRESS="1",
    )
    for variable in ("BOOK_QUICK", "BOOK_PREFER_CACHE", "BOOK_DATA"):
        os.environ.pop(variable, None)
    torch.set_num_threads(THREADS)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        os.environ.clear()
        os.environ.update(keep_env)
        torch.set_num_threads(keep_threads)
        torch.use_deterministic_algorithms(keep_deterministic)


def run_cases(names: list[str]) -> dict[str, dict[str, Any]]:
    """Train each case (fresh seeds, its own temporary folder): name -> its fingerprints."""
    from lib.seeding import seed_everything

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        with quiet_fixed_environment(tmp):
            for name in names:
                case_dir = tmp / name.replace("/", "_")
                case_dir.mkdir()
                seed_everything(0)
                start = time.perf_counter()
                model, history = CASES[name][1](case_dir)
                results[name] = {
                    "driver": CASES[name][0],
                    "weights": state_sha256(model),
                    "history": history_sha256(history),
                    "steps": len(history.get("loss", [])),
                    "seconds": round(time.perf_counter() - start, 2),
                }
    return results


def drift(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, bool]]]:
    """For each group of :data:`GROUPS`, whether each driver agrees with the first."""
    table: dict[str, dict[str, dict[str, bool]]] = {}
    for group, names in GROUPS.items():
        if not all(n in results for n in names):
            continue
        first = results[names[0]]
        table[group] = {
            n: {
                "weights": results[n]["weights"] == first["weights"],
                "history": results[n]["history"] == first["history"],
            }
            for n in names[1:]
        }
    return table


def machine_record() -> dict[str, Any]:
    return {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "torch_threads": THREADS,
        "python": sys.version.split()[0],
        "command": "python bench/bit_identity.py --write bench/bit_identity_reference.json",
    }


def print_drift(
    table: dict[str, dict[str, dict[str, bool]]], earlier: dict | None = None
) -> None:
    """The drift table; with ``earlier`` (the reference's), a change is marked."""
    print("\ndrift (each driver against the group's first; reported, not checked):")
    print(f"{'group':<18} {'driver':<48} {'weights':<9} history")
    word = {True: "agree", False: "differ"}
    for group, rows in table.items():
        for name, row in rows.items():
            label = f"{name} vs {GROUPS[group][0]}"
            then = (earlier or {}).get(group, {}).get(name)
            note = "" if then in (None, row) else "  (changed since the reference)"
            print(
                f"{group:<18} {label:<48} {word[row['weights']]:<9} "
                f"{word[row['history']]}{note}"
            )


def read_reference(path: Path) -> dict[str, Any]:
    try:
        reference = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(
            f"--check {path}: not a readable reference ({exc})"
        ) from None
    if not isinstance(reference, dict) or not isinstance(reference.get("cases"), dict):
        raise ParameterError(
            f"--check {path}: not a bit-identity reference (no 'cases'); "
            "write one with --write"
        )
    return reference


def check(reference: dict[str, Any], results: dict[str, dict[str, Any]]) -> int:
    """Print case | weights | history against ``reference``; 1 on any difference."""
    cases = reference["cases"]
    differences = 0
    print(f"{'case':<26} {'weights':<10} {'history':<10} driver")
    for name, now in results.items():
        then = cases.get(name)
        if then is None:
            print(f"{name:<26} {'NEW':<10} {'NEW':<10} {now['driver']}")
            differences += 1
            continue
        marks = []
        for key in ("weights", "history"):
            same = now[key] == then[key]
            differences += not same
            marks.append("same" if same else "DIFFERENT")
        print(f"{name:<26} {marks[0]:<10} {marks[1]:<10} {now['driver']}")
    if reference.get("torch") != torch.__version__:
        print(
            f"note: the reference was written with torch {reference.get('torch')}, "
            f"this is {torch.__version__}: a difference may be the library's"
        )
    return 1 if differences else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=output_file, metavar="REF.json")
    mode.add_argument("--check", type=Path, metavar="REF.json")
    parser.add_argument(
        "--only",
        nargs="+",
        default=None,
        help="case name prefixes (e.g. intro pmp/pmp)",
    )
    args = parser.parse_args(argv)
    names = list(CASES)
    if args.only is not None:
        names = [n for n in names if any(n.startswith(o) for o in args.only)]
        if not names:
            parser.error(f"--only {args.only} names no case; cases: {', '.join(CASES)}")
    if args.check is not None and not args.check.is_file():
        parser.error(f"--check {args.check}: no such file")
    reference = read_reference(args.check) if args.check is not None else None
    start = time.perf_counter()
    results = run_cases(names)
    seconds = time.perf_counter() - start
    table = drift(results)
    if reference is None:
        if args.only is not None:  # keep the cases this run did not train
            earlier = {}
            if args.write.is_file():
                earlier = read_reference(args.write)["cases"]
            results = {**earlier, **results}
        # the seconds are this machine's and this moment's: shown, not kept
        kept = {
            name: {k: v for k, v in result.items() if k != "seconds"}
            for name, result in results.items()
        }
        record = {**machine_record(), "cases": kept, "drift": drift(results)}
        atomic_write(args.write, json.dumps(record, indent=1, sort_keys=True) + "\n")
        for name, result in results.items():
            seconds_case = result.get("seconds")
            shown = "kept" if seconds_case is None else f"{seconds_case:6.2f} s"
            print(f"{name:<26} {shown:>8}  {result['driver']}")
        print_drift(table)
        print(f"wrote {args.write} ({len(names)} cases trained in {seconds:.1f} s)")
        return 0
    status = check(reference, results)
    print_drift(table, reference.get("drift"))
    verdict = "all the same" if status == 0 else "DIFFERENCES"
    print(f"{verdict}: {len(names)} cases in {seconds:.1f} s on {THREADS} thread")
    return status


if __name__ == "__main__":
    sys.exit(run_main(main))
