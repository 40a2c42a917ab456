"""The atomic autoencoder's training loss (Newson & Traonmilin, SAMPTA 2023).

The published code trains with the mean squared reconstruction error only (``ae_models.py`` @
e50299f; an earlier commit, db64231, added a group-sparsity term with weight 1e-5 that the
cleaned-up version removed). The supplementary's Section II assumes an autoencoder "trained up to
an arbitrary precision", f_D(f_E(x)) = x on Sigma: the loss asks for exactly that.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def atomic_ae_loss(
    model: nn.Module, batch: torch.Tensor | tuple[torch.Tensor, ...]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean squared error of the reconstruction, in the book's ``loss(model, batch)`` convention.

    ``batch`` is the images (B, 1, H, W) or a tuple whose first element they are (labels and
    parameters that ride along are ignored). Returns ``(mse, {"recon": mse})``: ``recon``, the
    reconstruction term's key in every loss of the book.
    """
    images = batch[0] if isinstance(batch, (tuple, list)) else batch
    recon = model(images)[0]  # (B, 1, H, W)
    mse = F.mse_loss(recon, images)
    return mse, {"recon": mse.detach()}
