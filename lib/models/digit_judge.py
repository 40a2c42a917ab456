"""A digit classifier used as a measuring instrument: how digit-like is a decoded image?

Not from any of the four papers. Several chapters ask whether an interpolation or a prior sample
"stays on the data". The squared distance to the nearest training digit cannot answer that for
faint or blurry images: an almost empty image is close, in squared error, to a thin "1". A
classifier trained on real digits, and never on decoder outputs, gives a second opinion: its
confidence (the largest softmax probability) is high on images that look like one digit and low
on blobs and mixtures. Its accuracy on held-out digits says how far to trust it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lib.models.config import ConfigMixin


@dataclass
class DigitJudgeConfig(ConfigMixin):
    channels: int = 16  # width of the first conv layer; the second has twice as many
    hidden: int = 64  # width of the dense layer before the 10 logits
    n_classes: int = 10

    def __post_init__(self) -> None:
        self.require_positive_ints("channels", "hidden", "n_classes")


class DigitJudge(nn.Module):
    """2 x (conv 3x3, ReLU, max-pool 2), a dense layer and the class logits, for 28x28 images."""

    def __init__(self, config: DigitJudgeConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DigitJudgeConfig()
        c = config.channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),          # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # (B, 2c, 7, 7)
            nn.Flatten(),
            nn.Linear(2 * c * 49, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, config.n_classes),                         # (B, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @torch.no_grad()
    def confidence(self, images: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
        """The largest class probability of each image, shape (n,), on the CPU. 0.1 is chance, 1 is sure."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        parts = [torch.softmax(self(chunk.to(device)), dim=1).max(dim=1).values.cpu()
                 for chunk in images.split(batch_size)]
        self.train(was_training)
        return torch.cat(parts)
