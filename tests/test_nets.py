"""Tests of the shared networks (lib.nets): the 64x64 autoencoder of chapters 04 and 05."""

import pytest
import torch


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
    assert set(parts) == {"recon"}
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(30):
        loss, _ = bce_ae_loss(model, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert bce_ae_loss(model, x)[0] < expected
    with pytest.raises(ValueError, match=r"64x64|\(B, 1, 64, 64\)"):
        model.encode(torch.zeros(1, 1, 32, 32))
