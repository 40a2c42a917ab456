"""Networks that several chapters use, and that belong to none of the four papers.

- :class:`WarmupAutoencoder`: the introduction's small convolutional autoencoder for 28x28 digits,
  with a 2-d code a reader can see whole and steer with two sliders; :func:`train_warmup_ae`.
- :class:`DigitJudge`: a digit classifier used as a measuring instrument (how digit-like is a
  decoded image?); :func:`train_digit_judge`.
- :class:`CodeAutoencoder`: the encode / decode / forward plumbing of an autoencoder whose
  encoder ends in a (B, d, 1, 1) code.
- :class:`Conv64Autoencoder` (with :class:`Conv64Encoder`, :class:`Conv64Decoder`): the 64x64
  network of the disentanglement literature (disentanglement_lib, PMP); :func:`bce_ae_loss`,
  :func:`encode_images` (an encoder as the metrics take it), :func:`image_decoder` (a logits
  decoder as the sliders take it).
- :class:`DCGANAutoencoder`: a DCGAN-style convolutional autoencoder (Radford et al. 2016) of the
  kind iGAN (Zhu et al. 2016) uses, the plain convolutional baseline of the disk chapter.

Every config is a :class:`~lib.config.BaseConfig`; every model is registered for
:func:`lib.checkpoint.load_pretrained`; every training loss follows the book's convention
``loss(model, batch) -> (total, parts)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lib.checkpoint import register_model
from lib.config import BaseConfig
from lib.errors import check_codes, check_images
from lib.trainer import TensorSampler, Trainer, TrainerConfig


# --------------------------------------------------------------------------------------------
# the introduction's warm-up autoencoder
# --------------------------------------------------------------------------------------------
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


def warmup_loss(
    model: WarmupAutoencoder, batch: torch.Tensor
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Binary cross-entropy per pixel: digits are nearly binary, and BCE trains faster than MSE here.

    ``batch`` is the images (B, 1, 28, 28). The total is the only term, so ``parts`` is empty.
    """
    recon, _ = model(batch)
    return F.binary_cross_entropy(recon, batch), {}


def train_warmup_ae(
    model: WarmupAutoencoder,
    images: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    progress: bool | None = None,
) -> Trainer:
    """Train ``model`` in place on ``images`` (N, 1, 28, 28) with :func:`warmup_loss` and Adam.

    Minibatches are shuffled epoch by epoch with ``seed``. Returns the Trainer (history, summary).
    """
    sampler = TensorSampler(images, batch_size=batch_size, seed=seed)
    config = TrainerConfig(steps=steps, lr=lr, progress=progress)
    trainer = Trainer(model, warmup_loss, sampler, config)
    trainer.fit()
    return trainer


# --------------------------------------------------------------------------------------------
# the digit judge
# --------------------------------------------------------------------------------------------
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


def judge_loss(
    model: DigitJudge, batch: tuple[torch.Tensor, torch.Tensor]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Cross-entropy of the class logits; ``parts`` reports the batch accuracy."""
    x, y = batch
    logits = model(x)
    accuracy = (logits.argmax(1) == y).float().mean()
    return F.cross_entropy(logits, y), {"accuracy": accuracy}


def train_digit_judge(
    model: DigitJudge,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool | None = None,
) -> Trainer:
    """Train the digit classifier ``model`` in place with cross-entropy and Adam; return the Trainer.

    ``images`` (N, 1, 28, 28) and ``labels`` (N,) are real digits on the model's device.
    """
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"images and labels differ in length: {images.shape[0]} vs {labels.shape[0]}"
        )
    sampler = TensorSampler(images, labels, batch_size=batch_size, seed=seed)
    config = TrainerConfig(steps=steps, lr=lr, progress=progress)
    trainer = Trainer(model, judge_loss, sampler, config)
    trainer.fit()
    return trainer


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
    return loss, {"bce": loss.detach()}


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
