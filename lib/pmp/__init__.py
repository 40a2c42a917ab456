"""*Learning disentangled representations via product manifold projection* — chapter 05's code.

M. Fumero, L. Cosmo, S. Melzi, E. Rodolà, ICML 2021 (supplementary material; authors' code
github.com/marc0git/PMPdisentanglement @ accd80f).

- :mod:`~lib.pmp.model`: :class:`PMPAutoencoder` (conv64 encoder f, k projectors P_i, their
  sum, conv64 decoder g) and the baseline :class:`AdaGVAE` (Locatello et al. 2020) on the same
  networks;
- :mod:`~lib.pmp.losses`: :func:`sparsity_loss` (supplementary Eq. 1), the distance,
  consistency and distribution terms, the two-phase ramps (:func:`loss_ramps`),
  :class:`PMPObjective`, and :func:`adagvae_loss`;
- :mod:`~lib.pmp.measure`: support matrix, overlap, the sum-to-product residual, what each
  subspace encodes;
- :mod:`~lib.pmp.theory`: the sum-to-product argument on small tensors (L_spar per
  coordinate, descent on L_spar alone);
- :mod:`~lib.pmp.recipes`: the chapter's settings (:func:`get_config`), pair streams, training
  and evaluation (with the adequacy check), the seeds x models record, the loss ablation and
  the verdict rule.

The data (procedural dSprites, weakly supervised pairs) are :mod:`lib.data.dsprites`; the
metrics are :mod:`lib.metrics`.
"""

from lib.pmp.losses import (
    LossRamps,
    PairBatch,
    PMPLossWeights,
    PMPObjective,
    adagvae_loss,
    average_shared,
    consistency_loss,
    distance_loss,
    distribution_loss,
    gaussian_kl,
    loss_ramps,
    projector_distances,
    scale_free_sparsity_loss,
    shared_mask,
    sparsity_loss,
    swap_hybrids,
)
from lib.pmp.measure import (
    SupportOverlap,
    principal_coordinates,
    product_residual,
    subspace_decoder,
    subspace_factor_information,
    support_matrix,
    support_overlap,
    support_shares,
)
from lib.pmp.model import (
    AdaGVAE,
    AdaGVAEConfig,
    GaussianPosterior,
    PMPAutoencoder,
    PMPConfig,
    PMPOutput,
    Projectors,
)
from lib.pmp.recipes import (
    ABLATION_KINDS,
    ALL_KINDS,
    DEVICE_CHECK_RECORD,
    GRID_RECORD,
    H200_RECORD,
    KIND_LABELS,
    MODEL_KINDS,
    VERDICT_RULE,
    AdequacyRule,
    PMPChapterConfig,
    SupportRecorder,
    ablation_conclusion,
    ablation_findings,
    ablation_table,
    adequacy_report,
    checkpoint_name,
    claim_verdict,
    compare_means,
    evaluate_model,
    fit_model,
    format_ablation,
    format_adequacy,
    format_grid,
    get_config,
    grid_table,
    load_grid,
    make_trainer,
    new_model,
    pair_batches,
    pmp_objective,
    probe_images,
    probe_report,
    reconstruction_bce,
    support_report,
)
from lib.pmp.theory import (
    SparsityDescent,
    descend_sparsity,
    own_term_gradient,
    sparsity_by_coordinate,
)

__all__ = [
    "ABLATION_KINDS",
    "ALL_KINDS",
    "GRID_RECORD",
    "DEVICE_CHECK_RECORD",
    "H200_RECORD",
    "KIND_LABELS",
    "VERDICT_RULE",
    "AdequacyRule",
    "ablation_conclusion",
    "ablation_findings",
    "ablation_table",
    "adequacy_report",
    "claim_verdict",
    "compare_means",
    "format_ablation",
    "format_adequacy",
    "probe_report",
    "reconstruction_bce",
    "MODEL_KINDS",
    "AdaGVAE",
    "AdaGVAEConfig",
    "GaussianPosterior",
    "LossRamps",
    "PMPAutoencoder",
    "PMPChapterConfig",
    "PMPConfig",
    "PMPLossWeights",
    "PMPObjective",
    "PMPOutput",
    "PairBatch",
    "Projectors",
    "SupportOverlap",
    "SparsityDescent",
    "SupportRecorder",
    "adagvae_loss",
    "average_shared",
    "checkpoint_name",
    "consistency_loss",
    "distance_loss",
    "distribution_loss",
    "evaluate_model",
    "fit_model",
    "format_grid",
    "gaussian_kl",
    "get_config",
    "grid_table",
    "load_grid",
    "loss_ramps",
    "make_trainer",
    "new_model",
    "pair_batches",
    "pmp_objective",
    "principal_coordinates",
    "probe_images",
    "product_residual",
    "projector_distances",
    "scale_free_sparsity_loss",
    "shared_mask",
    "descend_sparsity",
    "own_term_gradient",
    "sparsity_by_coordinate",
    "sparsity_loss",
    "subspace_decoder",
    "subspace_factor_information",
    "support_matrix",
    "support_overlap",
    "support_report",
    "support_shares",
    "swap_hybrids",
]
