"""The warm-up autoencoder's loss, in the book's convention ``loss(model, batch) -> (total, parts)``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lib.intro.model import WarmupAutoencoder


def warmup_loss(
    model: WarmupAutoencoder, batch: torch.Tensor
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Binary cross-entropy per pixel: digits are nearly binary, and BCE trains faster than MSE here.

    ``batch`` is the images (B, 1, 28, 28). The total is the only term, so ``parts`` is empty.
    """
    recon, _ = model(batch)
    return F.binary_cross_entropy(recon, batch), {}
