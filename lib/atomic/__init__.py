"""*Disentangled latent representations of images with atomic autoencoders* — chapter 03's code.

A. Newson, Y. Traonmilin, SAMPTA 2023 (supplementary material; authors' code
github.com/alasdairnewson/atomic_ae).

- :mod:`~lib.atomic.model`: the atomic autoencoder of Table I, f_D(z) = sum_i g(z_i)
  (:class:`AtomicAutoencoder`);
- :mod:`~lib.atomic.losses`: its loss, the mean squared reconstruction error
  (:func:`atomic_ae_loss`);
- :mod:`~lib.atomic.measure`: atoms matched to spikes, coordinate correlations, what the
  reconstructions draw, the filling latent set (Lemma I.1, with the ideal atomic autoencoder
  as baseline) and the cross pairing of Proposition II.2, as numbers; the verdict rule;
- :mod:`~lib.atomic.runs`: the chapter's settings (:func:`get_config`), the run spec of one
  atomic autoencoder (:class:`AtomicRun`, :func:`spike_run`) and the one builder every driver
  trains through (:func:`build_run`);
- :mod:`~lib.atomic.recipes`: data streams, the notebook's training recipes and the
  spike-grid trial;
- :mod:`~lib.atomic.record`: the record of the authors' image size and spike width trained on
  a GPU, and its verdict.

The data (spikes, crosses, upsampled MNIST) are :mod:`lib.data.spikes` and :mod:`lib.data.mnist`.
"""

from lib.atomic.losses import atomic_ae_loss
from lib.atomic.measure import (
    ATOMIC_VERDICT_RULE,
    DRAWN_CODE_STEPS,
    DRAWN_GOAL,
    DRAWN_IMAGES,
    ENERGY_LEFT_GOAL,
    OUTCOMES,
    PARAM_NAMES,
    PART_NEEDS,
    PART_OUTCOMES,
    R2_GOAL,
    RHO_GOAL,
    VERDICT_PARTS,
    AtomicVerdict,
    BracketedRadius,
    CoordinateReport,
    FillingCurve,
    IdealAtomicAutoencoder,
    PairingReport,
    atom_centroids,
    atomic_claim_verdict,
    block_predictability,
    bracketed_filling_radius,
    coordinate_correlations,
    cross_pairing,
    decode_along_direction,
    decoder_fitted_codes,
    encode_decode_atoms,
    filling_curve,
    filling_radius,
    format_filling_radii,
    match_atoms,
    model_device,
    radius_order,
    reconstruction_correlations,
)
from lib.atomic.model import (
    AtomicAEConfig,
    AtomicAutoencoder,
    AtomicOutput,
    BlockDecoder,
    BlockSlider,
    block_decoder,
)
from lib.atomic.recipes import (
    FILLING_MODELS,
    block_slider_ranges,
    cross_batches,
    cross_test_set,
    fit_atomic_ae,
    fit_filling_models,
    get_config,
    mnist_batches,
    reconstruction_mse,
    seeded_name,
    spike_measures,
    spike_test_set,
    spike_trial,
)
from lib.atomic.record import ATOMIC_GPU_RECORD, load_spike_record, record_verdict
from lib.atomic.runs import (
    AUTHORS_SPIKES,
    SPIKE_SETTINGS,
    AtomicChapterConfig,
    AtomicRun,
    build_run,
    new_atomic_ae,
    spike_batches,
    spike_run,
    spike_settings,
    stream_offset,
)
from lib.data.spikes import CrossesSpec  # the crosses' settings, beside SpikeSpec

__all__ = [
    "AUTHORS_SPIKES",
    "SPIKE_SETTINGS",
    "AtomicRun",
    "spike_run",
    "spike_settings",
    "stream_offset",
    "BlockSlider",
    "block_predictability",
    "ATOMIC_GPU_RECORD",
    "ATOMIC_VERDICT_RULE",
    "DRAWN_GOAL",
    "DRAWN_CODE_STEPS",
    "DRAWN_IMAGES",
    "decoder_fitted_codes",
    "ENERGY_LEFT_GOAL",
    "OUTCOMES",
    "PART_NEEDS",
    "PART_OUTCOMES",
    "R2_GOAL",
    "RHO_GOAL",
    "VERDICT_PARTS",
    "AtomicVerdict",
    "atomic_claim_verdict",
    "load_spike_record",
    "format_filling_radii",
    "radius_order",
    "record_verdict",
    "PARAM_NAMES",
    "AtomicAEConfig",
    "AtomicAutoencoder",
    "AtomicChapterConfig",
    "AtomicOutput",
    "BlockDecoder",
    "block_decoder",
    "block_slider_ranges",
    "CoordinateReport",
    "CrossesSpec",
    "FillingCurve",
    "IdealAtomicAutoencoder",
    "PairingReport",
    "atom_centroids",
    "atomic_ae_loss",
    "build_run",
    "coordinate_correlations",
    "cross_batches",
    "cross_pairing",
    "cross_test_set",
    "decode_along_direction",
    "encode_decode_atoms",
    "BracketedRadius",
    "bracketed_filling_radius",
    "filling_curve",
    "filling_radius",
    "fit_atomic_ae",
    "fit_filling_models",
    "FILLING_MODELS",
    "seeded_name",
    "get_config",
    "match_atoms",
    "model_device",
    "reconstruction_correlations",
    "mnist_batches",
    "new_atomic_ae",
    "reconstruction_mse",
    "spike_batches",
    "spike_measures",
    "spike_test_set",
    "spike_trial",
]
