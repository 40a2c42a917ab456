"""Networks that two chapters share, and that belong to none of the four papers.

- :class:`Conv64Autoencoder` (with :class:`Conv64Encoder`, :class:`Conv64Decoder`): the 64x64
  network of the disentanglement literature (disentanglement_lib, PMP), used by chapters 04
  and 05; :func:`bce_ae_loss`, :func:`encode_images` (an encoder as the metrics take it),
  :func:`image_decoder` (a decoder as the sliders take it, chapters 00 and 04);
- :class:`Conv64VAE` (with :class:`Conv64VAEConfig`, :class:`GaussianPosterior`,
  :func:`kl_to_standard_normal`, :func:`beta_vae_loss`): the beta-VAE on the same networks,
  chapter 04's population of models with more or less disentanglement.

A network with one user lives with it: the warm-up autoencoder in :mod:`lib.intro`, the digit
judge in :mod:`lib.toroidal`, the DCGAN autoencoder in :mod:`lib.taking_apart`. Every config is
a :class:`~lib.config.BaseConfig`; every model is registered for
:func:`lib.checkpoint.load_pretrained`; every training loss follows the book's convention
``loss(model, batch) -> (total, parts)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lib.checkpoint import register_model
from lib.config import BaseConfig
from lib.errors import check_codes, check_images


# --------------------------------------------------------------------------------------------
# the 64x64 convolutional encoder and decoder of the disentanglement literature
# --------------------------------------------------------------------------------------------
@dataclass
class Conv64AEConfig(BaseConfig):
    """Hyper-parameters of :class:`Conv64Autoencoder`.

    The PMP authors' ``conv64`` network (Fumero et al. 2021, supplementary Table 1), whose
    encoder is disentanglement_lib's (Locatello et al. 2019, ``conv_encoder``): four 4x4
    convolutions of stride 2 with 32, 32, 64, 64 channels and ReLU (64 -> 4), a dense layer of
    256, then the code. The decoder has dense layers 256, 256, 1024 (disentanglement_lib's
    ``deconv_decoder`` has 256, 1024 only) and four 4x4 transposed convolutions. ``code_size``
    is d (10 in both). The output has no activation: the loss decides (sigmoid + BCE for
    binary dSprites).
    """

    image_channels: int = 1
    code_size: int = 10

    def __post_init__(self) -> None:
        self.require_positive_ints("image_channels", "code_size")


class Conv64Encoder(nn.Module):
    """(B, C, 64, 64) -> (B, out_features)."""

    def __init__(self, image_channels: int, out_features: int) -> None:
        super().__init__()
        widths = (image_channels, 32, 32, 64, 64)
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
        self.net = nn.Sequential(
            *layers,  # (B, 64, 4, 4)
            nn.Flatten(),  # (B, 1024)
            nn.Linear(1024, 256),
            nn.ReLU(),
            nn.Linear(256, out_features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (64, 64):
            raise ValueError(f"Conv64Encoder needs 64x64 images, got {tuple(x.shape)}")
        return self.net(x)


class Conv64Decoder(nn.Module):
    """(B, in_features) -> (B, C, 64, 64) logits."""

    def __init__(self, in_features: int, image_channels: int) -> None:
        super().__init__()
        self.dense = nn.Sequential(
            nn.Linear(in_features, 256),
            nn.ReLU(),
            nn.Linear(256, 256),
            nn.ReLU(),
            nn.Linear(256, 1024),
            nn.ReLU(),
        )
        widths = (64, 64, 32, 32, image_channels)
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
        self.convs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.convs(
            self.dense(z).view(-1, 64, 4, 4)
        )  # (B, 64, 4, 4) -> (B, C, 64, 64)


@register_model
class Conv64Autoencoder(nn.Module):
    """A plain deterministic autoencoder with :class:`Conv64Encoder` / :class:`Conv64Decoder`.

    ``encode(x) -> (B, d)``, ``decode(z) -> logits (B, C, 64, 64)``, ``forward(x) -> (logits, z)``.
    """

    config_class = Conv64AEConfig

    def __init__(self, config: Conv64AEConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or Conv64AEConfig()
        self.encoder = Conv64Encoder(cfg.image_channels, cfg.code_size)
        self.decoder = Conv64Decoder(cfg.code_size, cfg.image_channels)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.config.image_channels, 64)
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        check_codes(z, self.config.code_size)
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decode(z), z


def bce_ae_loss(
    model: nn.Module, batch: torch.Tensor | tuple[torch.Tensor, ...]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Binary cross-entropy of the logits, summed over pixels and averaged over the batch.

    The reconstruction term of disentanglement_lib's ``bernoulli_loss`` (binary dSprites), in the
    book's ``loss(model, batch)`` convention.
    """
    images = batch[0] if isinstance(batch, (tuple, list)) else batch
    logits = model(images)[0]
    bce = F.binary_cross_entropy_with_logits(logits, images, reduction="none")
    loss = bce.flatten(1).sum(1).mean()
    return loss, {"recon": loss.detach()}  # the book's key for reconstruction


class ImageDecoder(nn.Module):
    """``z (N, d) -> images (N, C, H, W)``, a slider's decoder: ``model.decode(z)``, through a
    sigmoid when ``logits`` (a model whose ``decode`` returns logits, e.g.
    :class:`Conv64Autoencoder`); as it is otherwise (images already, e.g.
    :class:`WarmupAutoencoder`)."""

    def __init__(self, model: nn.Module, logits: bool = True) -> None:
        super().__init__()
        self.model, self.logits = model, logits

    @torch.no_grad()
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        device = next(self.model.parameters()).device
        if not self.logits:
            return self.model.decode(z.to(device)).cpu()
        return torch.sigmoid(self.model.decode(z.float().to(device))).cpu()


def image_decoder(model: nn.Module, logits: bool = True) -> ImageDecoder:
    """The slider decoder :class:`ImageDecoder` of ``model``."""
    return ImageDecoder(model, logits)


def encode_images(
    model: nn.Module, device: str | torch.device = "cpu", chunk: int = 1024
) -> Callable[[np.ndarray], np.ndarray]:
    """``encode(images (n, C, 64, 64) numpy) -> codes (n, d) numpy`` with ``model.encode``.

    The form :func:`lib.metrics.score_all` takes; images go to ``device`` ``chunk`` at a time.
    """

    @torch.no_grad()
    def encode(images: np.ndarray) -> np.ndarray:
        parts = []
        for start in range(0, len(images), chunk):
            x = torch.from_numpy(np.ascontiguousarray(images[start : start + chunk]))
            parts.append(model.encode(x.to(device)).cpu().numpy())
        return np.concatenate(parts)

    return encode


# --------------------------------------------------------------------------------------------
# the beta-VAE (Higgins et al. 2017) on the same networks: a diagonal Gaussian posterior
# --------------------------------------------------------------------------------------------
class GaussianPosterior(NamedTuple):
    """A diagonal Gaussian over codes: ``mean`` and ``logvar``, each (B, d)."""

    mean: torch.Tensor
    logvar: torch.Tensor


def kl_to_standard_normal(q: GaussianPosterior) -> torch.Tensor:
    """KL(q || N(0, I)) per coordinate, (B, d): ``(exp(logvar) + mean^2 - 1 - logvar) / 2``."""
    return 0.5 * (q.logvar.exp() + q.mean.pow(2) - 1.0 - q.logvar)


@dataclass
class Conv64VAEConfig(BaseConfig):
    """Hyper-parameters of :class:`Conv64VAE`: the conv64 networks of
    :class:`Conv64AEConfig`, an encoder with 2 ``code_size`` outputs (mean, log-variance) and
    ``beta``, the weight of the KL term (disentanglement_lib's ``BetaVAE``, Higgins et al.
    2017; Locatello et al. 2019 train beta in {1, 2, 4, 6, 8, 16})."""

    image_channels: int = 1
    code_size: int = 10
    beta: float = 1.0

    def __post_init__(self) -> None:
        self.require_positive_ints("image_channels", "code_size")
        if not (isinstance(self.beta, (int, float)) and 0 < self.beta < float("inf")):
            raise ValueError(
                f"beta must be a positive finite number, got {self.beta!r}"
            )


@register_model
class Conv64VAE(nn.Module):
    """A VAE with :class:`Conv64Encoder` (output 2d) and :class:`Conv64Decoder`.

    ``posterior(x) -> GaussianPosterior``; ``encode(x) -> mean (B, d)``, the code the metrics
    score (as disentanglement_lib does); ``decode(z)`` logits; ``forward(x) -> (logits of a
    reparameterised sample, posterior)``. The loss is :func:`beta_vae_loss`.
    """

    config_class = Conv64VAEConfig

    def __init__(self, config: Conv64VAEConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or Conv64VAEConfig()
        self.encoder = Conv64Encoder(cfg.image_channels, 2 * cfg.code_size)
        self.decoder = Conv64Decoder(cfg.code_size, cfg.image_channels)

    def posterior(self, x: torch.Tensor) -> GaussianPosterior:
        check_images(x, self.config.image_channels, 64)
        mean, logvar = self.encoder(x).chunk(2, dim=1)  # (B, d) each
        return GaussianPosterior(mean, logvar)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x).mean

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        check_codes(z, self.config.code_size)
        return self.decoder(z)

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, GaussianPosterior]:
        """Logits of one reparameterised sample per image, and the posterior; the noise
        from ``generator`` (one on the code's device), or torch's global one."""
        q = self.posterior(x)
        noise = torch.randn(
            q.mean.shape, generator=generator, dtype=q.mean.dtype, device=q.mean.device
        )  # (B, d)
        z = q.mean + (0.5 * q.logvar).exp() * noise
        return self.decode(z), q


def beta_vae_loss(
    model: Conv64VAE,
    batch: torch.Tensor | tuple[torch.Tensor, ...],
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The beta-VAE's negative ELBO: BCE summed over pixels + ``model.config.beta`` x KL to
    N(0, I) summed over coordinates, both averaged over the batch, one reparameterised
    sample per image (disentanglement_lib's ``BetaVAE`` with ``bernoulli_loss``), its noise
    from ``generator`` (default: torch's global one)."""
    images = batch[0] if isinstance(batch, (tuple, list)) else batch
    logits, q = model(images, generator=generator)
    bce = F.binary_cross_entropy_with_logits(logits, images, reduction="none")
    recon = bce.flatten(1).sum(1).mean()
    kl = kl_to_standard_normal(q).sum(1).mean()
    loss = recon + model.config.beta * kl
    return loss, {"recon": recon.detach(), "kl": kl.detach()}
