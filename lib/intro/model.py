"""The introduction's warm-up autoencoder: a small convolutional autoencoder for 28x28 digits with
a 2-d code, which a reader can see whole and steer with two sliders."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lib.checkpoint import register_model
from lib.config import BaseConfig
from lib.errors import check_codes, check_images


@dataclass
class WarmupAEConfig(BaseConfig):
    latent_dim: int = 2
    channels: int = 16  # width of the first conv layer; the second has twice as many
    hidden: int = 128  # width of the dense layer between the conv stack and the code

    def __post_init__(self) -> None:
        self.require_positive_ints("latent_dim", "channels", "hidden")


@register_model
class WarmupAutoencoder(nn.Module):
    """Conv encoder 28→14→7, dense code, mirrored decoder with transposed convs, sigmoid output."""

    config_class = WarmupAEConfig

    def __init__(self, config: WarmupAEConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or WarmupAEConfig()
        c = config.channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 3, stride=2, padding=1),
            nn.ReLU(),  # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1),
            nn.ReLU(),  # (B, 2c, 7, 7)
            nn.Flatten(),  # (B, 2c*49)
            nn.Linear(2 * c * 49, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.latent_dim),  # (B, latent_dim)
        )
        self.decoder_dense = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, 2 * c * 49),
            nn.ReLU(),
        )
        self.decoder_conv = nn.Sequential(
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1),
            nn.ReLU(),  # (B, c, 14, 14)
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, 1, 28)
        return self.encoder(x)  # (B, latent_dim)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        check_codes(z, self.config.latent_dim)
        h = self.decoder_dense(z).view(
            -1, 2 * self.config.channels, 7, 7
        )  # (B, 2c, 7, 7)
        return torch.sigmoid(self.decoder_conv(h))  # (B, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decode(z), z
