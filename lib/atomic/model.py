"""The atomic autoencoder of Newson & Traonmilin (SAMPTA 2023): a decoder that sums atoms.

A. Newson, Y. Traonmilin, "Disentangled latent representations of images with atomic
autoencoders", SAMPTA 2023 (supplementary material, Section III and Table I; authors' code
github.com/alasdairnewson/atomic_ae @ e50299f, ``ae_models.py``).

The latent code of an image is k blocks of d0 coordinates, z = (z_1, ..., z_k) with z_i in R^d0,
and the decoder is one shared *block decoder* g applied to every block and summed:

    f_D(z) = sum_i g(z_i)                       (supplementary, Section II)

so each block draws one *atom* (a pen stroke, a spike) and a block moves its atom only.

Architecture (Table I, for 128x128 MNIST; k = 16, d0 = 6):

- encoder: 3x3 convolutions of stride 2 with leaky ReLU (alpha = 0.2), channels 32, 16, 8, 8
  (128 -> 8), flatten (8 * 8 * 8 = 512), dense 512 and dense k * d0, both with leaky ReLU;
- block decoder g: dense d0 -> 32 -> 32 (leaky ReLU), reshaped to (8, 2, 2), then stages that
  double the size from 2 to the image size with output channels 8, 8, 8, 16, 32, 1.

Where the text and the code differ we follow the code, and say so:

- each decoder stage is conv 3x3 -> nearest upsampling x2 -> leaky ReLU -> conv 3x3 -> leaky
  ReLU (two convolutions; the text describes one, ``convs_per_stage=1`` builds that variant);
- the code (the encoder's last dense layer) and the image (g's last layer) pass through a leaky
  ReLU, as in ``ae_models.py``.

Our one departure, a paper-silent choice: weights start from He initialisation for leaky ReLU
(``init="kaiming"``) instead of PyTorch's defaults (``init="pytorch"``, the authors' code).

Image size is a parameter: at 64x64 (a CPU budget) the encoder has one stride-2 layer fewer
(32, 16, 8: it still ends at 8 x 8 x 8) and g one stage fewer (8, 8, 16, 32, 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from lib.checkpoint import register_model
from lib.config import BaseConfig

INIT_CHOICES = ("kaiming", "pytorch")
ENCODER_WIDTHS = (32, 16, 8, 8, 8, 8)  # Table I: 32, then halved down to 8
DECODER_WIDTHS = (32, 16, 8, 8, 8, 8, 8)  # Table I, read from the output backwards


def _default_encoder_channels(image_size: int) -> tuple[int, ...]:
    # stride-2 layers until the feature map is 8 x 8 (Table I: 128 -> 8 in four layers)
    return ENCODER_WIDTHS[: int(math.log2(image_size // 8))]


def _default_decoder_channels(image_size: int) -> tuple[int, ...]:
    # one stage per doubling from 2 x 2; the last stage outputs the image (1 channel)
    n_hidden = int(math.log2(image_size // 2)) - 1
    return tuple(reversed(DECODER_WIDTHS[:n_hidden]))


@dataclass
class AtomicAEConfig(BaseConfig):
    """Hyper-parameters of :class:`AtomicAutoencoder`; defaults are Table I (128x128 MNIST).

    ``encoder_channels`` / ``decoder_channels`` default (``None``) to Table I's widths for
    ``image_size`` and are stored resolved, so a checkpoint's JSON names every width.
    ``decoder_channels`` are the outputs of g's stages before the last one (which outputs the
    image); g starts from ``(decoder_channels[0], 2, 2)``.
    """

    image_size: int = 128
    n_atoms: int = 16  # k
    atom_dim: int = 6  # d0
    encoder_channels: tuple[int, ...] | None = None
    encoder_hidden: int = 512
    decoder_hidden: int = 32
    decoder_channels: tuple[int, ...] | None = None
    convs_per_stage: int = 2  # the authors' code; the supplementary's text describes 1
    negative_slope: float = 0.2
    init: str = (
        "kaiming"  # "kaiming" (this book) | "pytorch" (the defaults the authors use)
    )

    def __post_init__(self) -> None:
        self.require_positive_ints(
            "image_size", "n_atoms", "atom_dim", "encoder_hidden", "decoder_hidden"
        )
        size = self.image_size
        if size < 16 or size & (size - 1):
            raise ValueError(f"image_size must be a power of 2 >= 16, got {size!r}")
        largest = 2 ** (len(DECODER_WIDTHS) + 2)  # Table I's widths cover 16 ... 512
        for name in ("encoder_channels", "decoder_channels"):
            if getattr(self, name) is None and size > largest:
                raise ValueError(
                    f"image_size {size} is larger than Table I's widths cover ({largest}): "
                    f"give {name} for it"
                )
        if self.encoder_channels is None:
            self.encoder_channels = _default_encoder_channels(size)
        if self.decoder_channels is None:
            self.decoder_channels = _default_decoder_channels(size)
        self.encoder_channels = tuple(int(c) for c in self.encoder_channels)
        self.decoder_channels = tuple(int(c) for c in self.decoder_channels)
        for name in ("encoder_channels", "decoder_channels"):
            widths = getattr(self, name)
            if not widths or min(widths) < 1:
                raise ValueError(f"{name} must be positive ints, got {widths!r}")
        if size >> len(self.encoder_channels) < 1:
            raise ValueError(
                f"{len(self.encoder_channels)} stride-2 layers do not fit image_size {size}"
            )
        if 2 ** (len(self.decoder_channels) + 2) != size:
            raise ValueError(
                f"decoder_channels must have log2(image_size) - 2 = "
                f"{int(math.log2(size)) - 2} entries for image_size {size}, "
                f"got {self.decoder_channels!r}"
            )
        if self.init not in INIT_CHOICES:
            raise ValueError(f"init must be one of {INIT_CHOICES}, got {self.init!r}")
        if self.convs_per_stage not in (1, 2):
            raise ValueError(
                f"convs_per_stage must be 1 or 2, got {self.convs_per_stage}"
            )
        if not 0 <= self.negative_slope < 1:
            raise ValueError(
                f"negative_slope must be in [0, 1), got {self.negative_slope}"
            )

    @property
    def code_size(self) -> int:
        """k * d0, the length of the flat code."""
        return self.n_atoms * self.atom_dim


class AtomicOutput(NamedTuple):
    """What :meth:`AtomicAutoencoder.forward` returns: the reconstruction first."""

    recon: torch.Tensor  # (B, 1, H, W)
    z: torch.Tensor  # (B, k, d0)


class BlockDecoder(nn.Module):
    """g: R^d0 -> one atom image (1, H, W). Applied to all k blocks in one batched call."""

    def __init__(self, cfg: AtomicAEConfig) -> None:
        super().__init__()
        c0 = cfg.decoder_channels[0]
        self.start_channels = c0
        act = nn.LeakyReLU(cfg.negative_slope)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.atom_dim, cfg.decoder_hidden),
            act,
            nn.Linear(cfg.decoder_hidden, c0 * 2 * 2),
            act,
        )
        widths = (c0, *cfg.decoder_channels, 1)  # in, stage outputs..., image
        stages: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            stages += [
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.Upsample(scale_factor=2, mode="nearest"),
                act,
            ]
            if cfg.convs_per_stage == 2:
                stages += [nn.Conv2d(c_out, c_out, 3, padding=1), act]
        self.convs = nn.Sequential(*stages)

    def forward(self, blocks: torch.Tensor) -> torch.Tensor:
        """(N, d0) -> (N, 1, H, W)."""
        h = self.mlp(blocks).view(-1, self.start_channels, 2, 2)  # (N, c0, 2, 2)
        return self.convs(h)


@register_model
class AtomicAutoencoder(nn.Module):
    """Encoder to k blocks of d0 coordinates; decoder f_D(z) = sum_i g(z_i).

    ``encode(x) -> (B, k, d0)``; ``decode_atoms(z) -> (B, k, 1, H, W)``, each block's atom image;
    ``decode(z)`` their sum (B, 1, H, W); ``forward(x)`` an :class:`AtomicOutput`
    ``(recon, z)``. With ``n_atoms=1`` it is a plain autoencoder with the same encoder.
    """

    config_class = AtomicAEConfig

    def __init__(self, config: AtomicAEConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or AtomicAEConfig()
        act = nn.LeakyReLU(cfg.negative_slope)
        layers: list[nn.Module] = []
        c_in = 1
        for width in cfg.encoder_channels:
            layers += [nn.Conv2d(c_in, width, 3, stride=2, padding=1), act]
            c_in = width
        side = cfg.image_size >> len(cfg.encoder_channels)
        layers += [
            nn.Flatten(),  # (B, c * side * side)
            nn.Linear(c_in * side * side, cfg.encoder_hidden),
            act,
            nn.Linear(cfg.encoder_hidden, cfg.code_size),
            act,  # the authors' code activates the code itself
        ]
        self.encoder = nn.Sequential(*layers)
        self.block_decoder = BlockDecoder(cfg)
        if cfg.init == "kaiming":
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """He initialisation for leaky ReLU (alpha = 0.2), zero biases (this book's choice).

        The authors keep PyTorch's defaults (``init="pytorch"``), which shrink the signal through
        g's eight layers: on spikes the output then sits at zero for hundreds of steps before
        it starts to learn. He initialisation keeps the signal's scale layer to layer.
        """
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, a=self.config.negative_slope)
                nn.init.zeros_(module.bias)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) -> z (B, k, d0)."""
        cfg = self.config
        size = cfg.image_size
        if (
            not isinstance(x, torch.Tensor)
            or x.dim() != 4
            or x.shape[1:] != (1, size, size)
        ):
            # a smaller image would pass the convolutions and come back at the model's size
            found = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be images (B, 1, {size}, {size}), got {found}")
        return self.encoder(x).view(-1, cfg.n_atoms, cfg.atom_dim)

    def decode_atoms(self, z: torch.Tensor) -> torch.Tensor:
        """(B, k, d0) -> the atom images g(z_i), (B, k, 1, H, W): all B * k blocks at once."""
        cfg = self.config
        if (
            not isinstance(z, torch.Tensor)
            or z.dim() != 3
            or z.shape[1:]
            != (
                cfg.n_atoms,
                cfg.atom_dim,
            )
        ):
            found = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(
                f"z must be codes (B, k={cfg.n_atoms}, d0={cfg.atom_dim}), got {found}"
            )
        batch, k, d0 = z.shape
        atoms = self.block_decoder(z.reshape(batch * k, d0))  # (B * k, 1, H, W)
        return atoms.view(batch, k, *atoms.shape[1:])

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """f_D(z) = sum_i g(z_i): (B, k, d0) -> (B, 1, H, W)."""
        return self.decode_atoms(z).sum(dim=1)

    def forward(self, x: torch.Tensor) -> AtomicOutput:
        z = self.encode(x)
        return AtomicOutput(self.decode(z), z)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class BlockSlider(nn.Module):
    """``v (N, len(blocks) * d0) -> images (N, 1, H, W)``, a slider's decoder: move
    ``blocks``, keep the rest.

    ``base`` (1, k, d0) is a code; the values replace the coordinates of ``blocks`` in turn.
    Since f_D(z) = sum_i g(z_i), the atoms of the other blocks add up to one fixed image,
    computed once (the buffer ``background``): each call runs g only on the moving blocks.
    """

    def __init__(
        self, model: AtomicAutoencoder, base: torch.Tensor, blocks: list[int]
    ) -> None:
        super().__init__()
        k, d0 = model.config.n_atoms, model.config.atom_dim
        base = base.detach().reshape(1, k, d0)
        if (
            not blocks
            or any(not 0 <= b < k for b in blocks)
            or len(set(blocks)) < len(blocks)
        ):
            raise ValueError(
                f"blocks must be distinct indices in [0, {k}), got {blocks}"
            )
        self.model, self.blocks, self.atom_dim = model, list(blocks), d0
        fixed = [i for i in range(k) if i not in blocks]
        device = next(model.parameters()).device
        with torch.no_grad():
            atoms = model.decode_atoms(base.to(device))  # (1, k, 1, H, W)
        self.register_buffer("background", atoms[:, fixed].sum(dim=1))  # (1, 1, H, W)

    @torch.no_grad()
    def forward(self, values: torch.Tensor) -> torch.Tensor:
        device = self.background.device
        moving = (
            values.float().to(device).reshape(-1, self.atom_dim)
        )  # (N * blocks, d0)
        drawn = self.model.block_decoder(moving)  # (N * len(blocks), 1, H, W)
        drawn = drawn.reshape(-1, len(self.blocks), *drawn.shape[1:]).sum(dim=1)
        return (self.background + drawn).clamp(0, 1).cpu()


def block_decoder(
    model: AtomicAutoencoder, base: torch.Tensor, blocks: list[int]
) -> BlockSlider:
    """The slider decoder :class:`BlockSlider`: ``blocks`` of ``base`` move."""
    return BlockSlider(model, base, blocks)
