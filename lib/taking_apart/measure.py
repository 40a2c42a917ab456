"""What chapter 01 measures on a trained disk autoencoder, and the verdict on its claim.

:func:`codes_and_errors` gives each image's code and reconstruction error;
:data:`PROFILE_VERDICT_RULE`, applied by :func:`profile_verdict`, judges the trained bias-free
decoder's radial profile against the Airy profile (:mod:`lib.taking_apart.theory`).
"""

from __future__ import annotations

import torch
from torch import nn

from lib.analysis import per_image_sse


@torch.no_grad()
def codes_and_errors(
    model: nn.Module, images: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Codes z (n,), per-image squared reconstruction errors (n,) and reconstructions, on the CPU.

    ``model(images)`` must return ``(recon, z)`` with a one-dimensional code.
    """
    recon, z = model(images)
    return z[:, 0].cpu(), per_image_sse(recon, images).cpu(), recon.cpu()


PROFILE_GOAL = 0.1  # relative L2 error of the trained profile against the Airy profile
PROFILE_VERDICT_RULE = (
    "The claim (a bias-free decoder's radial profile is the Airy solution of Appendix A) is\n"
    "reproduced when the relative L2 error between the trained decoder's radial profile,\n"
    f"rescaled by its least-squares factor, and the closed form is below {PROFILE_GOAL};\n"
    "not reproduced otherwise."
)


def profile_verdict(error: float, goal: float = PROFILE_GOAL) -> str:
    """:data:`PROFILE_VERDICT_RULE` applied to the relative L2 ``error`` of the profile."""
    if not (isinstance(error, (int, float)) and 0 <= error < float("inf")):
        raise ValueError(f"error must be a finite number >= 0, got {error!r}")
    return "reproduced" if error < goal else "not reproduced"
