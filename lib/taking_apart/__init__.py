"""*Taking Apart Autoencoders: How do They Encode Geometric Shapes?* — chapter 01's code.

A. Newson, A. Almansa, Y. Gousseau, S. Ladjal, 2018 (HAL hal-01676326).

- :mod:`~lib.taking_apart.model`: the disk autoencoder of Table 1 (:class:`DiskAutoencoder`);
- :mod:`~lib.taking_apart.losses`: the data term of Eq. 1 and the three regularisers of
  Section 3.2.4 (:func:`disk_ae_loss`);
- :mod:`~lib.taking_apart.theory`: the optimal radial profile of a bias-free decoder, in closed
  form (Airy functions, Appendix A) and numerically (:func:`airy_profile`);
- :mod:`~lib.taking_apart.runs`: the chapter's settings (:func:`get_config`), the run spec of
  one disk autoencoder (:class:`DiskRun`) and the one builder its recipes train through
  (:func:`build_run`);
- :mod:`~lib.taking_apart.recipes`: the training disks and the notebook's training recipes;
- :mod:`~lib.taking_apart.measure`: each image's code and reconstruction error
  (:func:`codes_and_errors`), the homogeneity test of Proposition 1
  (:func:`homogeneity_error`), the verdicts on the profile (:func:`profile_verdict`) and on
  the hole experiment (:func:`hole_verdict`), and its figure (:func:`in_out_figure`).

The data (centred disks) are :mod:`lib.data.disks`; the DCGAN-style baseline is
:class:`DCGANAutoencoder` (:mod:`lib.taking_apart.model`).
"""

from lib.taking_apart.losses import (
    DEFAULT_REG_WEIGHTS,
    REG_CHOICES,
    disk_ae_loss,
    locality_loss,
    pick_neighbours,
    reconstruction_loss,
    regulariser,
    weight_l2,
)
from lib.taking_apart.measure import (
    GROWTH_FROM,
    HOLE_GOAL,
    HOLE_VERDICT_RULE,
    PROFILE_GOAL,
    PROFILE_VERDICT_RULE,
    SETTLED_FRACTION,
    SETTLED_TOLERANCE,
    HoleResult,
    code_growth,
    codes_and_errors,
    format_hole_table,
    hole_errors,
    hole_summary,
    hole_verdict,
    homogeneity_error,
    in_out_figure,
    loss_settled,
    profile_distances,
    profile_verdict,
    shown_seed,
)
from lib.taking_apart.model import (
    CodeAutoencoder,
    DCGANAEConfig,
    DCGANAutoencoder,
    DiskAEConfig,
    DiskAutoencoder,
    DiskPanels,
    disk_panels,
)
from lib.taking_apart.recipes import (
    fit_disk_ae,
    fit_hole_models,
    get_config,
    initial_penalty_share,
    training_disks,
)
from lib.taking_apart.runs import DiskRun, TakingApartChapterConfig, build_run
from lib.taking_apart.theory import (
    airy_first_zero,
    airy_k,
    airy_profile,
    airy_profile_derivative,
    alternative_profiles,
    decoding_energy,
    optimal_amplitude,
    optimal_profile_numerical,
    profile_norm_sq,
)

__all__ = [
    "CodeAutoencoder",
    "DiskPanels",
    "DCGANAEConfig",
    "DCGANAutoencoder",
    "PROFILE_GOAL",
    "PROFILE_VERDICT_RULE",
    "profile_verdict",
    "profile_distances",
    "shown_seed",
    "alternative_profiles",
    "initial_penalty_share",
    "HOLE_GOAL",
    "HOLE_VERDICT_RULE",
    "SETTLED_FRACTION",
    "SETTLED_TOLERANCE",
    "hole_errors",
    "HoleResult",
    "GROWTH_FROM",
    "code_growth",
    "hole_summary",
    "format_hole_table",
    "hole_verdict",
    "homogeneity_error",
    "in_out_figure",
    "loss_settled",
    "fit_hole_models",
    "DEFAULT_REG_WEIGHTS",
    "REG_CHOICES",
    "DiskAEConfig",
    "DiskAutoencoder",
    "disk_panels",
    "TakingApartChapterConfig",
    "airy_first_zero",
    "airy_k",
    "airy_profile",
    "airy_profile_derivative",
    "codes_and_errors",
    "decoding_energy",
    "disk_ae_loss",
    "DiskRun",
    "build_run",
    "fit_disk_ae",
    "get_config",
    "locality_loss",
    "optimal_amplitude",
    "optimal_profile_numerical",
    "pick_neighbours",
    "profile_norm_sq",
    "reconstruction_loss",
    "regulariser",
    "training_disks",
    "weight_l2",
]
