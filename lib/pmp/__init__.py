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
  subspace encodes; every metric of a trained model with the adequacy check
  (:func:`evaluate_pmp_model`), the verdict rule and the ablation's conclusion;
- :mod:`~lib.pmp.theory`: the sum-to-product argument on small tensors (L_spar per
  coordinate, descent on L_spar alone);
- :mod:`~lib.pmp.recipes`: the chapter's settings (:func:`get_config`), pair streams and
  training;
- :mod:`~lib.pmp.record`: the seeds x models record, the loss ablation and the GPU ladder, as
  tables.

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
    check_pair_batch,
    consistency_loss,
    distance_loss,
    distribution_loss,
    draw_hybrids,
    gaussian_kl,
    loss_ramps,
    projector_distances,
    scale_free_sparsity_loss,
    shared_mask,
    sparsity_loss,
    swap_hybrids,
)
from lib.pmp.measure import (
    N_PROBE,
    VERDICT_RULE,
    AdequacyRule,
    SubspaceDecoder,
    SupportOverlap,
    ablation_conclusion,
    adequacy_report,
    claim_verdict,
    compare_means,
    evaluate_pmp_model,
    principal_coordinates,
    probe_images,
    probe_report,
    product_residual,
    reconstruction_bce,
    subspace_decoder,
    subspace_factor_information,
    support_matrix,
    support_overlap,
    support_report,
    support_shares,
)
from lib.pmp.model import (
    ABLATION_KINDS,
    ALL_KINDS,
    KIND_LABELS,
    MODEL_KINDS,
    AdaGVAE,
    AdaGVAEConfig,
    GaussianPosterior,
    PMPAutoencoder,
    PMPConfig,
    PMPOutput,
    Projectors,
    check_kind,
)
from lib.pmp.recipes import (
    PairStream,
    PMPChapterConfig,
    SupportRecorder,
    checkpoint_name,
    fit_pmp_model,
    get_config,
    new_model,
    pair_batches,
    pmp_objective,
    pmp_trainer,
    scaled_trainer,
)
from lib.pmp.record import (
    DEVICE_CHECK_RECORD,
    GRID_RECORD,
    H200_RECORD,
    ablation_findings,
    ablation_table,
    format_ablation,
    format_adequacy,
    format_grid,
    grid_table,
    load_grid,
)
from lib.pmp.theory import (
    SparsityDescent,
    descend_sparsity,
    own_term_gradient,
    sparsity_by_coordinate,
)

__all__ = [
    "SubspaceDecoder",
    "check_pair_batch",
    "check_kind",
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
    "N_PROBE",
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
    "PairStream",
    "scaled_trainer",
    "draw_hybrids",
    "adagvae_loss",
    "average_shared",
    "checkpoint_name",
    "consistency_loss",
    "distance_loss",
    "distribution_loss",
    "evaluate_pmp_model",
    "fit_pmp_model",
    "format_grid",
    "gaussian_kl",
    "get_config",
    "grid_table",
    "load_grid",
    "loss_ramps",
    "pmp_trainer",
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
