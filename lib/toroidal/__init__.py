"""*Toroidal AutoEncoder* — chapter 02's code.

M. Mikulski, J. Duda, "Toroidal AutoEncoder", arXiv:1903.12286, 2019.

- :mod:`~lib.toroidal.model`: the autoencoder whose latent angles live on a d-torus
  (:class:`TorusAutoencoder`, Sect. 2), the torus prior, multiple-path morphing (Eq. 6), and
  the digit judge (:class:`DigitJudge`, a classifier the chapter measures decoded images with);
- :mod:`~lib.toroidal.losses`: the circular spring loss (Eq. 2), the quantile loss (Eqs. 3-5),
  the full objective, a decorrelation term beyond the paper, and the judge's loss;
- :mod:`~lib.toroidal.recipes`: the chapter's settings (:func:`get_config`) and training recipes;
- :mod:`~lib.toroidal.measure`: the measurements of a trained model and the verdict rule;
- :mod:`~lib.toroidal.record`: the records of the loss-weight sweep behind the chapter's weights
  and of the GPU runs.

The circular statistics of the angles (KS against the uniform law, circular correlation) are
the shared :mod:`lib.analysis`.
"""

from lib.toroidal.losses import (
    TAU,
    TorusLossWeights,
    decorrelation_loss,
    judge_loss,
    normal_quantiles,
    quantile_loss,
    spring_loss,
    torus_ae_loss,
    torus_objective,
)
from lib.toroidal.measure import (
    KS_GOAL,
    TORUS_VERDICT_RULE,
    evaluate_torus_ae,
    marginal_uniformity,
    sweep_measures,
    torus_claim_verdict,
)
from lib.toroidal.model import (
    Decoder,
    DigitJudge,
    DigitJudgeConfig,
    Encoder,
    PolarDecoder,
    TorusAEConfig,
    TorusAEOutput,
    TorusAutoencoder,
    path_shifts,
    polar_decoder,
    sample_torus_prior,
    torus_paths,
    wrap_angle,
)
from lib.toroidal.recipes import (
    ToroidalChapterConfig,
    fit_digit_judge,
    fit_torus_ae,
    get_config,
    new_torus_ae,
    sweep_trial,
    torus_trainer,
    train_digit_judge,
    train_torus_ae,
)
from lib.toroidal.record import TORUS_GPU_RECORD, TORUS_SWEEP, format_sweep, load_sweep

__all__ = [
    "PolarDecoder",
    "Decoder",
    "DigitJudge",
    "DigitJudgeConfig",
    "judge_loss",
    "train_digit_judge",
    "Encoder",
    "KS_GOAL",
    "TAU",
    "TORUS_GPU_RECORD",
    "TORUS_SWEEP",
    "TORUS_VERDICT_RULE",
    "ToroidalChapterConfig",
    "TorusAEConfig",
    "TorusAEOutput",
    "TorusAutoencoder",
    "TorusLossWeights",
    "decorrelation_loss",
    "evaluate_torus_ae",
    "fit_digit_judge",
    "fit_torus_ae",
    "format_sweep",
    "get_config",
    "load_sweep",
    "marginal_uniformity",
    "new_torus_ae",
    "sweep_trial",
    "normal_quantiles",
    "path_shifts",
    "polar_decoder",
    "quantile_loss",
    "sample_torus_prior",
    "spring_loss",
    "sweep_measures",
    "torus_ae_loss",
    "torus_objective",
    "torus_claim_verdict",
    "torus_paths",
    "torus_trainer",
    "train_torus_ae",
    "wrap_angle",
]
