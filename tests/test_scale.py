"""Paper-scale machinery (lib.scale, lib.data.resident, the trainer's fast path) on the CPU.

On a GPU the same code records CUDA graphs; ``bench/scale.py`` measures that and checks the
graph's losses against the eager step's. Here: batched seeds give each seed's own losses, the
fast path keeps the plain path's numbers, a resumed run is bit-identical to an uninterrupted
one, and the resident grid gives the rendered images.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from lib.data.dsprites import DSprites
from lib.data.resident import ResidentGrid
from lib.errors import DataError, NonFiniteLossError, ParameterError
from lib.pmp import (
    PairStream,
    PMPObjective,
    get_config,
    new_model,
    pair_batches,
    scaled_trainer,
)
from lib.scale import GraphedStep, StackedModels, stacked_loss
from lib.trainer import TensorSampler, Trainer, TrainerConfig, resumable_fit

ROOT = Path(__file__).resolve().parents[1]


class ToyGrid:
    """Three factors (2, 3, 4); each image marks its factor values with pixels."""

    factor_sizes = (2, 3, 4)

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(0, s, n) for s in self.factor_sizes], 1)

    def render(self, factors):
        factors = np.asarray(factors)
        images = np.zeros((len(factors), 1, 64, 64), np.float32)
        for j in range(3):
            images[np.arange(len(factors)), 0, j, factors[:, j]] = 1.0
        return images


class GreyGrid(ToyGrid):
    def render(self, factors):
        return super().render(factors) * 0.3  # not a multiple of 1/255


# --------------------------------------------------------------------------------------------
# the resident grid
# --------------------------------------------------------------------------------------------
def test_the_resident_grid_gives_the_rendered_images():
    data = ToyGrid()
    grid = ResidentGrid(data, chunk=5, workers=2)
    assert grid.count == 24 and grid.data.dtype == torch.uint8
    factors = data.sample_factors(10, np.random.default_rng(0))
    index = torch.from_numpy(grid.index_of(factors))
    assert torch.equal(grid.images(index), torch.from_numpy(data.render(factors)))


def test_pairs_from_the_grid_are_the_chapters_pairs():
    data = ToyGrid()
    grid = ResidentGrid(data)
    for step in (0, 3):
        plain = pair_batches(data, 6, 2)(step)
        resident = PairStream(grid, 6, (2,), stacked=False)(step)
        stacked = PairStream(data, 6, (2, 5))(step)  # rendered per step, two seeds
        assert torch.equal(plain.x1, resident.x1) and torch.equal(plain.x2, resident.x2)
        assert torch.equal(stacked.x1[0], plain.x1)
        assert stacked.x1.shape == (2, 6, 1, 64, 64) and stacked.pick.shape == (2, 12)
        assert torch.equal(resident.pick, stacked.pick[0])  # the seed's own generator
        assert not torch.equal(stacked.pick[0], stacked.pick[1])


def test_pairs_from_dsprites_match_the_rendered_stream():
    data = DSprites()
    batch = PairStream(data, 8, (3,), stacked=False)(5)
    plain = pair_batches(data, 8, 3)(5)
    assert torch.equal(batch.x1, plain.x1) and torch.equal(batch.x2, plain.x2)


def test_a_cached_grid_is_read_back_and_a_stale_one_rendered_again(tmp_path):
    cache = tmp_path / "grid.npy"
    made = ResidentGrid(ToyGrid(), cache=cache)
    assert not made.from_cache and cache.is_file()
    again = ResidentGrid(ToyGrid(), cache=cache)
    assert again.from_cache and torch.equal(again.data, made.data)
    assert again.levels == made.levels
    other = ResidentGrid(ToyGrid(), cache=cache, limit=10)  # another grid: render
    assert not other.from_cache and other.count == 10
    cache.write_bytes(cache.read_bytes()[:100])  # a truncated file: render
    assert not ResidentGrid(ToyGrid(), cache=cache, limit=10).from_cache
    assert ResidentGrid(ToyGrid(), cache=cache, limit=10).from_cache


def test_a_cached_grid_from_another_renderer_is_not_served(tmp_path, monkeypatch):
    cache = tmp_path / "grid.npy"
    old = ResidentGrid(ToyGrid(), cache=cache)
    original = ToyGrid.render
    monkeypatch.setattr(ToyGrid, "render", lambda self, f: 1 - original(self, f))
    fresh = ResidentGrid(ToyGrid(), cache=cache)  # same key, other pixels
    assert not fresh.from_cache
    assert torch.equal(fresh.data, 1 - old.data)


def test_the_resident_grid_refuses_what_uint8_would_change():
    with pytest.raises(DataError, match="1/255"):
        ResidentGrid(GreyGrid())
    grid = ResidentGrid(ToyGrid(), limit=6)
    with pytest.raises(ParameterError, match="limit"):
        grid.index_of(np.array([[1, 2, 3]]))
    with pytest.raises(ParameterError, match="index"):
        grid.images(torch.zeros(3))


# --------------------------------------------------------------------------------------------
# batched seeds
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batching", ["vmap", "streams"])
def test_batched_seeds_train_as_each_seed_alone(batching):
    chapter = get_config()
    data, steps = ToyGrid(), 6
    seeds = (0, 1)
    objective = PMPObjective(steps, 3, check_values=False)
    config = TrainerConfig(steps=steps, lr=chapter.lr, progress=False)
    alone = []
    for seed in seeds:
        model = new_model("pmp", seed)
        stream = PairStream(data, 4, (seed,), stacked=False)
        trainer = Trainer(model, objective, stream, config)
        trainer.fit()
        alone.append((model, trainer.history))
    models = [new_model("pmp", seed) for seed in seeds]
    stack = StackedModels(models, batching)
    trainer = Trainer(
        stack, stacked_loss(objective), PairStream(data, 4, seeds), config
    )
    trainer.fit()
    stack.unstack(models)
    if batching == "streams":  # seed by seed: exactly each seed alone
        for s, (model, history) in enumerate(alone):
            assert trainer.history[f"loss/{s}"] == history["loss"]
            for a, b in zip(model.parameters(), models[s].parameters(), strict=True):
                assert torch.equal(a, b)
    for s, (_model, history) in enumerate(alone):
        np.testing.assert_allclose(
            trainer.history[f"loss/{s}"], history["loss"], rtol=1e-4, atol=1e-5
        )
        np.testing.assert_allclose(
            trainer.history[f"consistency/{s}"],
            history["consistency"],
            rtol=1e-3,
            atol=1e-6,
        )
    assert trainer.history["beta1"] == alone[0][1]["beta1"]  # a number part, once
    # the sum is what the optimiser sees, and it is the seeds' losses added
    total = [a + b for a, b in zip(alone[0][1]["loss"], alone[1][1]["loss"])]
    np.testing.assert_allclose(trainer.history["loss"], total, rtol=1e-4)


def test_unstacking_returns_each_seeds_weights():
    models = [new_model("pmp", s) for s in (0, 1, 2)]
    stack = StackedModels(models)
    copies = stack.unstack([new_model("pmp", 9) for _ in range(3)])
    for model, copy in zip(models, copies):
        for (name, a), b in zip(model.state_dict().items(), copy.state_dict().values()):
            assert torch.equal(a, b), name


def test_stacked_models_refuse_what_cannot_stack():
    with pytest.raises(ParameterError, match="architecture"):
        StackedModels([new_model("pmp", 0), new_model("adagvae", 0)])
    with pytest.raises(ParameterError, match="non-empty"):
        StackedModels([])
    stack = StackedModels([new_model("pmp", 0), new_model("pmp", 1)])
    with pytest.raises(ParameterError, match="seed dimension"):
        stack.run(lambda model, x: model.encode(x), torch.zeros(3, 4, 1, 64, 64))
    with pytest.raises(ParameterError, match="unstack"):
        stack.unstack([new_model("pmp", 0)])
    with pytest.raises(ParameterError, match="batching"):
        StackedModels([new_model("pmp", 0)], batching="threads")


def _batchnorm_net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1)
    )


@pytest.mark.parametrize("batching", ["vmap", "streams"])
def test_stacked_buffers_and_eval_mode_follow_each_seed_alone(batching):
    torch.manual_seed(5)
    x = torch.randn(2, 8, 3)  # (S, B, 3)
    alone = [_batchnorm_net(s) for s in (0, 1)]
    stack = StackedModels([_batchnorm_net(s) for s in (0, 1)], batching)
    stacked_out = stack.run(lambda model, xb: model(xb), x)  # train mode: updates stats
    for s, net in enumerate(alone):
        out = net(x[s])
        assert torch.allclose(stacked_out[s], out, atol=1e-6)
    copies = stack.unstack([_batchnorm_net(9) for _ in range(2)])
    for net, copy in zip(alone, copies, strict=True):
        for (name, a), b in zip(net.state_dict().items(), copy.state_dict().values()):
            assert torch.allclose(a.float(), b.float(), atol=1e-6), name
    stack.eval()
    evaluated = stack.run(lambda model, xb: model(xb), x)  # running stats, no update
    for s, net in enumerate(alone):
        assert torch.allclose(evaluated[s], net.eval()(x[s]), atol=1e-6)


def test_one_stacked_seed_on_streams_is_the_plain_model_bit_for_bit():
    data, steps = ToyGrid(), 4
    objective = PMPObjective(steps, 3, check_values=False)
    config = TrainerConfig(steps=steps, lr=1e-3, progress=False)
    plain = new_model("pmp", 0)
    Trainer(plain, objective, PairStream(data, 4, (0,), stacked=False), config).fit()
    models = [new_model("pmp", 0)]
    stack = StackedModels(models, "streams")
    stream = PairStream(data, 4, (0,), stacked=True)
    Trainer(stack, stacked_loss(objective), stream, config).fit()
    stack.unstack(models)
    for a, b in zip(plain.parameters(), models[0].parameters(), strict=True):
        assert torch.equal(a, b)


def test_streams_refuse_a_non_tensor_result_that_differs_between_seeds():
    stack = StackedModels([new_model("pmp", 0), new_model("pmp", 1)], "streams")
    x = torch.zeros(2, 1)
    same = stack.run(lambda model, xb: (xb.sum(), "same"), x)
    assert same[1] == "same"
    calls = iter(range(2))
    with pytest.raises(ParameterError, match="differs between the seeds"):
        stack.run(lambda model, xb: (xb.sum(), next(calls)), x)
    with pytest.raises(ParameterError, match="seed dimension"):
        stack.run(lambda model, xb: xb, torch.tensor(1.0))


# --------------------------------------------------------------------------------------------
# the trainer's fast path
# --------------------------------------------------------------------------------------------
def _regression(seed: int = 0):
    torch.manual_seed(seed)
    x = torch.randn(64, 5)
    y = x @ torch.randn(5, 1) + 0.1 * torch.randn(64, 1)
    model = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    )

    def loss(net, batch):
        xb, yb = batch
        error = (net(xb) - yb).pow(2)
        return error.mean(), {"max": error.max(), "scale": 2.0}

    return model, loss, TensorSampler(x, y, batch_size=16, seed=seed)


def test_reading_losses_every_n_steps_keeps_every_number():
    runs = []
    for log_every in (1, 7):
        model, loss, sampler = _regression()
        config = TrainerConfig(
            steps=30, lr=1e-2, schedule="cosine", warmup_steps=3, progress=False
        )
        config.log_every = log_every
        trainer = Trainer(model, loss, sampler, config)
        trainer.fit()
        runs.append((trainer.history, [p.detach().clone() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0]  # every step's loss and parts, bit for bit
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    assert len(runs[1][0]["loss"]) == 30 and runs[1][0]["scale"] == [2.0] * 30


def test_the_fast_path_names_the_step_of_a_non_finite_loss():
    model, _, sampler = _regression()

    def loss(net, batch):
        xb, yb = batch
        value = (net(xb) - yb).pow(2).mean()
        return value * (math.inf if sampler._pos == 48 else 1.0)

    config = TrainerConfig(steps=10, progress=False, log_every=5)
    trainer = Trainer(model, loss, sampler, config)
    with pytest.raises(NonFiniteLossError, match="at step 2.*unusable"):
        trainer.fit()
    assert trainer.step == 2 and len(trainer.history["loss"]) == 2


def test_a_graphed_step_on_the_cpu_is_the_plain_step():
    calls = []
    step = GraphedStep(
        lambda batch: calls.append(batch) or batch * 2, torch.device("cpu")
    )
    assert not step.enabled
    assert torch.equal(step(torch.ones(2)), torch.full((2,), 2.0)) and len(calls) == 1
    config = TrainerConfig(steps=4, progress=False, cuda_graph=True, log_every=2)
    model, loss, sampler = _regression()
    trainer = Trainer(model, loss, sampler, config)
    trainer.fit()
    assert len(trainer.history["loss"]) == 4 and trainer._graphed.captures == 0


def test_a_graphed_step_warms_up_records_once_per_key_and_replays(monkeypatch):
    """GraphedStep's control flow with CUDA's graph API stood in for (no GPU here)."""

    class Graph:
        replays = 0

        def replay(self):
            Graph.replays += 1

    class Stream:
        def __init__(self, *args):
            pass

        def wait_stream(self, other):
            pass

    monkeypatch.setattr(torch.cuda, "CUDAGraph", Graph)
    monkeypatch.setattr(torch.cuda, "graph", lambda graph: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "Stream", Stream)
    monkeypatch.setattr(torch.cuda, "stream", lambda stream: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: Stream())
    calls = []

    def step_fn(batch):  # what a step computes from the batch it is given
        calls.append(batch.step)
        return batch.x * 2

    Batch = collections.namedtuple("Batch", "x step")
    graphed = GraphedStep(step_fn, torch.device("cpu"), key_fn=lambda b: b.step // 10)
    graphed.enabled, graphed.warmup = True, 2
    graphed.eager_left = 2
    outputs = [graphed(Batch(torch.full((3,), float(t)), t)) for t in range(14)]
    # steps 0, 1 eager; step 2 recorded (on a copy of its batch); 3-9 replayed;
    # a new key at 10: 10, 11 eager, 12 recorded, 13 replayed
    assert calls == [0, 1, 2, 10, 11, 12] and graphed.captures == 2
    assert Graph.replays == 8 + 2
    assert all(outputs[t] is outputs[2] for t in range(3, 10))  # the static output
    assert torch.equal(graphed._static[0], torch.full((3,), 13.0))  # the last batch
    with pytest.raises(ParameterError, match="one shape"):
        graphed(Batch(torch.zeros(4), 13))


def test_fit_stops_after_max_seconds():
    model, loss, sampler = _regression()
    trainer = Trainer(model, loss, sampler, TrainerConfig(steps=50, progress=False))
    trainer.fit(max_seconds=0.0)
    assert trainer.step == 0


# --------------------------------------------------------------------------------------------
# runs that resume
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "seeds"), [("adagvae", (0,)), ("pmp", (0, 1))], ids=["adagvae", "pmp-x2"]
)
def test_a_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path, kind, seeds):
    data, steps = ToyGrid(), 8

    def trainer():
        made, models = scaled_trainer(
            kind, seeds, steps, data, cuda_graph=False, log_every=3, progress=False
        )
        made.batch_fn.batch_size = 4  # a small batch keeps the test short
        return made, models

    whole, _ = trainer()
    torch.manual_seed(123)  # the run's own draws (Ada-GVAE's noise) start from here
    assert resumable_fit(whole, tmp_path / "whole", {"kind": kind}) is True

    first, _ = trainer()
    torch.manual_seed(123)
    resumable_fit(first, tmp_path / "split", {"kind": kind}, steps=3)  # a sitting ends
    assert first.step == 3
    torch.manual_seed(999)  # another process, another global RNG state
    second, _ = trainer()
    assert (
        resumable_fit(second, tmp_path / "split", {"kind": kind}, checkpoint_steps=2)
        is True
    )
    assert second.step == steps
    assert second.history == whole.history
    for a, b in zip(whole.model.parameters(), second.model.parameters()):
        assert torch.equal(a, b)


def test_a_save_killed_midway_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model, loss, sampler = _regression()
    trainer = Trainer(model, loss, sampler, TrainerConfig(steps=6, progress=False))
    assert resumable_fit(trainer, tmp_path / "run", {}, steps=3) is True
    saved = torch.save

    def killed(obj, f, *args, **kwargs):
        saved(obj, f, *args, **kwargs)
        raise KeyboardInterrupt  # the time limit strikes after the weights are written

    monkeypatch.setattr(torch, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        resumable_fit(trainer, tmp_path / "run", {})
    monkeypatch.setattr(torch, "save", saved)
    again, loss, sampler = _regression()
    resumed = Trainer(again, loss, sampler, TrainerConfig(steps=6, progress=False))
    resumed.resume(tmp_path / "run", {})  # the step-3 checkpoint, whole
    assert resumed.step == 3


def test_resuming_keeps_the_trainers_own_optimiser_mode(tmp_path):
    model, loss, sampler = _regression()
    plain = Trainer(model, loss, sampler, TrainerConfig(steps=3, progress=False))
    plain.fit()
    plain.save(tmp_path / "run", {})
    model, loss, sampler = _regression()
    # the optimiser a graphed trainer builds on a GPU (its rate a tensor, capturable)
    graphed_adam = torch.optim.Adam(
        model.parameters(), lr=torch.tensor(1e-3), capturable=True
    )
    other = Trainer(
        model, loss, sampler, TrainerConfig(steps=3), optimizer=graphed_adam
    )
    other.resume(tmp_path / "run", {})
    group = other.optimizer.param_groups[0]
    assert group["capturable"] is True and torch.is_tensor(group["lr"])
    assert (
        other.optimizer.state[next(model.parameters())]["step"].dtype == torch.float32
    )


def test_a_sitting_out_of_time_stops_and_says_so(tmp_path):
    model, loss, sampler = _regression()
    trainer = Trainer(model, loss, sampler, TrainerConfig(steps=20, progress=False))
    assert resumable_fit(trainer, tmp_path / "run", {}, max_minutes=1e-9) is False
    assert trainer.step == 0


# --------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------
def _reproduce():
    spec = importlib.util.spec_from_file_location(
        "reproduce", ROOT / "experiments" / "reproduce.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reproduce_command_reads_seeds_and_budgets():
    from lib.cli import budget_steps, seed_list

    reproduce = _reproduce()
    assert seed_list("0-4") == (0, 1, 2, 3, 4)
    assert seed_list("0,2,2") == (0, 2)
    paper = reproduce.paper_steps("pmp")
    assert budget_steps("paper", 10, paper) == 691_200 == 30 * 737_280 // 32
    assert reproduce.paper_steps("atomic") == 1_000_000
    assert reproduce.paper_steps("torus") is None
    assert budget_steps("cpu", 10, paper) == 10
    assert budget_steps("250", 10, paper) == 250
    for bad in ("3-1", "x", "-1"):
        with pytest.raises(Exception, match="seeds"):
            seed_list(bad)
    with pytest.raises(Exception, match="budget"):
        budget_steps("0", 10, paper)
    with pytest.raises(Exception, match="states no training budget"):
        budget_steps("paper", 10, None)


@pytest.mark.slow  # several seconds: left out of make test-fast
def test_the_reproduce_command_resumes_to_the_uninterrupted_run(tmp_path):
    reproduce = _reproduce()
    argv = ["atomic", "--budget", "4", "--seeds", "0-1", "--log-every", "3"]
    argv += ["--drawn-steps", "3"]  # a short search through the decoder: a test
    assert reproduce.main([*argv, "--out", str(tmp_path / "whole")]) == 0
    split = [*argv, "--out", str(tmp_path / "split")]
    assert reproduce.main([*split, "--max-minutes", "1e-9"]) == 3  # out of time at once
    assert reproduce.main([*split, "--sitting-steps", "2"]) == 3  # stopped at step 2
    assert not (tmp_path / "split" / "records.jsonl").exists()
    assert reproduce.main(split) == 0
    records = (tmp_path / "split" / "records.jsonl").read_text().splitlines()
    assert [json.loads(r)["seed"] for r in records] == [0, 1]
    first = json.loads(records[0])
    assert first["steps"] == 4 and first["seeds_trained_together"] == 2
    assert set(first["block_r2"]) == {"amplitude", "x", "y"} and first["test_mse"] > 0
    assert reproduce.main(split) == 0  # done: nothing trained or recorded again
    assert (tmp_path / "split" / "records.jsonl").read_text().splitlines() == records
    for seed in (0, 1):
        a = torch.load(
            tmp_path / "whole" / "models" / f"atomic_chapter_seed{seed}.pt",
            weights_only=True,
        )
        b = torch.load(
            tmp_path / "split" / "models" / f"atomic_chapter_seed{seed}.pt",
            weights_only=True,
        )
        assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    with pytest.raises(SystemExit):  # a finished run of another budget is refused
        reproduce.main(["atomic", "--budget", "6", "--seeds", "0-1", *split[-2:]])
    with pytest.raises(SystemExit):  # the paper states no torus budget
        reproduce.main(["torus", "--budget", "paper", "--out", str(tmp_path / "t")])
    # --set changes the run spec by path; the run's identity and record keep it (one
    # seed, two steps, no search through the decoder: what is checked is the bookkeeping)
    small = ["atomic", "--budget", "2", "--seeds", "0", "--drawn-steps", "0"]
    changed = [*small, "--set", "trainer.lr=1e-4", "--out", str(tmp_path / "set")]
    assert reproduce.main(changed) == 0
    lines = (tmp_path / "set" / "records.jsonl").read_text().splitlines()
    assert [json.loads(r)["settings"] for r in lines] == [{"trainer.lr": 1e-4}]
    assert "settings" not in first  # absent when nothing was changed
    with pytest.raises(SystemExit):  # the same folder with other settings is refused
        reproduce.main([*small, "--set", "trainer.lr=2e-4", *changed[-2:]])
