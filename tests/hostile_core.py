"""Bad inputs for the core, the models, the losses and the chapters' tools (see ``hostile.py``).

The core (settings, checkpoints, configs, the trainer), the spikes and disks data, the live
export, and each paper package's models, losses and measures: every case is one bad argument
that must meet a clear error naming it.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from hostile import Case

NAN, INF = math.nan, math.inf


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="hostile-core-"))


def _checkpoint_with(record) -> Path:
    """A checkpoint whose JSON holds ``record`` (any JSON value) beside valid weights."""
    folder = _folder()
    torch.save({"model": {}}, folder / "m.pt")
    (folder / "m.json").write_text(json.dumps(record))
    return folder / "m"


def _nan_weights() -> Path:
    """A checkpoint whose checksum matches but whose weights are all NaN."""
    from lib.checkpoint import save_checkpoint
    from lib.intro import WarmupAEConfig, WarmupAutoencoder

    model = WarmupAutoencoder(WarmupAEConfig(latent_dim=2, channels=2, hidden=4))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(NAN)
    path = _folder() / "nan"
    save_checkpoint(path, model, model.config.to_dict())
    return path


def _setup(**kwargs):
    from lib.notebook import setup

    kwargs.setdefault("device", "cpu")
    return setup(**kwargs)


def _load_pretrained(path, **kwargs):
    from lib.checkpoint import load_pretrained

    return load_pretrained(path, **kwargs)


def _config(module: str, name: str, **kwargs):
    import importlib

    return getattr(importlib.import_module(module), name)(**kwargs)


def _pair_loss(kind: str, x1, x2, step=0):
    from lib.pmp import new_model
    from lib.pmp.losses import PairBatch, PMPObjective, adagvae_loss

    model = new_model(kind, 0)
    batch = PairBatch(x1, x2)
    if kind == "pmp":
        return PMPObjective(steps=10)(model, batch, step=step)
    return adagvae_loss(model, batch)


def _images(n=2, value=0.5, size=64):
    return torch.full((n, 1, size, size), value)


def _encode(kind: str, x):
    if kind in ("pmp", "adagvae"):
        from lib.pmp import new_model

        return new_model(kind, 0).encode(x)
    if kind == "torus":
        from lib.toroidal.model import TorusAEConfig, TorusAutoencoder

        return TorusAutoencoder(TorusAEConfig()).encode(x)
    if kind == "disk":
        from lib.taking_apart.model import DiskAEConfig, DiskAutoencoder

        return DiskAutoencoder(DiskAEConfig()).encode(x)
    from lib.intro import WarmupAEConfig, WarmupAutoencoder

    return WarmupAutoencoder(WarmupAEConfig()).encode(x)


def _decode(kind: str, z):
    if kind == "pmp":
        from lib.pmp import new_model

        return new_model("pmp", 0).decode(z)
    if kind == "adagvae":
        from lib.pmp import new_model

        return new_model("adagvae", 0).decode(z)
    if kind == "torus":
        from lib.toroidal.model import TorusAEConfig, TorusAutoencoder

        return TorusAutoencoder(TorusAEConfig()).decode(z)
    if kind == "warmup":
        from lib.intro import WarmupAEConfig, WarmupAutoencoder

        return WarmupAutoencoder(WarmupAEConfig()).decode(z)
    from lib.atomic.model import AtomicAEConfig, AtomicAutoencoder

    model = AtomicAutoencoder(AtomicAEConfig(image_size=32, n_atoms=2, atom_dim=3))
    return model.decode(z) if kind == "atomic" else model(z)


class _Two(NamedTuple):
    image: torch.Tensor
    code: torch.Tensor


def _export(decode, n_inputs=2):
    from lib.live import export_onnx

    return export_onnx(decode, n_inputs)


def _trainer_config(**kwargs):
    from lib.trainer import TrainerConfig

    return TrainerConfig(**kwargs)


def _sampler(*tensors, **kwargs):
    from lib.trainer import TensorSampler

    return TensorSampler(*tensors, **kwargs)


def _spikes(name: str, *args, **kwargs):
    import lib.data.spikes as spikes

    return getattr(spikes, name)(*args, **kwargs)


def _disks(name: str, *args, **kwargs):
    import lib.data.disks as disks

    return getattr(disks, name)(*args, **kwargs)


def _slider(**kwargs):
    from lib.sliders import SliderSpec

    return SliderSpec(**kwargs)


def _scale(name: str, *args, **kwargs):
    import lib.scale
    import lib.trainer

    module = lib.trainer if name == "resumable_fit" else lib.scale  # beside the Trainer
    return getattr(module, name)(*args, **kwargs)


class _TinyGrid:
    factor_sizes = (2, 3)

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(0, s, n) for s in self.factor_sizes], 1)

    def render(self, factors):
        return np.zeros((len(factors), 1, 4, 4), np.float32)


def _resident(dataset, **kwargs):
    from lib.data.resident import ResidentGrid

    return ResidentGrid(_TinyGrid() if dataset is None else dataset, **kwargs)


def _pair_stream(batch_size=4, seeds=(0,)):
    from lib.pmp import PairStream

    return PairStream(_TinyGrid(), batch_size, seeds)


def _sweep(name: str, *args, **kwargs):
    import lib.sweep

    return getattr(lib.sweep, name)(*args, **kwargs)


def _trial(path: str, params: dict):
    """A chapter's sweep trial with ``params``, in this process (tiny budget)."""
    from lib.sweep import TrialSpec, run_trial

    return run_trial(TrialSpec("t", path, params), _folder())


def _call(path: str, *args, **kwargs):
    """``module:function`` called with the arguments (imported at call time)."""
    import importlib

    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


def _run_settings(**bad):
    from lib.notebook import RunSettings

    good = dict(
        device=torch.device("cpu"),
        seed=0,
        quick=False,
        train="auto",
        generator=torch.Generator(),
    )
    return RunSettings(**{**good, **bad})


def _stack_of_two_slopes():
    from lib.scale import StackedModels
    from lib.taking_apart.model import DiskAEConfig, DiskAutoencoder

    return StackedModels(
        [
            DiskAutoencoder(DiskAEConfig()),
            DiskAutoencoder(DiskAEConfig(negative_slope=0.3)),
        ]
    )


def cases() -> list[Case]:
    pmp, ada, spec = "lib.pmp.model", "lib.pmp.model", "lib.data.spikes"
    one = torch.ones(2, 2)
    return [
        # ---- notebook settings (lib.notebook) ----
        Case("setup seed 2**70", lambda: _setup(seed=2**70), "seed"),
        Case("setup seed True", lambda: _setup(seed=True), "seed"),
        Case("setup seed -1", lambda: _setup(seed=-1), "seed"),
        Case("setup seed float", lambda: _setup(seed=1.0), "seed"),
        Case("setup device gpu", lambda: _setup(device="gpu"), "device"),
        Case("setup train sometimes", lambda: _setup(train="sometimes"), "train"),
        Case("setup quick 'yes'", lambda: _setup(quick="yes"), "quick"),
        Case("setup save disk", lambda: _setup(save="disk"), "save"),
        Case("setup prefer_cache 1", lambda: _setup(prefer_cache=1), "prefer_cache"),
        Case(
            "train never, nothing shipped",
            lambda: _setup(train="never").should_train(_folder() / "absent"),
            "train",
        ),
        # ---- checkpoints (lib.checkpoint) ----
        Case(
            "load_pretrained JSON []",
            lambda: _load_pretrained(_checkpoint_with([])),
            "checkpoint",
        ),
        Case(
            "load_pretrained JSON null",
            lambda: _load_pretrained(_checkpoint_with(None)),
            "checkpoint",
        ),
        Case(
            "load_pretrained JSON module os",
            lambda: _load_pretrained(
                _checkpoint_with({"model_class": "X", "model_module": "os"})
            ),
            "module",
        ),
        Case(
            "load_pretrained all-NaN weights",
            lambda: _load_pretrained(_nan_weights()),
            "NaN",
        ),
        Case(
            "load_pretrained unknown name",
            lambda: _load_pretrained("no/such_model"),
            "no/such_model",
        ),
        Case("load_pretrained a number", lambda: _load_pretrained(3), "name"),
        Case(
            "load_pretrained prefer_cache 'yes'",
            lambda: _load_pretrained("intro/warmup_ae", prefer_cache="yes"),
            "prefer_cache",
        ),
        Case(
            "checkpoint name ../x",
            lambda: __import__("lib.checkpoint").checkpoint.pretrained_path("../x"),
            "checkpoint name",
        ),
        Case(
            "checkpoint name absolute",
            lambda: __import__("lib.checkpoint").checkpoint.cached_path("/tmp/x"),
            "checkpoint name",
        ),
        Case(
            "load_checkpoint missing",
            lambda: __import__("lib.checkpoint").checkpoint.load_checkpoint(
                _folder() / "absent"
            ),
            "missing",
        ),
        # ---- configs (lib.config and every model config) ----
        Case(
            "AdaGVAEConfig beta inf",
            lambda: _config(ada, "AdaGVAEConfig", beta=INF),
            "beta",
        ),
        Case(
            "AdaGVAEConfig beta nan",
            lambda: _config(ada, "AdaGVAEConfig", beta=NAN),
            "beta",
        ),
        Case(
            "AdaGVAEConfig beta 0",
            lambda: _config(ada, "AdaGVAEConfig", beta=0),
            "beta",
        ),
        Case(
            "PMPConfig latent_dim True",
            lambda: _config(pmp, "PMPConfig", latent_dim=True),
            "latent_dim",
        ),
        Case(
            "PMPConfig n_projectors 2.5",
            lambda: _config(pmp, "PMPConfig", n_projectors=2.5),
            "n_projectors",
        ),
        Case(
            "AtomicAEConfig image_size 1024",
            lambda: _config("lib.atomic.model", "AtomicAEConfig", image_size=1024),
            "image_size",
        ),
        Case(
            "AtomicAEConfig image_size 48",
            lambda: _config("lib.atomic.model", "AtomicAEConfig", image_size=48),
            "image_size",
        ),
        Case(
            "AtomicAEConfig init 'xavier'",
            lambda: _config("lib.atomic.model", "AtomicAEConfig", init="xavier"),
            "init",
        ),
        Case(
            "TorusAEConfig d '3'",
            lambda: _config("lib.toroidal.model", "TorusAEConfig", d="3"),
            "d",
        ),
        Case(
            "TorusLossWeights spring nan",
            lambda: _config("lib.toroidal.losses", "TorusLossWeights", spring=NAN),
            "spring",
        ),
        Case(
            "DiskAEConfig from_dict unknown key",
            lambda: __import__(
                "lib.taking_apart.model"
            ).taking_apart.model.DiskAEConfig.from_dict(
                {"name": "DiskAEConfig", "colour": 1}
            ),
            "colour",
        ),
        Case(
            "PMPLossWeights consistency inf",
            lambda: _config("lib.pmp.losses", "PMPLossWeights", consistency=INF),
            "consistency",
        ),
        Case(
            "PMPLossWeights distance -1",
            lambda: _config("lib.pmp.losses", "PMPLossWeights", distance=-1.0),
            "distance",
        ),
        # ---- the trainer (lib.trainer) ----
        Case("TrainerConfig lr inf", lambda: _trainer_config(lr=INF), "lr"),
        Case("TrainerConfig lr 0", lambda: _trainer_config(lr=0.0), "lr"),
        Case("TrainerConfig steps True", lambda: _trainer_config(steps=True), "steps"),
        Case(
            "TrainerConfig betas (0.9, 1.5)",
            lambda: _trainer_config(betas=(0.9, 1.5)),
            "betas",
        ),
        Case(
            "TrainerConfig schedule",
            lambda: _trainer_config(schedule="step"),
            "schedule",
        ),
        Case(
            "TrainerConfig grad_clip nan",
            lambda: _trainer_config(grad_clip=NAN),
            "grad_clip",
        ),
        Case(
            "TensorSampler batch 0", lambda: _sampler(one, batch_size=0), "batch_size"
        ),
        Case(
            "TensorSampler batch 2.5",
            lambda: _sampler(one, batch_size=2.5),
            "batch_size",
        ),
        Case(
            "TensorSampler lengths",
            lambda: _sampler(one, torch.ones(3), batch_size=1),
            "length",
        ),
        Case("TensorSampler a list", lambda: _sampler([1, 2], batch_size=1), "tensor"),
        # ---- spikes and crosses (lib.data.spikes) ----
        Case(
            "SpikeSpec sigma 0", lambda: _config(spec, "SpikeSpec", sigma=0.0), "sigma"
        ),
        Case(
            "SpikeSpec sigma inf",
            lambda: _config(spec, "SpikeSpec", sigma=INF),
            "sigma",
        ),
        Case(
            "SpikeSpec image_size 20.5",
            lambda: _config(spec, "SpikeSpec", image_size=20.5),
            "image_size",
        ),
        Case(
            "SpikeSpec amplitude (1,)",
            lambda: _config(spec, "SpikeSpec", amplitude=(1.0,)),
            "amplitude",
        ),
        Case(
            "SpikeSpec margin 40",
            lambda: _config(spec, "SpikeSpec", margin=40.0),
            "margin",
        ),
        Case(
            "render_spikes sigma 0",
            lambda: _spikes(
                "render_spikes", torch.ones(1, 1), torch.ones(1, 1, 2), 8, 0.0
            ),
            "sigma",
        ),
        Case(
            "render_crosses sigma 0",
            lambda: _spikes("render_crosses", torch.ones(1, 1, 2), 8, 0.0),
            "sigma",
        ),
        Case("make_spikes n 0", lambda: _spikes("make_spikes", 0), "n"),
        Case("make_spikes n 2.5", lambda: _spikes("make_spikes", 2.5), "n"),
        Case(
            "make_crosses margin 20",
            lambda: _spikes("make_crosses", 4, margin=20.0),
            "margin",
        ),
        Case(
            "CrossesSpec margin 20",
            lambda: _config("lib.data.spikes", "CrossesSpec", margin=20.0),
            "margin",
        ),
        Case(
            "fit_spikes n_spikes 0",
            lambda: _spikes("fit_spikes", torch.rand(2, 1, 16, 16), 0, 2.0),
            "n_spikes",
        ),
        Case(
            "fit_spikes sigma 0",
            lambda: _spikes("fit_spikes", torch.rand(2, 1, 16, 16), 2, 0.0),
            "sigma",
        ),
        Case(
            "fit_spikes NaN image",
            lambda: _spikes("fit_spikes", torch.full((1, 1, 16, 16), NAN), 2, 2.0),
            "NaN",
        ),
        Case(
            "fit_spikes 3-D images",
            lambda: _spikes("fit_spikes", torch.rand(2, 16, 16), 2, 2.0),
            "images",
        ),
        # ---- disks (lib.data.disks) ----
        Case("sample_radii n -1", lambda: _disks("sample_radii", -1), "n"),
        Case(
            "sample_radii range reversed",
            lambda: _disks("sample_radii", 4, (10.0, 2.0)),
            "range",
        ),
        Case(
            "disks_from_radii NaN",
            lambda: _disks("disks_from_radii", torch.tensor([NAN])),
            "radii",
        ),
        Case("make_disks n 1.5", lambda: _disks("make_disks", 1.5), "n"),
        # ---- models: a code or image of the wrong size ----
        Case("PMP decode (4, 3)", lambda: _decode("pmp", torch.zeros(4, 3)), "z"),
        Case(
            "AdaGVAE decode (4, 11)",
            lambda: _decode("adagvae", torch.zeros(4, 11)),
            "z",
        ),
        Case("Torus decode (4, 3)", lambda: _decode("torus", torch.zeros(4, 3)), "z"),
        Case("Warmup decode 1-D", lambda: _decode("warmup", torch.zeros(2)), "z"),
        Case("Atomic decode (4, 2)", lambda: _decode("atomic", torch.zeros(4, 2)), "z"),
        Case(
            "Atomic 31x31 into 32", lambda: _decode("forward", _images(2, 0.5, 31)), "x"
        ),
        Case(
            "PMP decode int codes",
            lambda: _decode("pmp", torch.zeros(4, 10, dtype=torch.long)),
            "z",
        ),
        Case("PMP encode 32x32", lambda: _encode("pmp", _images(2, 0.5, 32)), "x"),
        Case(
            "Ada-GVAE encode 3 channels",
            lambda: _encode("adagvae", torch.zeros(2, 3, 64, 64)),
            "x",
        ),
        Case("Torus encode 32x32", lambda: _encode("torus", _images(2, 0.5, 32)), "x"),
        Case("Disk encode 28x28", lambda: _encode("disk", _images(2, 0.5, 28)), "x"),
        Case(
            "Warmup encode uint8",
            lambda: _encode("warmup", torch.zeros(2, 1, 28, 28, dtype=torch.uint8)),
            "x",
        ),
        # ---- losses: BCE targets and pairs ----
        Case(
            "PMP BCE target 2",
            lambda: _pair_loss("pmp", _images(2, 2.0), _images()),
            "[0, 1]",
        ),
        Case(
            "PMP BCE target -1",
            lambda: _pair_loss("pmp", _images(), _images(2, -1.0)),
            "[0, 1]",
        ),
        Case(
            "PMP x1/x2 batch", lambda: _pair_loss("pmp", _images(2), _images(3)), "x1"
        ),
        Case(
            "PMP NaN pixels",
            lambda: _pair_loss("pmp", _images(2, NAN), _images()),
            "NaN",
        ),
        Case(
            "PMP step -1", lambda: _pair_loss("pmp", _images(), _images(), -1), "step"
        ),
        Case(
            "Ada-GVAE BCE target 255",
            lambda: _pair_loss("adagvae", _images(2, 255.0), _images()),
            "[0, 1]",
        ),
        Case(
            "Ada-GVAE x1/x2 batch",
            lambda: _pair_loss("adagvae", _images(2), _images(4)),
            "x1",
        ),
        Case(
            "PMPObjective steps 0",
            lambda: __import__("lib.pmp.losses").pmp.losses.PMPObjective(steps=0),
            "steps",
        ),
        # ---- the live export (lib.live) and sliders (lib.sliders) ----
        Case(
            "export_onnx tuple decoder",
            lambda: _export(lambda c: (c.view(1, 1, 1, 2), c)),
            "tuple",
        ),
        Case(
            "export_onnx NamedTuple decoder",
            lambda: _export(lambda c: _Two(c.view(1, 1, 1, 2), c)),
            "_Two",
        ),
        Case("export_onnx 2-D output", lambda: _export(lambda c: c), "shape"),
        Case("export_onnx n_inputs 0", lambda: _export(lambda c: c, 0), "n_inputs"),
        Case("export_onnx n_inputs 1.5", lambda: _export(lambda c: c, 1.5), "n_inputs"),
        Case("export_onnx not callable", lambda: _export(np.zeros(2)), "callable"),
        Case("SliderSpec low > high", lambda: _slider(low=1.0, high=0.0), "low"),
        Case("SliderSpec low nan", lambda: _slider(low=NAN, high=1.0), "low"),
        # ---- paper scale (lib.scale, lib.data.resident, lib.pmp.PairStream) ----
        Case(
            "TrainerConfig log_every 0",
            lambda: _trainer_config(log_every=0),
            "log_every",
        ),
        Case("StackedModels []", lambda: _scale("StackedModels", []), "models"),
        Case(
            "StackedModels two architectures",
            lambda: _scale(
                "StackedModels", [torch.nn.Linear(2, 2), torch.nn.Linear(2, 3)]
            ),
            "shapes",
        ),
        Case(
            "StackedModels batching threads",
            lambda: _scale("StackedModels", [torch.nn.Linear(2, 2)], "threads"),
            "batching",
        ),
        Case("StackedBatches []", lambda: _scale("StackedBatches", []), "batch_fns"),
        Case(
            "GraphedStep warmup 0",
            lambda: _scale("GraphedStep", lambda b: b, "cpu", warmup=0),
            "warmup",
        ),
        Case(
            "resumable_fit max_minutes -1",
            lambda: _scale(
                "resumable_fit", None, _folder() / "r", {}, steps=1, max_minutes=-1.0
            ),
            "max_minutes",
        ),  # fmt: skip
        Case(
            "resumable_fit checkpoint_minutes nan",
            lambda: _scale(
                "resumable_fit",
                None,
                _folder() / "r",
                {},
                steps=1,
                checkpoint_minutes=NAN,
            ),
            "checkpoint_minutes",
        ),  # fmt: skip
        Case("ResidentGrid of a list", lambda: _resident([1, 2]), "dataset"),
        Case("ResidentGrid workers 0", lambda: _resident(None, workers=0), "workers"),
        Case("ResidentGrid limit -3", lambda: _resident(None, limit=-3), "limit"),
        Case(
            "PairStream batch_size 0", lambda: _pair_stream(batch_size=0), "batch_size"
        ),
        Case("PairStream seeds ()", lambda: _pair_stream(seeds=()), "seeds"),
        Case("PairStream seed -1", lambda: _pair_stream(seeds=(-1,)), "seed"),
        Case("PairStream seed 0.5", lambda: _pair_stream(seeds=(0.5,)), "seed"),
        Case("Resources threads 0", lambda: _sweep("Resources", threads=0), "threads"),
        Case("Resources gpu nan", lambda: _sweep("Resources", gpu=NAN), "gpu"),
        Case("Resources gpu 2.5", lambda: _sweep("Resources", gpu=2.5), "gpu"),
        Case("TrialSpec name ''", lambda: _sweep("TrialSpec", "", "a:b"), "name"),
        Case("TrialSpec trial 'a.b'", lambda: _sweep("TrialSpec", "t", "a.b"), "trial"),
        Case(
            "TrialSpec params set",
            lambda: _sweep("TrialSpec", "t", "a:b", {"x": {1}}),
            "params",
        ),
        Case("run_trial spec dict", lambda: _sweep("run_trial", {}, _folder()), "spec"),
        Case(
            "run_trial trial missing",
            lambda: _sweep(
                "run_trial", _sweep("TrialSpec", "t", "lib.nope:f"), _folder()
            ),
            "lib.nope",
        ),
        Case(
            "TrialContext interrupt 'stop'",
            lambda: _sweep("TrialContext", _folder(), interrupt="stop"),
            "interrupt",
        ),
        Case("run_sweep no specs", lambda: _sweep("run_sweep", [], _folder()), "specs"),
        Case(
            "run_sweep max_failures -1",
            lambda: _sweep(
                "run_sweep",
                [_sweep("TrialSpec", "t", "a:b")],
                _folder(),
                max_failures=-1,
            ),
            "max_failures",
        ),
        Case(
            "merge_records lines dict",
            lambda: _sweep("merge_records", {}, _folder() / "r.jsonl", len),
            "lines",
        ),
        Case(
            "grid_trial kind 'vae'",
            lambda: _trial("lib.pmp.recipes:grid_trial", {"kind": "vae", "seed": 0}),
            "kind",
        ),
        Case(
            "grid_trial steps 0",
            lambda: _trial(
                "lib.pmp.recipes:grid_trial", {"kind": "pmp", "seed": 0, "steps": 0}
            ),
            "steps",
        ),
        Case(
            "sweep_trial without a name",
            lambda: _trial("lib.toroidal.recipes:sweep_trial", {"seed": 0}),
            "name",
        ),
        Case(
            "sweep_trial every 0",
            lambda: _trial(
                "lib.toroidal.recipes:sweep_trial", {"name": "t", "every": 0}
            ),
            "every",
        ),
        Case(
            "spike_trial spikes 0",
            lambda: _trial("lib.atomic.recipes:spike_trial", {"spikes": 0}),
            "spikes",
        ),
        Case(
            "spike_trial lr typo",
            lambda: _trial("lib.atomic.recipes:spike_trial", {"rate": 0.1}),
            "rate",
        ),
        # the API surfaces of issue 44
        Case(
            "RunSettings built directly with train='sometimes'",
            lambda: _run_settings(train="sometimes"),
            "train",
        ),
        Case("RunSettings quick='yes'", lambda: _run_settings(quick="yes"), "quick"),
        Case("RunSettings seed -1", lambda: _run_settings(seed=-1), "seed"),
        Case(
            "StackedModels of two configs with the same shapes",
            _stack_of_two_slopes,
            "config",
        ),
        Case(
            "export_onnx of a decoder that draws an empty image",
            lambda: _call(
                "lib.live:export_onnx", lambda z: z.new_zeros(1, 1, 0, 0) * z.sum(), 2
            ),
            "empty",
        ),
        # chapter 02's circular tests and verdict
        Case(
            "kuiper_uniformity of a matrix",
            lambda: _call("lib.analysis:kuiper_uniformity", np.zeros((4, 2))),
            "angles",
        ),
        Case(
            "kuiper_uniformity with a NaN",
            lambda: _call("lib.analysis:kuiper_uniformity", np.array([0.1, NAN, 0.2])),
            "non-finite",
        ),
        Case(
            "marginal_uniformity_tests on 20 codes",
            lambda: _call("lib.analysis:marginal_uniformity_tests", np.zeros((20, 3))),
            "codes",
        ),
        Case(
            "torus_uniformity_tests alpha 0",
            lambda: _call(
                "lib.analysis:torus_uniformity_tests", np.zeros((200, 3)), alpha=0
            ),
            "alpha",
        ),
        Case(
            "format_p_value of 2",
            lambda: _call("lib.analysis:format_p_value", 2.0),
            "p-value",
        ),
        Case(
            "objective_plateau of 3 steps",
            lambda: _call("lib.toroidal.measure:objective_plateau", [1.0, 2.0, 3.0]),
            "loss_history",
        ),
        Case(
            "seed_result of a row without codes",
            lambda: _call("lib.toroidal.measure:seed_result", {"seed": 0, "steps": 1}),
            "val_phi",
        ),
        Case(
            "rung_verdict of one seed",
            lambda: _call("lib.toroidal.measure:rung_verdict", ["seed 0"]),
            "TorusSeedResult",
        ),
        Case(
            "headline_verdict of nothing",
            lambda: _call("lib.toroidal.measure:headline_verdict", []),
            "rung",
        ),
    ]
