"""Autoencoders for centred disks, from *Taking Apart Autoencoders* (Newson et al., 2018).

Newson, Almansa, Gousseau, Ladjal, "Taking Apart Autoencoders: How do They Encode Geometric
Shapes?", 2018 (HAL hal-01676326).

:class:`DiskAutoencoder` is the paper's network (Fig. 1, Table 1): 3x3 filters, subsampling by 2
at every layer until the code is a single scalar, depths 1 -> 8 -> 4 -> 4 -> 3 -> 2 -> 1 for a
64x64 input (64 -> 32 -> 16 -> 8 -> 4 -> 2 -> 1: six layers; the extracted Table 1 reads "Input 1 |
hidden 8, 4, 4, 3, 2 | code 1"), leaky ReLU with alpha = 0.2 (Eq. 2), encoder layers
phi_alpha(E * w + b) (Eq. 3), and a mirrored decoder that upsamples by zero insertion before each
3x3 convolution, i.e. a stride-2 transposed convolution.

Non-linearities: Eq. 3 and Proposition 1 apply phi_alpha after *every* layer, the code and the
output included (the authors' Keras code does the same). This keeps the decoder positively
homogeneous without biases: D(lambda z) = lambda D(z) for lambda > 0 (Proposition 1), and the
encoder too: E(lambda x) = lambda E(x). A sigmoid output would break this, so there is none; the
output is not clipped to [0, 1]. ``bias=False`` removes every bias (the ablation of Section 3.2.2).

Paper-silent choices (documented): stride-2 convolutions with padding 1 for "convolution then
subsampling"; Glorot-uniform weights and zero biases at initialisation (the Keras defaults of the
authors' code), so a fresh ``bias=True`` network is still homogeneous until its biases move.

The paper's comparison with a DCGAN-style autoencoder (Section 3.2.3, Appendix C, Fig. 10) uses
the plain convolutional baseline :class:`DCGANAutoencoder`, with code size 100 (iGAN's) or 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from lib.checkpoint import register_model
from lib.config import BaseConfig
from lib.data.disks import disks_from_radii
from lib.errors import check_codes, check_images


# --------------------------------------------------------------------------------------------
# convolutional autoencoders with a (B, d, 1, 1) code
# --------------------------------------------------------------------------------------------
class CodeAutoencoder(nn.Module):
    """Shared plumbing: ``self.encoder`` maps an image to a (B, d, 1, 1) code, ``self.decoder`` back.

    Subclasses set ``self.config`` (with a ``code_size``), ``self.encoder`` and ``self.decoder``.
    """

    config: BaseConfig
    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, code_size)."""
        cfg = self.config
        check_images(x, getattr(cfg, "image_channels", 1), cfg.image_size)
        return self.encoder(x).flatten(1)  # (B, d, 1, 1) -> (B, d)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, code_size) -> (B, C, H, W)."""
        check_codes(z, self.config.code_size)
        return self.decoder(
            z.reshape(z.shape[0], self.config.code_size, 1, 1)
        )  # (B, d, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decode(z), z

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


# --------------------------------------------------------------------------------------------
# the paper's disk autoencoder (Table 1)
# --------------------------------------------------------------------------------------------
@dataclass
class DiskAEConfig(BaseConfig):
    """Hyper-parameters of :class:`DiskAutoencoder`; defaults are Table 1 of the paper.

    ``channels`` are the hidden depths of the encoder (the decoder mirrors them); with the code
    layer there are ``len(channels) + 1`` stride-2 layers, so ``image_size`` must equal
    ``2 ** (len(channels) + 1)``.
    """

    image_size: int = 64
    code_size: int = 1
    channels: tuple[int, ...] = (8, 4, 4, 3, 2)
    bias: bool = True
    negative_slope: float = 0.2
    kernel_size: int = 3
    activate_code: bool = True  # phi_alpha on the code layer (Eq. 3 on every layer)
    activate_output: bool = True  # phi_alpha on the output layer (Proposition 1's D^L)

    def __post_init__(self) -> None:
        self.channels = tuple(int(c) for c in self.channels)
        if not self.channels or any(c < 1 for c in self.channels):
            raise ValueError(
                f"channels must be a non-empty tuple of positive ints, got {self.channels!r}"
            )
        if self.code_size < 1:
            raise ValueError(f"code_size must be >= 1, got {self.code_size!r}")
        if self.image_size != 2 ** (len(self.channels) + 1):
            raise ValueError(
                f"image_size={self.image_size} needs len(channels) + 1 = log2(image_size) stride-2 layers; "
                f"got channels={self.channels!r} ({len(self.channels) + 1} layers, i.e. image_size "
                f"{2 ** (len(self.channels) + 1)})"
            )
        if self.kernel_size % 2 != 1 or self.kernel_size < 1:
            raise ValueError(
                f"kernel_size must be odd and positive, got {self.kernel_size!r}"
            )
        if not 0 <= self.negative_slope < 1:
            raise ValueError(
                f"negative_slope must be in [0, 1), got {self.negative_slope!r}"
            )


@register_model
class DiskAutoencoder(CodeAutoencoder):
    """The paper's disk autoencoder: x (B, 1, 64, 64) -> z (B, 1) -> x_hat (B, 1, 64, 64).

    Default layer shapes (channels, spatial size):
    encoder 1x64 -> 8x32 -> 4x16 -> 4x8 -> 3x4 -> 2x2 -> 1x1 (the code z),
    decoder 1x1 -> 2x2 -> 3x4 -> 4x8 -> 4x16 -> 8x32 -> 1x64. 1412 parameters with biases.
    ``forward`` returns ``(recon, z)``.
    """

    config_class = DiskAEConfig

    def __init__(self, config: DiskAEConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or DiskAEConfig()
        k, pad, b = cfg.kernel_size, cfg.kernel_size // 2, cfg.bias
        enc_depths = (1, *cfg.channels, cfg.code_size)  # 1, 8, 4, 4, 3, 2, 1
        dec_depths = enc_depths[::-1]  # 1, 2, 3, 4, 4, 8, 1
        n_layers = len(enc_depths) - 1

        enc: list[nn.Module] = []
        for i in range(n_layers):
            enc.append(
                nn.Conv2d(
                    enc_depths[i], enc_depths[i + 1], k, stride=2, padding=pad, bias=b
                )
            )
            if i < n_layers - 1 or cfg.activate_code:
                enc.append(nn.LeakyReLU(cfg.negative_slope))
        self.encoder = nn.Sequential(*enc)

        dec: list[nn.Module] = []
        for i in range(n_layers):
            # zero-insertion upsampling by 2 then a k x k conv == stride-2 transposed conv;
            # output_padding=1 makes the size exactly double (1 -> 2 -> ... -> 64).
            dec.append(
                nn.ConvTranspose2d(
                    dec_depths[i],
                    dec_depths[i + 1],
                    k,
                    stride=2,
                    padding=pad,
                    output_padding=1,
                    bias=b,
                )
            )
            if i < n_layers - 1 or cfg.activate_output:
                dec.append(nn.LeakyReLU(cfg.negative_slope))
        self.decoder = nn.Sequential(*dec)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform kernels, zero biases (Keras defaults, as in the authors' code)."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)


# --------------------------------------------------------------------------------------------
# the DCGAN-style baseline (Section 3.2.3, Appendix C)
# --------------------------------------------------------------------------------------------
@dataclass
class DCGANAEConfig(BaseConfig):
    """Hyper-parameters of :class:`DCGANAutoencoder`.

    DCGAN at 64x64: 4x4 kernels, stride 2, feature maps base, 2 base, 4 base, 8 base; batch norm
    on every hidden layer except the encoder's first; leaky ReLU (0.2) in the encoder (DCGAN's
    discriminator), ReLU in the decoder (DCGAN's generator). ``code_size`` 100 is iGAN's, 1 the
    paper's fair comparison. ``output_activation``: DCGAN uses tanh on [-1, 1] data; our disks are
    in [0, 1], so the default here is sigmoid (a choice).
    """

    image_size: int = 64
    image_channels: int = 1
    code_size: int = 100
    base_channels: int = 64
    negative_slope: float = 0.2
    output_activation: str = "sigmoid"  # "sigmoid" | "tanh" | "none"

    def __post_init__(self) -> None:
        if self.image_size < 8 or self.image_size & (self.image_size - 1):
            raise ValueError(
                f"image_size must be a power of 2 >= 8, got {self.image_size!r}"
            )
        if self.output_activation not in ("sigmoid", "tanh", "none"):
            raise ValueError(
                f"output_activation must be 'sigmoid', 'tanh' or 'none', got {self.output_activation!r}"
            )
        if self.code_size < 1 or self.base_channels < 1 or self.image_channels < 1:
            raise ValueError("code_size, base_channels and image_channels must be >= 1")


@register_model
class DCGANAutoencoder(CodeAutoencoder):
    """DCGAN-style conv autoencoder: (B, C, 64, 64) -> (B, code_size) -> (B, C, 64, 64).

    Encoder: 64 -> 32 -> 16 -> 8 -> 4 with channels base .. 8 base, then a 4x4 'valid' conv to the
    code (B, d, 1, 1). Decoder: a 4x4 transposed conv from the code to (8 base, 4, 4), then
    transposed convs back to 64x64. ``forward`` returns ``(recon, z)``.
    """

    config_class = DCGANAEConfig

    def __init__(self, config: DCGANAEConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or DCGANAEConfig()
        n_down = int(math.log2(cfg.image_size)) - 2  # 64 -> 4: 4 stride-2 layers
        widths = [cfg.base_channels * 2**i for i in range(n_down)]  # 64, 128, 256, 512

        enc: list[nn.Module] = []
        c_in = cfg.image_channels
        for i, w in enumerate(widths):
            enc.append(nn.Conv2d(c_in, w, 4, stride=2, padding=1, bias=(i == 0)))
            if i > 0:
                enc.append(nn.BatchNorm2d(w))
            enc.append(nn.LeakyReLU(cfg.negative_slope))
            c_in = w
        enc.append(
            nn.Conv2d(c_in, cfg.code_size, 4, stride=1, padding=0)
        )  # (B, d, 1, 1)
        self.encoder = nn.Sequential(*enc)

        dec: list[nn.Module] = [
            nn.ConvTranspose2d(
                cfg.code_size, widths[-1], 4, stride=1, padding=0, bias=False
            ),  # (B, 8b, 4, 4)
            nn.BatchNorm2d(widths[-1]),
            nn.ReLU(),
        ]
        rev = widths[::-1]
        for w_in, w_out in zip(rev[:-1], rev[1:]):
            dec += [
                nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(w_out),
                nn.ReLU(),
            ]
        dec.append(
            nn.ConvTranspose2d(rev[-1], cfg.image_channels, 4, stride=2, padding=1)
        )  # (B, C, 64, 64)
        if cfg.output_activation == "sigmoid":
            dec.append(nn.Sigmoid())
        elif cfg.output_activation == "tanh":
            dec.append(nn.Tanh())
        self.decoder = nn.Sequential(*dec)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """DCGAN initialisation: conv weights N(0, 0.02), batch-norm scale N(1, 0.02), biases 0."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)


class DiskPanels(nn.Module):
    """``radius (N, 1) -> images (N, 1, H, (1 + len(models)) W)``, a slider's decoder.

    Renders the disk of each radius (clamped to [0, image_size / 2], area anti-aliased, in
    float32 so that it exports to ONNX) and shows it beside each model's reconstruction of
    it, in one row: the input, then the models.
    """

    def __init__(self, models: list[nn.Module], image_size: int = 64) -> None:
        super().__init__()
        self.models = nn.ModuleList(models)
        self.image_size = image_size

    @torch.no_grad()
    def forward(self, radius: torch.Tensor) -> torch.Tensor:
        device = next(self.models[0].parameters()).device
        radius = radius[:, 0].float().clamp(0, self.image_size / 2)
        disks = disks_from_radii(
            radius, self.image_size, antialias="area", area_dtype=torch.float32
        ).to(device)
        panels = [disks, *(model(disks)[0].clamp(0, 1) for model in self.models)]
        return torch.cat(panels, dim=3).cpu()


def disk_panels(models: list[nn.Module], image_size: int = 64) -> DiskPanels:
    """The slider decoder :class:`DiskPanels` of ``models``."""
    return DiskPanels(models, image_size)
