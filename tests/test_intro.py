"""Tests of chapter 00's package (lib.intro): the warm-up autoencoder, its loss, its recipe."""

from dataclasses import replace

import pytest
import torch

from lib.intro import (
    WarmupAEConfig,
    WarmupAutoencoder,
    fit_warmup_ae,
    get_config,
    train_warmup_ae,
    warmup_loss,
)
from lib.notebook import setup


def test_warmup_autoencoder_shapes_loss_convention_and_deterministic_training():
    model = WarmupAutoencoder(WarmupAEConfig(latent_dim=2, channels=4, hidden=8))
    x = torch.rand(16, 1, 28, 28)
    recon, z = model(x)
    assert recon.shape == x.shape and z.shape == (16, 2)
    assert 0 <= recon.min() and recon.max() <= 1
    loss, parts = warmup_loss(model, x)
    assert loss.dim() == 0 and parts == {}
    histories = []
    for _ in range(2):
        torch.manual_seed(0)
        net = WarmupAutoencoder(WarmupAEConfig(latent_dim=2, channels=4, hidden=8))
        trainer = train_warmup_ae(net, x, steps=4, batch_size=8, seed=1, progress=False)
        histories.append(trainer.history["loss"])
    assert len(histories[0]) == 4 and histories[0] == histories[1]
    with pytest.raises(ValueError, match="positive integer"):
        WarmupAEConfig(latent_dim=0)


def test_the_recipe_obeys_the_chapter_it_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_CACHE", str(tmp_path))
    chapter = replace(get_config(), quick_steps=3, batch_size=4)
    settings = setup(device="cpu", seed=0, quick=True, train="always")
    chapter = replace(chapter, model=WarmupAEConfig(latent_dim=2, channels=4, hidden=8))
    model, history = fit_warmup_ae(settings, chapter, torch.rand(16, 1, 28, 28))
    assert len(history["loss"]) == 3 and model.config == chapter.model
