"""Losses of *Taking Apart Autoencoders* (Newson, Almansa, Gousseau, Ladjal, 2018).

Training minimises the data term of Eq. 1, sum_x ||x - D(E(x))||_2^2, plus lambda psi, where
Section 3.2.4 ("Regularisation", Fig. 6) defines three regularisers:

- Type 1, locality preservation: psi(x, x') = (||x - x'||_2^2 - ||E(x) - E(x')||_2^2)^2, with x' "a
  neighbour of each element in the training batch", "randomly selected";
- Type 2: psi = sum_l ||w_l||^2 + ||w'_l||^2, l2 on the encoder *and* decoder filters;
- Type 3: psi = sum_l ||w_l||^2, l2 on the *encoder* filters only (the one that works in Fig. 6).

The paper's numbering is used here (the authors' later code numbers them differently; see the
notes). The paper gives no lambda: the defaults in :data:`DEFAULT_REG_WEIGHTS` are this book's
choices. With the default reduction (per-image sum of squares) lambda psi is 0.2-2 % of the data
term at initialisation (~1e3) and of the order of 10 % of a trained data term (~10-50); re-tune
them if you change the reduction.
"""

from __future__ import annotations

import torch
from torch import nn

REG_CHOICES = ("none", "type1", "type2", "type3")
# Choices, not from the paper. At init the data term is ~1e3 (mean disk area in pixels),
# psi_1 ~ 2e6 (squared pixel distances, squared), psi_2 ~ 35 and psi_3 ~ 18 (Glorot kernels).
DEFAULT_REG_WEIGHTS = {"type1": 1e-5, "type2": 0.1, "type3": 0.1}


def reconstruction_loss(
    recon: torch.Tensor, x: torch.Tensor, reduction: str = "sum_per_image"
) -> torch.Tensor:
    """Data term of Eq. 1, ||x - D(E(x))||_2^2.

    ``reduction="sum_per_image"`` (default): squared error summed over the pixels of each image
    and averaged over the batch, i.e. Eq. 1 divided by the batch size, in the units of psi.
    ``"mean"``: mean over pixels too (the usual MSE; 1/(H W) times smaller).
    """
    if recon.shape != x.shape:
        raise ValueError(
            f"recon and x must have the same shape, got {tuple(recon.shape)} and {tuple(x.shape)}"
        )
    sq = (recon - x).pow(2)
    if reduction == "sum_per_image":
        return sq.flatten(1).sum(1).mean()
    if reduction == "mean":
        return sq.mean()
    raise ValueError(f"reduction must be 'sum_per_image' or 'mean', got {reduction!r}")


def weight_l2(module: nn.Module) -> torch.Tensor:
    """sum of squared filter weights ||w||^2 over the conv / linear kernels of ``module``.

    Only tensors named ``weight`` with >= 2 dims count (the paper's w, w'): biases and batch-norm
    scales are not penalised.
    """
    terms = [
        p.pow(2).sum()
        for name, p in module.named_parameters()
        if name.rsplit(".", 1)[-1] == "weight" and p.dim() >= 2
    ]
    if not terms:
        return torch.zeros(())
    return torch.stack(terms).sum()


def pick_neighbours(
    x: torch.Tensor, neighbour: str = "random", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Index of a neighbour x' for every element of the batch; (B,) long, never the element itself.

    ``"random"`` (default, the paper's "randomly selecting a neighbour of each element in the
    training batch"): a random cyclic pairing, partner[perm[i]] = perm[i + 1 mod B].
    ``"nearest"``: the nearest other element in pixel l2 distance (a reading of "neighbour" that
    the paper's discussion of Fig. 6 suggests; offered for comparison).
    """
    b = x.shape[0]
    if b < 2:
        raise ValueError("locality regularisation needs a batch of at least 2 images")
    if neighbour == "random":
        perm = torch.randperm(b, generator=generator)  # CPU, seeded
        partner = torch.empty_like(perm)
        partner[perm] = perm.roll(-1)
        return partner.to(x.device)
    if neighbour == "nearest":
        flat = x.detach().flatten(1)  # (B, H*W)
        d = torch.cdist(flat, flat)  # (B, B)
        d.fill_diagonal_(float("inf"))
        return d.argmin(1)
    raise ValueError(f"neighbour must be 'random' or 'nearest', got {neighbour!r}")


def locality_loss(
    x: torch.Tensor, z: torch.Tensor, partner: torch.Tensor
) -> torch.Tensor:
    """Type 1 regulariser, mean over the batch of (||x - x'||^2 - ||E(x) - E(x')||^2)^2.

    ``z`` = E(x), (B, d); ``partner`` (B,) indexes x' in the batch (see :func:`pick_neighbours`).
    Gradients flow through z only; the image distances are data.
    """
    dx = (x - x[partner]).flatten(1).pow(2).sum(1).detach()  # (B,)
    dz = (z - z[partner]).flatten(1).pow(2).sum(1)  # (B,)
    return (dx - dz).pow(2).mean()


def regulariser(
    model: nn.Module,
    reg: str,
    x: torch.Tensor | None = None,
    z: torch.Tensor | None = None,
    neighbour: str = "random",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """psi of Section 3.2.4 for ``reg`` in ``"none" | "type1" | "type2" | "type3"``.

    ``model`` must have ``encoder`` and ``decoder`` sub-modules; type 1 needs the batch ``x`` and
    its codes ``z``.
    """
    if reg == "none":
        return torch.zeros((), device=z.device if z is not None else None)
    if reg == "type1":
        if x is None or z is None:
            raise ValueError("reg='type1' needs the batch x and its codes z")
        return locality_loss(x, z, pick_neighbours(x, neighbour, generator))
    if reg == "type2":
        return weight_l2(model.encoder) + weight_l2(model.decoder)
    if reg == "type3":
        return weight_l2(model.encoder)
    raise ValueError(f"reg must be one of {REG_CHOICES}, got {reg!r}")


def disk_ae_loss(
    model: nn.Module,
    batch: tuple[torch.Tensor, torch.Tensor] | torch.Tensor,
    reg: str = "none",
    weight: float | None = None,
    neighbour: str = "random",
    generator: torch.Generator | None = None,
    reduction: str = "sum_per_image",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Training loss: data term (Eq. 1) + ``weight`` * psi (Section 3.2.4); returns (loss, parts).

    ``batch`` is ``(images, radii)`` as made by :func:`lib.data.disks.make_disks` (radii are not
    used by the loss) or a bare image tensor. ``model(x)`` must return ``(recon, z)``. ``weight``
    defaults to :data:`DEFAULT_REG_WEIGHTS` [reg] (a choice; the paper gives none). ``parts`` holds
    detached scalars: ``recon``, ``reg`` (psi, unweighted), ``loss``, and ``z_abs_mean`` (mean |z|,
    to watch the code drift that Type 2 causes).
    """
    if reg not in REG_CHOICES:
        raise ValueError(f"reg must be one of {REG_CHOICES}, got {reg!r}")
    x = batch[0] if isinstance(batch, (tuple, list)) else batch
    recon, z = model(x)
    data = reconstruction_loss(recon, x, reduction)
    psi = regulariser(model, reg, x, z, neighbour, generator).to(data.device)
    lam = (
        0.0
        if reg == "none"
        else float(DEFAULT_REG_WEIGHTS[reg] if weight is None else weight)
    )
    if lam < 0:
        raise ValueError(f"weight must be non-negative, got {weight!r}")
    loss = data + lam * psi
    parts = {
        "recon": data.detach(),
        "reg": psi.detach(),
        "z_abs_mean": z.detach().abs().mean(),
    }
    return loss, parts
