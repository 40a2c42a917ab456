"""lib.runs: the parts of one seed's run, seeded model building, several seeds in one trainer."""

from __future__ import annotations

import pytest
import torch

from lib.errors import ParameterError
from lib.runs import RunParts, seeded_init, stacked_trainer
from lib.scale import StackedModels
from lib.trainer import TensorSampler, Trainer, TrainerConfig


def _loss(model, batch):
    (x,) = batch if isinstance(batch, tuple) else (batch,)
    return (model(x) - x).pow(2).mean()


def _parts(seed: int, steps: int = 4, **trainer) -> RunParts:
    with seeded_init(seed):
        model = torch.nn.Linear(3, 3)
    data = torch.arange(24.0).view(8, 3) / 24
    sampler = TensorSampler(data, batch_size=4, seed=seed)
    return RunParts(model, _loss, sampler, TrainerConfig(steps=steps, **trainer))


def test_seeded_init_draws_from_the_seed_and_keeps_the_global_state():
    torch.manual_seed(7)
    state = torch.get_rng_state()
    with seeded_init(3):
        a = torch.nn.Linear(4, 2).weight.detach().clone()
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(3)
    assert torch.equal(torch.nn.Linear(4, 2).weight, a)
    with pytest.raises(ParameterError, match="seed"):
        with seeded_init(-1):
            pass


def test_one_seed_gets_its_own_trainer_with_the_drivers_changes():
    parts = _parts(0)
    trainer, models = stacked_trainer([parts], progress=False, log_every=2)
    assert isinstance(trainer, Trainer) and models == [parts.model]
    assert trainer.config.log_every == 2 and trainer.config.steps == 4
    assert parts.trainer_config.log_every == 1  # the spec's branch is not changed


def test_stacked_seeds_train_as_each_seed_alone():
    alone = []
    for seed in (0, 1):
        parts = _parts(seed)
        parts.trainer(progress=False).fit()
        alone.append(parts.model)
    trainer, models = stacked_trainer([_parts(0), _parts(1)], progress=False)
    assert isinstance(trainer.model, StackedModels)
    trainer.fit()
    trainer.model.unstack(models)
    for one, other in zip(alone, models, strict=True):
        for a, b in zip(one.parameters(), other.parameters(), strict=True):
            torch.testing.assert_close(a, b)


def test_stacked_trainer_refuses_what_it_cannot_stack():
    with pytest.raises(ParameterError, match="RunParts"):
        stacked_trainer([])
    with pytest.raises(ParameterError, match="one trainer config"):
        stacked_trainer([_parts(0), _parts(1, steps=5)])
    with pytest.raises(ParameterError, match="batching"):
        stacked_trainer([_parts(0)], batching="threads")


def test_every_run_spec_checks_its_trainer_batch_and_seed():
    from dataclasses import dataclass, field

    from lib.config import ConfigError
    from lib.runs import RunSpec

    @dataclass
    class _Spec(RunSpec):
        trainer: TrainerConfig = field(default_factory=TrainerConfig)
        batch_size: int = 4
        seed: int = 0

    assert _Spec().batch_size == 4
    with pytest.raises(ParameterError, match="_Spec.batch_size"):
        _Spec(batch_size=0)
    with pytest.raises(ParameterError, match="_Spec.seed"):
        _Spec(seed=-1)
    with pytest.raises(ParameterError, match="_Spec.trainer.steps"):
        _Spec(trainer=TrainerConfig(steps=0))
    with pytest.raises(ConfigError, match="trainer"):
        _Spec(trainer=None)


def test_the_chapter_builders_refuse_what_is_not_their_data():
    from lib.intro import build_run as intro_run
    from lib.intro import get_config as intro_config
    from lib.measuring import build_run as dsprites_run
    from lib.measuring import get_config as measuring_config
    from lib.pmp import build_run as pmp_run
    from lib.pmp import get_config as pmp_config
    from lib.taking_apart import DiskAEConfig
    from lib.taking_apart import build_run as disk_run
    from lib.taking_apart import get_config as disk_config
    from lib.toroidal import TorusLossWeights
    from lib.toroidal import build_run as torus_run
    from lib.toroidal import get_config as torus_config

    with pytest.raises(ParameterError, match="images must be a tensor"):
        intro_run(intro_config().run(), [[0.0]])
    with pytest.raises(ParameterError, match="images must be a tensor"):
        torus_run(torus_config().run(), None, torch.zeros(2))
    with pytest.raises(ParameterError, match="ground-truth-factor data set"):
        dsprites_run(measuring_config().run(), None)
    with pytest.raises(ParameterError, match="ground-truth-factor data set"):
        pmp_run(pmp_config().run(), None)
    with pytest.raises(ParameterError, match="two tensors"):
        disk_run(disk_config().run(DiskAEConfig(), steps=2), torch.zeros(4, 1, 64, 64))
    with pytest.raises(ParameterError, match="spring"):
        TorusLossWeights(spring=-1.0)
    from lib.data import DSprites

    stream = pmp_config().run().override(hybrids="stream")
    with pytest.raises(ParameterError, match="stacked=False takes one seed"):
        pmp_run(stream, DSprites(), seeds=(0, 1), stacked=False)


def test_seeded_model_noise_goes_on_where_a_global_seed_would():
    from lib.runs import seeded_model

    torch.manual_seed(11)
    state = torch.get_rng_state()
    model, noise = seeded_model(5, lambda: torch.nn.Linear(4, 2))
    assert torch.equal(torch.get_rng_state(), state)  # the global state left alone
    torch.manual_seed(5)
    alone = torch.nn.Linear(4, 2)
    after = torch.randn(6)
    assert torch.equal(model.weight, alone.weight)
    assert torch.equal(torch.randn(6, generator=noise), after)


def test_noisy_loss_checks_its_parts_and_stacked_seeds_refuse_it():
    from lib.runs import NoisyLoss

    with pytest.raises(ParameterError, match="loss_fn must be callable"):
        NoisyLoss(3, torch.Generator())
    with pytest.raises(ParameterError, match="generator must be a torch.Generator"):
        NoisyLoss(_loss, 0)

    def noisy(model, batch, generator):
        return _loss(model, batch) + torch.rand((), generator=generator)

    parts = [_parts(seed) for seed in (0, 1)]
    for p in parts:
        p.loss_fn = NoisyLoss(noisy, torch.Generator().manual_seed(0))
    with pytest.raises(ParameterError, match="one seed at a time"):
        stacked_trainer(parts)


def _global_state() -> torch.Tensor:
    return torch.get_rng_state()


def test_the_noisy_builders_leave_the_global_generator_alone(dsprites):
    from lib.measuring import build_run as dsprites_run
    from lib.measuring import get_config as measuring_config
    from lib.pmp import build_run as pmp_run
    from lib.pmp import get_config as pmp_config

    torch.manual_seed(2)
    state = _global_state()
    dsprites_run(measuring_config().vae_run(4.0, steps=2), dsprites)
    for kind in ("pmp", "adagvae"):
        spec = pmp_config().run(kind, steps=2)
        pmp_run(spec, dsprites)
        pmp_run(spec.override({"hybrids": "stream"}), dsprites)
    assert torch.equal(_global_state(), state)


@pytest.mark.parametrize("kind", ["beta_vae", "adagvae", "pmp"])
def test_a_resumed_noisy_run_draws_the_noise_it_would_have_drawn(
    kind, dsprites, tmp_path
):
    from lib.measuring import build_run as dsprites_run
    from lib.measuring import get_config as measuring_config
    from lib.pmp import build_run as pmp_run
    from lib.pmp import get_config as pmp_config

    def parts():
        if kind == "beta_vae":
            spec = measuring_config().vae_run(4.0, steps=6)
            return dsprites_run(spec.override({"batch_size": 4}), dsprites)
        # PMP: 8 epochs on six steps, so the hybrids are drawn in the loss at step 3
        # (before the checkpoint) and steps 4, 5 (after it)
        spec = pmp_config().run(kind, steps=6).override({"batch_size": 4})
        return pmp_run(spec.override({"max_epochs": 8}), dsprites)

    straight = parts().trainer(progress=False)
    straight.fit()
    first = parts().trainer(progress=False)
    first.fit(steps=4)
    first.save(tmp_path / "half.pt", {})
    torch.rand(100)  # the global generator moves on: the run must not notice
    second = parts().trainer(progress=False)
    second.resume(tmp_path / "half.pt")
    second.fit()  # to the spec's six steps
    assert second.history["loss"] == straight.history["loss"]
    for a, b in zip(
        straight.model.parameters(), second.model.parameters(), strict=True
    ):
        assert torch.equal(a, b)
