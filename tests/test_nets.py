"""Tests of the shared networks (lib.nets): the warm-up AE, the digit judge, the DCGAN-style AE."""

import pytest
import torch

from lib.nets import (
    DigitJudge,
    DigitJudgeConfig,
    WarmupAEConfig,
    WarmupAutoencoder,
    train_digit_judge,
    train_warmup_ae,
    warmup_loss,
)


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


def test_digit_judge_learns_separable_classes_and_reports_confidence():
    # two "digits": a bright left half or a bright right half, with noise
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (256,), generator=g)
    images = 0.2 * torch.rand(256, 1, 28, 28, generator=g)
    images[labels == 0, :, :, :14] += 0.8
    images[labels == 1, :, :, 14:] += 0.8
    torch.manual_seed(0)
    judge = DigitJudge(DigitJudgeConfig(channels=4, hidden=16))
    chance = judge.confidence(images).mean().item()
    trainer = train_digit_judge(
        judge, images, labels, steps=60, batch_size=32, lr=3e-3, progress=False
    )
    assert trainer.history["accuracy"][-1] == 1.0
    conf = judge.confidence(images, batch_size=50)  # several chunks
    assert conf.shape == (256,) and conf.min() >= 0.1 - 1e-6 and conf.max() <= 1
    assert conf.mean() > 0.95 > chance
    blank = torch.zeros(8, 1, 28, 28)
    assert judge.confidence(blank).mean() < conf.mean()
    for bad in ({"channels": 0}, {"hidden": True}, {"n_classes": 2.0}):
        with pytest.raises(ValueError, match="positive integer|must be an integer"):
            DigitJudgeConfig(**bad)
    assert DigitJudgeConfig.from_dict(
        DigitJudgeConfig(hidden=8).to_dict()
    ) == DigitJudgeConfig(hidden=8)
    with pytest.raises(ValueError, match="differ in length"):
        train_digit_judge(judge, images, labels[:5], steps=1)


def test_conv64_autoencoder_shapes_and_bce_loss():
    from lib.nets import Conv64AEConfig, Conv64Autoencoder, bce_ae_loss

    torch.manual_seed(0)
    model = Conv64Autoencoder(Conv64AEConfig(image_channels=1, code_size=10))
    x = (torch.rand(3, 1, 64, 64) > 0.5).float()
    logits, z = model(x)
    assert logits.shape == x.shape and z.shape == (3, 10)
    widths = [
        m.out_channels for m in model.encoder.net if isinstance(m, torch.nn.Conv2d)
    ]
    assert widths == [32, 32, 64, 64]
    loss, parts = bce_ae_loss(model, x)
    expected = (
        torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        / 3
    )
    torch.testing.assert_close(loss, expected)
    assert set(parts) == {"bce"}
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(30):
        loss, _ = bce_ae_loss(model, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert bce_ae_loss(model, x)[0] < expected
    with pytest.raises(ValueError, match=r"64x64|\(B, 1, 64, 64\)"):
        model.encode(torch.zeros(1, 1, 32, 32))
