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
the plain convolutional baseline :class:`lib.nets.DCGANAutoencoder`, with code size 100 (iGAN's)
or 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lib.checkpoint import register_model
from lib.config import BaseConfig
from lib.data.disks import disks_from_radii
from lib.nets import CodeAutoencoder


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
