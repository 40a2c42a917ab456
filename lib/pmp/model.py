"""Product manifold projection (PMP): a siamese encoder, k projectors, their sum, a decoder.

M. Fumero, L. Cosmo, S. Melzi, E. Rodolà, "Learning disentangled representations via product
manifold projection", ICML 2021 (supplementary material, Fig. 2 and Tables 1, 3, 4; authors'
code github.com/marc0git/PMPdisentanglement @ accd80f, ``models/model.py`` and
``models/conv64.py`` with ``with_bn=False``).

    x --f--> z_tilde (B, d) --P_1..P_k--> s (B, k, d) --sum over k--> z (B, d) --g--> x_hat

f and g are the conv64 encoder and decoder of supplementary Table 1
(:class:`lib.nets.Conv64Encoder`, :class:`lib.nets.Conv64Decoder`). Each projector P_i is
Linear(d, d) -> ReLU -> Linear(d, d) as in the authors' code (the paper's Table 3 is not in the
supplementary). The k projectors run as one batched matrix product instead of a Python loop over
k modules; :class:`Projectors` initialises each one as ``nn.Linear`` would.

The model also holds :class:`AdaGVAE`, the weakly supervised baseline of Locatello et al. 2020
on the same encoder and decoder (encoder output 2d: mean and log-variance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from lib.checkpoint import register_model
from lib.config import BaseConfig
from lib.errors import check_codes, check_images
from lib.nets import Conv64Decoder, Conv64Encoder


@dataclass
class PMPConfig(BaseConfig):
    """Supplementary Table 4: d = 10 (``latent_dim``), k = 10 (``n_projectors``)."""

    image_channels: int = 1
    latent_dim: int = 10
    n_projectors: int = 10

    def __post_init__(self) -> None:
        self.require_positive_ints("image_channels", "latent_dim", "n_projectors")


class Projectors(nn.Module):
    """k independent maps P_i: R^d -> R^d, each Linear -> ReLU -> Linear, applied at once.

    ``forward(z (B, d)) -> s (B, k, d)`` with ``s[:, i] = P_i(z)``.
    """

    def __init__(self, dim: int, count: int) -> None:
        super().__init__()
        self.dim, self.count = dim, count
        self.weight1 = nn.Parameter(torch.empty(count, dim, dim))  # (k, d_out, d_in)
        self.bias1 = nn.Parameter(torch.empty(count, dim))
        self.weight2 = nn.Parameter(torch.empty(count, dim, dim))
        self.bias2 = nn.Parameter(torch.empty(count, dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.Linear's default init, projector by projector: U(-1/sqrt(d), 1/sqrt(d))
        bound = 1.0 / math.sqrt(self.dim)
        for w in (self.weight1, self.weight2):
            for i in range(self.count):
                nn.init.kaiming_uniform_(w[i], a=math.sqrt(5))
        for b in (self.bias1, self.bias2):
            nn.init.uniform_(b, -bound, bound)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.einsum("bd,kod->bko", z, self.weight1) + self.bias1  # (B, k, d)
        h = torch.relu(h)
        return torch.einsum("bkd,kod->bko", h, self.weight2) + self.bias2  # (B, k, d)


class PMPOutput(NamedTuple):
    logits: torch.Tensor  # (B, C, 64, 64) decoder output before the sigmoid
    s: torch.Tensor  # (B, k, d) projector outputs s_i = P_i(f(x))
    z: torch.Tensor  # (B, d) their sum, the code the decoder reads


@register_model
class PMPAutoencoder(nn.Module):
    """f, the k projectors, aggregation by sum, g (supplementary Fig. 2).

    - ``encode_base(x) -> (B, d)``: f(x), the intermediate code z_tilde;
    - ``project(z_tilde) -> (B, k, d)``: the projector outputs s_i;
    - ``encode(x) -> (B, d)``: sum_i s_i, the latent code (what the metrics score);
    - ``decode(z) -> (B, C, 64, 64)`` logits; ``forward(x) -> PMPOutput``.
    """

    config_class = PMPConfig

    def __init__(self, config: PMPConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or PMPConfig()
        self.encoder = Conv64Encoder(cfg.image_channels, cfg.latent_dim)
        self.projectors = Projectors(cfg.latent_dim, cfg.n_projectors)
        self.decoder = Conv64Decoder(cfg.latent_dim, cfg.image_channels)

    def encode_base(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.config.image_channels, 64)
        return self.encoder(x)

    def project(self, z_tilde: torch.Tensor) -> torch.Tensor:
        return self.projectors(z_tilde)

    def subspaces(self, x: torch.Tensor) -> torch.Tensor:
        """s (B, k, d): every projector's output for images ``x``."""
        return self.project(self.encode_base(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.subspaces(x).sum(1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        check_codes(z, self.config.latent_dim)
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> PMPOutput:
        s = self.subspaces(x)  # (B, k, d)
        z = s.sum(1)  # (B, d): aggr = +
        return PMPOutput(self.decode(z), s, z)


# --------------------------------------------------------------------------------------------
# the baseline: Ada-GVAE (Locatello et al. 2020) on the same networks
# --------------------------------------------------------------------------------------------
@dataclass
class AdaGVAEConfig(BaseConfig):
    """Ada-GVAE on the conv64 networks; ``beta`` weighs the KL term."""

    image_channels: int = 1
    latent_dim: int = 10
    beta: float = 1.0

    def __post_init__(self) -> None:
        self.require_positive_ints("image_channels", "latent_dim")
        if not self.beta > 0:
            raise ValueError(f"beta must be positive, got {self.beta!r}")


class GaussianPosterior(NamedTuple):
    mean: torch.Tensor  # (B, d)
    logvar: torch.Tensor  # (B, d)


@register_model
class AdaGVAE(nn.Module):
    """A VAE with the conv64 encoder (output 2d: mean, log-variance) and decoder.

    ``posterior(x) -> GaussianPosterior``; ``encode(x) -> mean (B, d)`` (the code the metrics
    score, as disentanglement_lib); ``decode(z)`` logits. The weak supervision (which
    coordinates a pair shares) is in :func:`lib.pmp.losses.adagvae_loss`.
    """

    config_class = AdaGVAEConfig

    def __init__(self, config: AdaGVAEConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or AdaGVAEConfig()
        self.encoder = Conv64Encoder(cfg.image_channels, 2 * cfg.latent_dim)
        self.decoder = Conv64Decoder(cfg.latent_dim, cfg.image_channels)

    def posterior(self, x: torch.Tensor) -> GaussianPosterior:
        check_images(x, self.config.image_channels, 64)
        mean, logvar = self.encoder(x).chunk(2, dim=1)  # (B, d) each
        return GaussianPosterior(mean, logvar)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x).mean

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        check_codes(z, self.config.latent_dim)
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, GaussianPosterior]:
        q = self.posterior(x)
        return self.decode(q.mean), q


MODEL_KINDS = ("pmp", "adagvae")  # the paper's comparison


# The loss ablation the supplementary announces, as the book runs it (PMP's networks and
# schedule, one term changed): no sparsity term, and the book's scale-free sparsity.
ABLATION_KINDS = ("pmp_nospar", "pmp_scalefree")


ALL_KINDS = MODEL_KINDS + ABLATION_KINDS


KIND_LABELS = {
    "pmp": "PMP",
    "adagvae": "Ada-GVAE",
    "pmp_nospar": "PMP, lambda_spar = 0",
    "pmp_scalefree": "PMP, scale-free L_spar",
}


def check_kind(kind: str) -> None:
    if kind not in ALL_KINDS:
        raise ValueError(f"model kind must be one of {ALL_KINDS}, got {kind!r}")
