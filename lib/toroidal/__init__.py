"""*Toroidal AutoEncoder* — chapter 02's code.

M. Mikulski, J. Duda, "Toroidal AutoEncoder", arXiv:1903.12286, 2019.

- :mod:`~lib.toroidal.model`: the autoencoder whose latent angles live on a d-torus
  (:class:`TorusAutoencoder`, Sect. 2), the torus prior, multiple-path morphing (Eq. 6), and
  the digit judge (:class:`DigitJudge`, a classifier the chapter measures decoded images with);
- :mod:`~lib.toroidal.losses`: the circular spring loss (Eq. 2), the quantile loss (Eqs. 3-5),
  the full objective, a decorrelation term beyond the paper, and the judge's loss;
- :mod:`~lib.toroidal.runs`: the chapter's settings (:func:`get_config`), the run spec of one
  autoencoder (:class:`TorusRun`) and the one builder every driver trains through
  (:func:`build_run`);
- :mod:`~lib.toroidal.recipes`: the notebook's training recipes and the sweep trial;
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
    ALPHA,
    OUTCOMES,
    TORUS_VERDICT_RULE,
    TorusRungVerdict,
    TorusSeedResult,
    evaluate_torus_ae,
    format_evaluation,
    format_ladder,
    format_on_data,
    headline_verdict,
    ladder_fields,
    ladder_verdicts,
    objective_plateau,
    plot_ladder,
    rung_verdict,
    seed_result,
    sweep_measures,
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
    decode_paths,
    interior_linear_images,
    interior_path_images,
    path_labels,
    path_shifts,
    polar_decoder,
    sample_torus_prior,
    torus_paths,
    wrap_angle,
)
from lib.toroidal.recipes import (
    fit_digit_judge,
    fit_torus_ae,
    get_config,
    sweep_trial,
)
from lib.toroidal.record import (
    TORUS_GPU_RECORD,
    TORUS_LADDER,
    TORUS_SWEEP,
    format_sweep,
    gpu_findings,
    largest_correlation,
    load_ladder,
    load_sweep,
    plot_budget_curve,
    sweep_findings,
    worst_ks,
)
from lib.toroidal.runs import (
    SWEEP_SETTINGS,
    DigitJudgeRun,
    ToroidalChapterConfig,
    TorusRun,
    build_run,
    new_torus_ae,
    spec_from_sweep,
    sweep_point,
    sweep_settings,
)

__all__ = [
    "SWEEP_SETTINGS",
    "DigitJudgeRun",
    "TorusRun",
    "build_run",
    "spec_from_sweep",
    "sweep_point",
    "sweep_settings",
    "ALPHA",
    "PolarDecoder",
    "Decoder",
    "DigitJudge",
    "DigitJudgeConfig",
    "judge_loss",
    "Encoder",
    "OUTCOMES",
    "TAU",
    "TORUS_GPU_RECORD",
    "TORUS_LADDER",
    "TORUS_SWEEP",
    "TORUS_VERDICT_RULE",
    "ToroidalChapterConfig",
    "TorusAEConfig",
    "TorusRungVerdict",
    "TorusSeedResult",
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
    "ladder_fields",
    "ladder_verdicts",
    "load_ladder",
    "objective_plateau",
    "rung_verdict",
    "seed_result",
    "headline_verdict",
    "format_ladder",
    "format_evaluation",
    "format_on_data",
    "plot_ladder",
    "gpu_findings",
    "largest_correlation",
    "plot_budget_curve",
    "sweep_findings",
    "worst_ks",
    "decode_paths",
    "interior_linear_images",
    "interior_path_images",
    "path_labels",
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
    "torus_paths",
    "wrap_angle",
]
