"""Toroidal AutoEncoder (Mikulski & Duda, "Toroidal AutoEncoder", arXiv:1903.12286).

This file has the model (Sect. 2), the torus prior and multiple-path morphing on the torus
(Sect. 4, Eq. 6). The losses are in :mod:`lib.toroidal.losses`; the diagnostics of the latent
angles (a per-angle uniformity test and the circular correlations behind Fig. 5) are the shared
circular statistics of :mod:`lib.analysis`.

Architecture, following Sect. 2:

- encoder: 3 convolutions, each followed by max-pooling, then one dense layer (the "encoder
  output");
- latent: two parallel linear dense heads X and Y of size d. Together z = (X, Y) lies in R^{2d};
- polar view (Eq. 1): r_i^2 = x_i^2 + y_i^2 and phi_i = atan2(y_i, x_i). The angles Phi are the
  d-torus. Only the losses and the classifier use (R, Phi); the decoder reads z;
- decoder: a dense layer, a reshape, then convolutions with up-sampling, ending in a sigmoid;
- auxiliary classifier: 3 dense layers on Phi.

The paper gives no code and no layer sizes. :class:`TorusAEConfig` records our choices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn as nn

from lib.checkpoint import register_model
from lib.config import BaseConfig
from lib.errors import ParameterError, check_codes, check_images

# --------------------------------------------------------------------------- config


@dataclass
class TorusAEConfig(BaseConfig):
    """Hyperparameters of :class:`TorusAutoencoder`. The paper gives only ``d`` (3) and the layer types.

    Our choices, for 28x28 MNIST:

    - ``channels``: the widths of the 3 encoder convolutions (3x3, padding 1, ReLU, 2x2 max-pool):
      28 -> 14 -> 7 -> 3. The decoder mirrors them from a 7x7 map.
    - ``hidden``: the width of the dense "encoder output" layer (ReLU).
    - ``classifier_hidden``: the width of the two hidden layers of the 3-layer classifier.
    - ``classifier_input``: ``"cossin"`` (default) feeds the classifier (cos phi, sin phi). This is
      still a function of Phi alone, as in Sect. 2.3, but it is continuous across +-pi. Raw angles
      would make the +-pi seam a cut that no class could straddle, an artefact the torus
      topology does not have. ``"angle"`` feeds the raw phi, the literal reading of "connected to
      Phi".
    """

    d: int = 3
    in_channels: int = 1
    image_size: int = 28
    channels: tuple[int, int, int] = (32, 64, 64)
    hidden: int = 128
    classifier_hidden: int = 64
    n_classes: int = 10
    classifier_input: str = "cossin"

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)  # JSON round-trips give lists
        if len(self.channels) != 3:
            raise ValueError(
                f"channels must list 3 widths (3 conv layers), got {self.channels}"
            )
        if self.d < 1:
            raise ValueError(f"d must be >= 1, got {self.d}")
        if self.image_size % 4 != 0:
            raise ValueError(
                f"image_size must be divisible by 4 (two up-samplings), got {self.image_size}"
            )
        if self.classifier_input not in ("cossin", "angle"):
            raise ValueError(
                f"classifier_input must be 'cossin' or 'angle', got {self.classifier_input!r}"
            )


# --------------------------------------------------------------------------- model


class TorusAEOutput(NamedTuple):
    recon: torch.Tensor  # (B, C, H, W), in [0, 1]
    z: torch.Tensor  # (B, 2d) = (X, Y)
    r2: torch.Tensor  # (B, d), squared radii
    phi: torch.Tensor  # (B, d), angles in [-pi, pi]
    logits: torch.Tensor  # (B, n_classes), auxiliary classifier on phi


class Encoder(nn.Module):
    """3 x (conv 3x3, ReLU, max-pool 2), then the dense encoder output and the linear heads X, Y."""

    def __init__(self, cfg: TorusAEConfig) -> None:
        super().__init__()
        c1, c2, c3 = cfg.channels
        self.convs = nn.Sequential(
            nn.Conv2d(cfg.in_channels, c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c2, 7, 7)
            nn.Conv2d(c2, c3, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c3, 3, 3)
        )
        side = cfg.image_size // 8
        self.dense = nn.Sequential(
            nn.Flatten(), nn.Linear(c3 * side * side, cfg.hidden), nn.ReLU()
        )
        # No non-linearity on X and Y, so that together they can reach all of R^{2d} (Sect. 2.1).
        self.head_x = nn.Linear(cfg.hidden, cfg.d)
        self.head_y = nn.Linear(cfg.hidden, cfg.d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dense(self.convs(x))  # (B, hidden)
        return torch.cat([self.head_x(h), self.head_y(h)], dim=1)  # (B, 2d)


class Decoder(nn.Module):
    """Dense layer from z, reshape to a small map, then 2 x (up-sample, conv) and a sigmoid conv."""

    def __init__(self, cfg: TorusAEConfig) -> None:
        super().__init__()
        c1, c2, c3 = cfg.channels
        self.c3, self.side = c3, cfg.image_size // 4
        self.dense = nn.Sequential(
            nn.Linear(2 * cfg.d, c3 * self.side * self.side), nn.ReLU()
        )
        self.convs = nn.Sequential(
            nn.Upsample(scale_factor=2),
            nn.Conv2d(c3, c2, 3, padding=1),
            nn.ReLU(),  # (B, c2, 14, 14)
            nn.Upsample(scale_factor=2),
            nn.Conv2d(c2, c1, 3, padding=1),
            nn.ReLU(),  # (B, c1, 28, 28)
            nn.Conv2d(c1, cfg.in_channels, 3, padding=1),
            nn.Sigmoid(),  # (B, C, 28, 28)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.dense(z).view(-1, self.c3, self.side, self.side)  # (B, c3, 7, 7)
        return self.convs(h)


@register_model
class TorusAutoencoder(nn.Module):
    """The Toroidal AE. ``forward(x)`` returns :class:`TorusAEOutput` (recon, z, r2, phi, logits)."""

    config_class = TorusAEConfig

    def __init__(self, config: TorusAEConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or TorusAEConfig()
        self.d = cfg.d
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        n_in = 2 * cfg.d if cfg.classifier_input == "cossin" else cfg.d
        self.classifier = nn.Sequential(  # 3 dense layers (Sect. 2.3)
            nn.Linear(n_in, cfg.classifier_hidden),
            nn.ReLU(),
            nn.Linear(cfg.classifier_hidden, cfg.classifier_hidden),
            nn.ReLU(),
            nn.Linear(cfg.classifier_hidden, cfg.n_classes),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) -> latent z = (X, Y), shape (B, 2d)."""
        check_images(x, self.config.in_channels, self.config.image_size)
        return self.encoder(x)

    def polar(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 1: z (..., 2d) -> (r2, phi), each (..., d).

        phi = atan2(y, x) lies in [-pi, pi]; -pi occurs only for y = -0.0 with x < 0.
        We return r^2, not r, because the square root's derivative is unstable near 0 (footnote 1).
        """
        x, y = z[..., : self.d], z[..., self.d :]
        return x.pow(2) + y.pow(2), torch.atan2(y, x)

    def from_polar(self, r: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`polar`: radii r (not r^2) and angles, each (..., d) -> z (..., 2d)."""
        return torch.cat([r * torch.cos(phi), r * torch.sin(phi)], dim=-1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, 2d) -> images (B, C, H, W) in [0, 1]. The decoder reads z, not (R, Phi) (Sect. 2.4)."""
        check_codes(z, 2 * self.config.d)
        return self.decoder(z)

    def classify(self, phi: torch.Tensor) -> torch.Tensor:
        """Angles (B, d) -> class logits (B, n_classes)."""
        if self.config.classifier_input == "cossin":
            phi = torch.cat([torch.cos(phi), torch.sin(phi)], dim=-1)  # (B, 2d)
        return self.classifier(phi)

    def forward(self, x: torch.Tensor) -> TorusAEOutput:
        z = self.encode(x)
        r2, phi = self.polar(z)
        return TorusAEOutput(self.decode(z), z, r2, phi, self.classify(phi))


# --------------------------------------------------------------------------- torus helpers


class PolarDecoder(nn.Module):
    """``v (N, 2d) -> images (N, 1, 28, 28)``, a slider's decoder: v = (angles, radii).

    The first d numbers are the angles Phi, the last d the radii R; the code is
    z = (R cos Phi, R sin Phi) (Sect. 2), decoded by ``model``.
    """

    def __init__(self, model: TorusAutoencoder) -> None:
        super().__init__()
        self.model = model

    @torch.no_grad()
    def forward(self, values: torch.Tensor) -> torch.Tensor:
        d = self.model.config.d
        values = values.float().to(next(self.model.parameters()).device)
        phi, r = values[:, :d], values[:, d:]  # (N, d) each
        return self.model.decode(self.model.from_polar(r, phi)).cpu()


def polar_decoder(model: TorusAutoencoder) -> PolarDecoder:
    """The slider decoder :class:`PolarDecoder` of ``model``."""
    return PolarDecoder(model)


def wrap_angle(phi: torch.Tensor) -> torch.Tensor:
    """Map angles to (-pi, pi] (pi stays pi; -pi becomes pi)."""
    wrapped = math.pi - torch.remainder(math.pi - phi, 2 * math.pi)
    # remainder can round up to exactly 2 pi for tiny negative inputs, which would give -pi
    return torch.where(wrapped <= -math.pi, wrapped + 2 * math.pi, wrapped)


def sample_torus_prior(
    n: int,
    d: int = 3,
    mu: float = 1.0,
    sigma: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Sample latents from the prior the losses aim for. Returns z of shape (n, 2d).

    The angles are uniform on (-pi, pi]^d and r^2 ~ N(mu, sigma) (clamped at 0), independently.
    Decode the result to generate images.
    """
    phi = wrap_angle(
        (torch.rand(n, d, generator=generator) * 2 - 1) * math.pi
    )  # (n, d)
    r = (
        (mu + sigma * torch.randn(n, d, generator=generator)).clamp_min(0).sqrt()
    )  # (n, d)
    return torch.cat([r * torch.cos(phi), r * torch.sin(phi)], dim=1)


# --------------------------------------------------------------------------- morphing (Sect. 4)


def path_shifts(phi_a: torch.Tensor, phi_b: torch.Tensor) -> torch.Tensor:
    """The k vectors of Eq. 6 for all 2^d paths. Returns shape (2^d, d), with entries in {-1, 0, 1}.

    Each angle has two segments from phi_a to phi_b. The direct one (k = 0) stays inside
    [-pi, pi]. The other one (k = +1 if phi_b <= phi_a, else k = -1) goes through the +-pi edge
    instead. Together the two cover the whole circle, so their lengths add up to 2 pi. If
    phi_a == phi_b, the second one is a full turn (k = +1). Path p uses the other segment in
    dimension i when bit (d-1-i) of p is set. So row 0 is plain linear interpolation of the angles,
    row 2^d - 1 crosses every edge, and dimension 0 is the most significant bit.
    """
    d = phi_a.shape[-1]
    p = torch.arange(2**d, device=phi_a.device)[:, None]  # (P, 1)
    bits = (p >> torch.arange(d - 1, -1, -1, device=phi_a.device)) & 1  # (P, d)
    k_other = torch.where(phi_b > phi_a, -1, 1)  # (d,)
    return bits * k_other  # (P, d)


def torus_paths(
    phi_a: torch.Tensor,
    phi_b: torch.Tensor,
    r_a: torch.Tensor,
    r_b: torch.Tensor,
    n_steps: int = 12,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multiple-path morphing, Eq. 6. All 2^d segments from (phi_a, r_a) to (phi_b, r_b).

    ``phi_a``, ``phi_b``, ``r_a`` and ``r_b`` have shape (d,). The r are radii (take ``r2.sqrt()``).
    Returns ``(phi, r)``, each of shape (2^d, n_steps, d), with t running over
    ``linspace(0, 1, n_steps)``:

        Phi(t) = (1 - t) Phi_a + t (Phi_b + 2 pi k),   R(t) = (1 - t) R_a + t R_b,

    where k is given by :func:`path_shifts`. The angles are wrapped to (-pi, pi]. Each path is a
    straight segment in the angle coordinates, i.e. a geodesic of the flat torus. The shortest
    one minimises ``|Phi_b + 2 pi k - Phi_a|``. To decode a path, use
    ``model.decode(model.from_polar(r, phi).view(-1, 2 * d))``.
    """
    k = path_shifts(phi_a, phi_b).to(phi_a.dtype)  # (P, d)
    t = torch.linspace(0, 1, n_steps, device=phi_a.device, dtype=phi_a.dtype)[
        None, :, None
    ]  # (1, T, 1)
    target = (phi_b + 2 * math.pi * k)[:, None, :]  # (P, 1, d)
    phi = wrap_angle((1 - t) * phi_a + t * target)  # (P, T, d)
    r = ((1 - t) * r_a + t * r_b).expand_as(phi)  # (P, T, d)
    return phi, r


@torch.no_grad()
def decode_paths(
    model: TorusAutoencoder,
    phi: torch.Tensor,
    r2: torch.Tensor,
    a: int,
    b: int,
    n_steps: int = 12,
) -> torch.Tensor:
    """Decoded images of all 2^d paths (Eq. 6) from code ``a`` to code ``b``.

    ``phi`` and ``r2`` (N, d): the angles and squared radii of N encoded images (e.g. the
    ``phi`` and ``r2`` of :func:`lib.toroidal.evaluate_torus_ae`). Returns
    (2^d * n_steps, C, H, W): path after path, in the order of :func:`path_shifts`.
    """
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, int) or not 0 <= value < len(phi):
            raise ParameterError(
                f"{name} must index one of the {len(phi)} codes, got {value!r}"
            )
    path_phi, path_r = torus_paths(phi[a], phi[b], r2[a].sqrt(), r2[b].sqrt(), n_steps)
    device = next(model.parameters()).device
    z = model.from_polar(path_r, path_phi).reshape(-1, 2 * phi.shape[-1])  # (P * T, 2d)
    return model.decode(z.to(device))


@torch.no_grad()
def interior_path_images(
    model: TorusAutoencoder,
    phi: torch.Tensor,
    r2: torch.Tensor,
    pairs,
    n_steps: int = 12,
) -> torch.Tensor:
    """The decoded interior points (0 < t < 1) of all 2^d paths between each pair of codes:
    (len(pairs) * 2^d * (n_steps - 2), C, H, W). ``pairs``: (a, b) index pairs into ``phi``."""
    parts = []
    for a, b in pairs:
        images = decode_paths(model, phi, r2, a, b, n_steps)
        images = images.view(-1, n_steps, *images.shape[1:])  # (2^d, T, C, H, W)
        parts.append(images[:, 1:-1].flatten(0, 1))
    return torch.cat(parts)


@torch.no_grad()
def interior_linear_images(
    decode, z: torch.Tensor, pairs, n_steps: int = 12
) -> torch.Tensor:
    """The decoded interior points (0 < t < 1) of the straight segment between each pair of
    codes ``z`` (N, k), for any ``decode`` (a plain autoencoder's, the usual interpolation):
    (len(pairs) * (n_steps - 2), C, H, W)."""
    t = torch.linspace(0, 1, n_steps, dtype=z.dtype, device=z.device)[1:-1, None]
    codes = torch.cat([(1 - t) * z[a] + t * z[b] for a, b in pairs])  # (P (T - 2), k)
    return decode(codes)


def path_labels(phi_a: torch.Tensor, phi_b: torch.Tensor) -> list[str]:
    """One label per path of :func:`torus_paths`: its shift k and its length on the torus."""
    labels = []
    for k in path_shifts(phi_a, phi_b).double():
        length = torch.linalg.norm(phi_b.double() + 2 * math.pi * k - phi_a.double())
        shift = ", ".join(f"{int(v):+d}" for v in k)
        labels.append(f"k=({shift}), length {length:.1f}")
    return labels


# --------------------------------------------------------------------------- the digit judge
# Several chapters ask whether an interpolation or a prior sample "stays on the data". The squared
# distance to the nearest training digit cannot answer that for faint or blurry images: an almost
# empty image is close, in squared error, to a thin "1". A classifier trained on real digits, and
# never on decoder outputs, gives a second opinion: its confidence (the largest softmax
# probability) is high on images that look like one digit and low on blobs and mixtures. Its
# accuracy on held-out digits says how far to trust it.
@dataclass
class DigitJudgeConfig(BaseConfig):
    channels: int = 16  # width of the first conv layer; the second has twice as many
    hidden: int = 64  # width of the dense layer before the 10 logits
    n_classes: int = 10

    def __post_init__(self) -> None:
        self.require_positive_ints("channels", "hidden", "n_classes")


@register_model
class DigitJudge(nn.Module):
    """2 x (conv 3x3, ReLU, max-pool 2), a dense layer and the class logits, for 28x28 images."""

    config_class = DigitJudgeConfig

    def __init__(self, config: DigitJudgeConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or DigitJudgeConfig()
        c = config.channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 2c, 7, 7)
            nn.Flatten(),
            nn.Linear(2 * c * 49, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.n_classes),  # (B, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @torch.no_grad()
    def confidence(self, images: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
        """The largest class probability of each image, shape (n,), on the CPU. 0.1 is chance, 1 is sure."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        parts = [
            torch.softmax(self(chunk.to(device)), dim=1).max(dim=1).values.cpu()
            for chunk in images.split(batch_size)
        ]
        self.train(was_training)
        return torch.cat(parts)
