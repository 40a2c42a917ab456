"""The atomic autoencoder: shapes, the sum over atoms, block locality, configs, checkpoints."""

import pytest
import torch

from lib.atomic import AtomicAEConfig, AtomicAutoencoder, atomic_ae_loss
from lib.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_pretrained,
    save_checkpoint,
)
from lib.config import ConfigError


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return AtomicAutoencoder(
        AtomicAEConfig(image_size=32, n_atoms=5, atom_dim=3)
    ).eval()


def test_table_one_widths_for_128_and_one_stage_fewer_at_64():
    big = AtomicAEConfig()
    assert (big.image_size, big.n_atoms, big.atom_dim) == (128, 16, 6)
    assert big.encoder_channels == (32, 16, 8, 8)  # Table I, conv part of the encoder
    assert big.decoder_channels == (8, 8, 8, 16, 32)  # Table I: 8 8 8 16 32 1 (output)
    small = AtomicAEConfig(image_size=64)
    assert small.encoder_channels == (32, 16, 8)
    assert small.decoder_channels == (8, 8, 16, 32)
    net = AtomicAutoencoder(big)
    convs = [m for m in net.block_decoder.convs if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs[::2]] == [8, 8, 8, 16, 32, 1]
    assert len(convs) == 12  # two convolutions per stage, as the authors' code
    one = AtomicAutoencoder(AtomicAEConfig(convs_per_stage=1)).block_decoder.convs
    assert sum(isinstance(m, torch.nn.Conv2d) for m in one) == 6  # the text's variant


def test_shapes(model):
    x = torch.rand(4, 1, 32, 32)
    z = model.encode(x)
    assert z.shape == (4, 5, 3)  # (B, k, d0)
    atoms = model.decode_atoms(z)
    assert atoms.shape == (4, 5, 1, 32, 32)  # (B, k, 1, H, W)
    out = model(x)
    assert out.recon.shape == x.shape and out[0] is out.recon
    assert torch.equal(out.z, z)


def test_decode_is_the_sum_of_the_atoms(model):
    z = torch.randn(3, 5, 3)
    torch.testing.assert_close(model.decode(z), model.decode_atoms(z).sum(1))


def test_permuting_the_blocks_leaves_the_image_unchanged(model):
    z = torch.randn(3, 5, 3)
    permuted = z[:, torch.tensor([3, 0, 4, 1, 2])]
    torch.testing.assert_close(
        model.decode(permuted), model.decode(z), atol=1e-6, rtol=1e-5
    )


def test_changing_one_block_changes_only_its_atom(model):
    z = torch.randn(2, 5, 3)
    moved = z.clone()
    moved[:, 2] += 1.0
    before, after = model.decode_atoms(z), model.decode_atoms(moved)
    others = [0, 1, 3, 4]
    torch.testing.assert_close(after[:, others], before[:, others])
    assert (after[:, 2] - before[:, 2]).abs().max() > 1e-4


def test_atoms_go_through_g_in_one_batched_call(model):
    calls = []
    hook = model.block_decoder.register_forward_hook(
        lambda m, i, o: calls.append(i[0].shape)
    )
    try:
        model.decode(torch.randn(3, 5, 3))
    finally:
        hook.remove()
    assert calls == [torch.Size([15, 3])]


def test_loss_follows_the_book_convention(model):
    x = torch.rand(2, 1, 32, 32)
    total, parts = atomic_ae_loss(model, x)
    assert total.ndim == 0 and set(parts) == {"recon"}
    total_tuple, _ = atomic_ae_loss(model, (x, torch.zeros(2)))
    torch.testing.assert_close(total, total_tuple)


def test_init_choices_differ_and_are_seeded():
    def weights(init):
        torch.manual_seed(1)
        net = AtomicAutoencoder(AtomicAEConfig(image_size=32, init=init))
        return net.block_decoder.mlp[0].weight.detach().clone(), net

    kaiming, net = weights("kaiming")
    pytorch, _ = weights("pytorch")
    assert not torch.equal(kaiming, pytorch)
    assert torch.equal(kaiming, weights("kaiming")[0])
    assert all(
        float(m.bias.detach().abs().max()) == 0
        for m in net.modules()
        if hasattr(m, "bias") and m.bias is not None
    )


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(image_size=48), "power of 2"),
        (dict(n_atoms=0), "n_atoms"),
        (dict(decoder_channels=(8, 8)), "decoder_channels"),
        (dict(convs_per_stage=3), "convs_per_stage"),
        (dict(init="xavier"), "init"),
        (dict(encoder_channels=(8,) * 8), "stride-2"),
    ],
)
def test_bad_configs_are_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        AtomicAEConfig(**bad)


def test_checkpoint_round_trip_through_the_registry(tmp_path, model):
    path = save_checkpoint(tmp_path / "atoms", model, model.config.to_dict())
    net, ckpt = load_pretrained(path)
    assert isinstance(net, AtomicAutoencoder) and net.config == model.config
    z = torch.randn(2, 5, 3)
    torch.testing.assert_close(net.decode(z), model.decode(z))
    other = AtomicAutoencoder(AtomicAEConfig(image_size=32, n_atoms=4, atom_dim=3))
    with pytest.raises((ConfigError, CheckpointError)):
        load_checkpoint(path, other, expected_config=other.config.to_dict())


def test_block_decoder_moves_its_blocks_and_keeps_the_other_atoms():
    from lib.atomic import block_decoder, block_slider_ranges

    torch.manual_seed(0)
    model = AtomicAutoencoder(
        AtomicAEConfig(image_size=16, n_atoms=3, atom_dim=2)
    ).eval()
    base = torch.randn(1, 3, 2)
    values = torch.randn(4, 4)  # 4 codes, blocks 2 and 0 (in that order)
    decode = block_decoder(model, base, [2, 0])
    expected = base.repeat(4, 1, 1)
    expected[:, 2], expected[:, 0] = values[:, :2], values[:, 2:]
    with torch.no_grad():
        want = model.decode(expected).clamp(0, 1)
    assert torch.allclose(decode(values), want, atol=1e-5)
    for bad in ([], [3], [1, 1]):
        with pytest.raises(ValueError, match="distinct indices"):
            block_decoder(model, base, bad)
    codes = torch.rand(50, 3, 2)  # in [0, 1)
    codes[:, :, 1] = 0.25  # coordinate 1 never moves
    base = torch.tensor([[[5.0, 0.25], [0.5, 0.5], [-3.0, 0.25]]])
    ranges = block_slider_ranges(codes, base, [2, 0])
    assert list(ranges) == ["z[2,0]", "z[2,1]", "z[0,0]", "z[0,1]"]
    assert [r.default for r in ranges.values()] == [-3.0, 0.25, 5.0, 0.25]
    assert ranges["z[2,0]"].low == -3.0 and 0.9 < ranges["z[2,0]"].high < 1.0
    assert ranges["z[0,0]"].high == 5.0 and 0.0 <= ranges["z[0,0]"].low < 0.1
    assert (ranges["z[2,1]"].low, ranges["z[2,1]"].high) == (-0.25, 0.75)
