import math

import pytest
import torch
from torch import nn

from lib.errors import ParameterError
from lib.trainer import NonFiniteLossError, TensorSampler, Trainer, TrainerConfig


def _regression(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return x, y


def _mse(model, batch):
    x, y = batch
    loss = ((model(x) - y) ** 2).mean()
    return loss, {"mse": loss.detach()}


def _trainer(steps, seed=0):
    torch.manual_seed(seed)
    model = nn.Linear(3, 1)
    x, y = _regression()
    return Trainer(
        model,
        _mse,
        TensorSampler(x, y, batch_size=32, seed=seed),
        TrainerConfig(steps=steps, lr=0.05, progress=False),
    )


def test_trainer_reduces_loss_and_records_history():
    trainer = _trainer(200)
    history = trainer.fit()
    assert len(history["loss"]) == 200 and len(history["mse"]) == 200
    assert history["loss"][-1] < 0.01 * history["loss"][0]
    assert "200 steps" in trainer.summary()


@pytest.mark.parametrize("log_every", [1, 3])
def test_a_part_named_loss_is_refused(log_every):
    # the trainer records the total as "loss": a part of that name would double it
    model = nn.Linear(3, 1)
    x, y = _regression()

    def loss_fn(m, batch):
        loss = ((m(batch[0]) - batch[1]) ** 2).mean()
        return loss, {"loss": loss.detach(), "mse": loss.detach()}

    trainer = Trainer(
        model,
        loss_fn,
        TensorSampler(x, y, batch_size=8),
        TrainerConfig(steps=6, progress=False, log_every=log_every),
    )
    with pytest.raises(ParameterError, match="'loss'"):
        trainer.fit()
    assert trainer.step == 0


def test_callbacks_are_called_every_step_and_at_the_end():
    trainer, seen = _trainer(7), []
    trainer.add_callback("on_step_end", lambda t: seen.append(t.step))
    trainer.add_callback("on_fit_end", lambda t: seen.append("end"))
    trainer.fit()
    assert seen == [1, 2, 3, 4, 5, 6, 7, "end"]
    with pytest.raises(ValueError, match="event"):
        trainer.add_callback("on_batch", print)


def test_non_finite_loss_stops_with_clear_message():
    model = nn.Linear(3, 1)
    x, y = _regression()
    y[:] = math.nan
    trainer = Trainer(
        model,
        _mse,
        TensorSampler(x, y, batch_size=8),
        TrainerConfig(steps=5, progress=False),
    )
    with pytest.raises(NonFiniteLossError, match="loss became nan at step 0"):
        trainer.fit()


def test_resume_continues_exactly(tmp_path):
    straight = _trainer(40)
    straight.fit()
    first = _trainer(40)
    first.fit(steps=15)
    first.save(tmp_path / "run", {"in": 3})
    resumed = _trainer(40, seed=0)
    # Scramble the fresh trainer's state so that only the checkpoint can make it match.
    resumed.batch_fn(0)
    with torch.no_grad():
        resumed.model.weight.add_(1.0)
    resumed.resume(tmp_path / "run", {"in": 3})
    assert resumed.step == 15 and len(resumed.history["loss"]) == 15
    resumed.fit()
    torch.testing.assert_close(
        resumed.model.weight, straight.model.weight, rtol=0, atol=0
    )
    assert resumed.history["loss"] == straight.history["loss"]


def test_config_and_sampler_validation():
    with pytest.raises(ValueError, match="steps"):
        TrainerConfig(steps=-1)
    with pytest.raises(ValueError, match="lr"):
        TrainerConfig(lr=0)
    with pytest.raises(ValueError, match="batch_size"):
        TensorSampler(torch.zeros(4, 2), batch_size=5)
    with pytest.raises(ValueError, match="same length"):
        TensorSampler(torch.zeros(4, 2), torch.zeros(3), batch_size=2)


def test_sampler_covers_every_sample_once_per_epoch():
    x = torch.arange(12)
    sampler = TensorSampler(x, batch_size=4, seed=1)
    epoch = torch.cat([sampler(i) for i in range(3)])
    assert sorted(epoch.tolist()) == list(range(12))


def test_learning_rate_schedule_warms_up_and_decays():
    model = torch.nn.Linear(2, 1)
    config = TrainerConfig(steps=100, lr=1e-2, schedule="cosine", warmup_steps=10)
    trainer = Trainer(
        model, lambda m, b: m(b).pow(2).mean(), lambda s: torch.ones(4, 2), config
    )
    assert trainer.lr_at(0) == pytest.approx(1e-3)
    assert trainer.lr_at(9) == pytest.approx(1e-2)
    assert trainer.lr_at(55) == pytest.approx(5e-3, rel=0.05)
    assert trainer.lr_at(99) < 1e-4
    trainer.fit(20)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(trainer.lr_at(19))
    constant = Trainer(
        model, lambda m, b: m(b).sum(), lambda s: None, TrainerConfig(lr=0.1)
    )
    assert constant.lr_at(0) == constant.lr_at(999) == 0.1
    with pytest.raises(ValueError, match="schedule"):
        TrainerConfig(schedule="linear")


def test_a_loss_that_declares_step_gets_the_optimiser_step():
    from lib.scale import stacked_loss
    from lib.trainer import Trainer, TrainerConfig, takes_step

    seen = []

    def loss(model, batch, step):
        seen.append(step)
        return (model(batch) ** 2).mean()

    model = torch.nn.Linear(2, 1)
    for log_every in (1, 3):  # the plain and the fast path
        seen.clear()
        config = TrainerConfig(steps=5, progress=False, log_every=log_every)
        trainer = Trainer(model, loss, lambda step: torch.ones(4, 2), config)
        trainer.step = 2
        trainer.fit()
        assert seen == [2, 3, 4]
    assert takes_step(loss) and not takes_step(lambda model, batch: 0.0)
    assert takes_step(stacked_loss(loss))  # passed on to each seed's loss
