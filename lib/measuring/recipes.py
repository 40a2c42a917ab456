"""Chapter "Measuring disentanglement": settings, hand-made codes, a plain dSprites autoencoder.

:func:`get_config` states the sample sizes of every metric and the autoencoder's budget; the
reference sizes (disentanglement_lib: 10,000 train / 5,000 test points and votes) cost minutes
per code on a CPU, so the chapter states smaller ones and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from lib.config import check_field_types
from lib.data.dsprites import DSprites, FactorGrid
from lib.metrics import MetricSizes
from lib.nets import Conv64AEConfig, Conv64Autoencoder, bce_ae_loss
from lib.notebook import RunSettings, train_or_load
from lib.trainer import Trainer, TrainerConfig

HAND_MADE = ("true factors", "rotated", "duplicated", "merged", "noise")


@dataclass(frozen=True)
class MeasuringChapterConfig:
    """Everything chapter 04 fixes (the reference sizes are 10,000 / 5,000)."""

    sizes: MetricSizes = field(default_factory=MetricSizes)
    quick_sizes: MetricSizes = field(
        default_factory=lambda: MetricSizes(150, 100, 100, 50, 16)
    )
    model: Conv64AEConfig = field(default_factory=lambda: Conv64AEConfig(code_size=10))
    steps: int = 4000  # about 2.5 minutes on two CPU cores
    quick_steps: int = 10
    batch_size: int = 64
    lr: float = 5e-4  # Adam, the PMP authors' rate for the same network

    def __post_init__(self) -> None:
        check_field_types(self)


def get_config() -> MeasuringChapterConfig:
    """The chapter's settings (minGPT's ``get_config``)."""
    return MeasuringChapterConfig()


# --------------------------------------------------------------------------------------------
# hand-made codes
# --------------------------------------------------------------------------------------------
class FactorObservations(FactorGrid):
    """A data set whose "image" is the factor vector itself (float (n, n_factors)).

    With it, a hand-made code is an ``encode`` function of the factors, and the metrics that
    sample their own batches (FactorVAE, BetaVAE) score it like any encoder.
    """

    def __init__(self, base: FactorGrid) -> None:
        self.factor_names = base.factor_names
        self.factor_sizes = base.factor_sizes

    def render(self, factors: np.ndarray) -> np.ndarray:
        return np.asarray(factors, dtype=np.float64)


def hand_made_codes(
    factor_sizes: tuple[int, ...], seed: int = 0
) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Encoders of factor vectors whose scores a reader can predict (:data:`HAND_MADE`).

    - true factors: each factor scaled to [0, 1], one code per factor;
    - rotated: the same codes mixed by a random rotation (every code sees every factor);
    - duplicated: the true codes twice (10 codes, each factor in two of them);
    - merged: shape and scale share one code (shape * 6 + scale, a bijective merge), the rest
      as the true codes;
    - noise: standard normal codes that ignore the factors (seeded by the input).
    """
    sizes = np.asarray(factor_sizes, dtype=np.float64)
    n = len(sizes)
    rotation, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))

    def true(f: np.ndarray) -> np.ndarray:
        return np.asarray(f, dtype=np.float64) / (sizes - 1)

    def merged(f: np.ndarray) -> np.ndarray:
        t = true(f)
        first_two = (f[:, 0] * factor_sizes[1] + f[:, 1]) / (sizes[0] * sizes[1] - 1)
        return np.column_stack([first_two, t[:, 2:]])

    def noise(f: np.ndarray) -> np.ndarray:
        local = np.random.default_rng([seed, len(f), int(np.asarray(f).sum())])
        return local.normal(size=(len(f), n))

    return {
        "true factors": true,
        "rotated": lambda f: (true(f) - 0.5) @ rotation,
        "duplicated": lambda f: np.hstack([true(f), true(f)]),
        "merged": merged,
        "noise": noise,
    }


# --------------------------------------------------------------------------------------------
# a plain autoencoder on dSprites
# --------------------------------------------------------------------------------------------
def dsprites_batches(
    data: DSprites, batch_size: int, seed: int = 0, device: str | torch.device = "cpu"
) -> Callable[[int], torch.Tensor]:
    """A fresh batch of procedural dSprites every step (seed ``seed``, step)."""

    def batch(step: int) -> torch.Tensor:
        rng = np.random.default_rng([seed, step])
        images = data.render(data.sample_factors(batch_size, rng))
        return torch.from_numpy(images).to(device)

    return batch


def fit_dsprites_ae(
    settings: RunSettings, data: DSprites
) -> tuple[Conv64Autoencoder, dict[str, list[float]]]:
    """The chapter's plain autoencoder, trained with BCE on fresh dSprites or loaded
    (``measuring/dsprites_ae``)."""
    chapter = get_config()
    steps = settings.pick(full=chapter.steps, quick=chapter.quick_steps)
    torch.manual_seed(settings.seed)
    model = Conv64Autoencoder(chapter.model).to(settings.device)

    def train_fn(net: Conv64Autoencoder) -> Trainer:
        batches = dsprites_batches(
            data, chapter.batch_size, settings.seed, settings.device
        )
        config = TrainerConfig(steps=steps, lr=chapter.lr)
        trainer = Trainer(net, bce_ae_loss, batches, config)
        trainer.fit()
        return trainer

    meta = {"steps": steps, "batch_size": chapter.batch_size, "lr": chapter.lr}
    history = train_or_load(
        settings, "measuring/dsprites_ae", model, train_fn, meta=meta
    )
    return model, history


# --------------------------------------------------------------------------------------------
# what the formulas say the hand-made codes should score
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """A range [low, high] a metric should land in on one hand-made code, and why."""

    code: str
    metric: str
    low: float
    high: float
    reason: str

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


_p = Prediction  # a short name for the table below


HIGH = 0.95  # "perfect up to estimation noise"
PREDICTIONS = (
    # the true factors: every metric near 1, except where the estimator compresses the scale
    _p(
        "true factors",
        "MIG",
        0.7,
        0.95,
        "20 bins merge the 32-40 values of position and "
        "orientation, and MIG divides by the full entropy",
    ),
    _p("true factors", "DCI D", HIGH, 1, "each code matters for one factor"),
    _p("true factors", "DCI C", HIGH, 1, "each factor lives in one code"),
    _p("true factors", "DCI I", HIGH, 1, "the codes determine the factors"),
    _p(
        "true factors",
        "SAP",
        0,
        0.4,
        "a linear SVM on one code cannot separate 32-40 "
        "ordered classes, so every code predicts position badly and the gaps are small",
    ),
    _p(
        "true factors",
        "SAP (continuous)",
        0.9,
        1,
        "one code explains each factor linearly, the others not at all",
    ),
    _p("true factors", "modularity", HIGH, 1, "each code carries one factor"),
    _p(
        "true factors",
        "explicitness",
        0.85,
        1,
        "a logistic regression reads the factors, "
        "up to the middle classes of an ordered factor on one axis",
    ),
    _p(
        "true factors",
        "FactorVAE",
        HIGH,
        1,
        "fixing a factor zeroes its own code's variance",
    ),
    _p(
        "true factors", "BetaVAE", HIGH, 1, "the fixed factor's code difference is zero"
    ),
    # a random rotation: arrangement gone, information kept
    _p("rotated", "MIG", 0, 0.5, "every code knows every factor a little: no gap"),
    _p("rotated", "DCI D", 0, 0.5, "every code matters for several factors"),
    _p("rotated", "DCI C", 0, 0.5, "every factor is spread over several codes"),
    _p(
        "rotated",
        "DCI I",
        0.2,
        0.9,
        "axis-aligned trees read rotated factors less well",
    ),
    _p(
        "rotated",
        "SAP",
        0,
        0.3,
        "no single code predicts a factor much better than another",
    ),
    _p("rotated", "SAP (continuous)", 0, 0.5, "the same, with a linear fit per code"),
    _p(
        "rotated",
        "explicitness",
        0.85,
        1,
        "a linear read-out of all codes undoes a rotation",
    ),
    # the true codes twice
    _p(
        "duplicated",
        "MIG",
        0,
        0.05,
        "the two best codes are equally good: the gap is 0",
    ),
    _p("duplicated", "DCI D", HIGH, 1, "each code still matters for one factor"),
    _p(
        "duplicated",
        "DCI C",
        0.65,
        0.75,
        "each factor split evenly over 2 of 10 codes: 1 - ln 2 / ln 10 = 0.70",
    ),
    _p("duplicated", "SAP", 0, 0.05, "the two best codes tie"),
    _p("duplicated", "SAP (continuous)", 0, 0.05, "the two best codes tie"),
    _p(
        "duplicated",
        "FactorVAE",
        HIGH,
        1,
        "the vote goes to either copy, each mapped to the right factor",
    ),
    # shape and scale in one code
    _p(
        "merged",
        "MIG",
        0.7,
        0.95,
        "the merged code is the best code for both factors, by "
        "a wide gap, as the true code was",
    ),
    _p("merged", "DCI D", 0.5, 0.95, "one of four codes matters for two factors"),
    _p("merged", "DCI C", HIGH, 1, "each factor still lives in one code"),
    _p(
        "merged",
        "FactorVAE",
        0.7,
        0.9,
        "the majority vote maps the merged code to one of "
        "its two factors; the other's votes are lost (about 4/5)",
    ),
    # noise
    _p("noise", "MIG", 0, 0.05, "no code knows any factor"),
    _p("noise", "DCI D", 0, 0.1, "importances spread evenly"),
    _p(
        "noise",
        "DCI I",
        0,
        0.3,
        "chance accuracy, averaged over factors of 3 to 40 values",
    ),
    _p(
        "noise",
        "modularity",
        0.5,
        0.9,
        "the plug-in MI of noise is biased upwards, more for "
        "factors of more values, so each code's largest MI stands out: a floor well above 0",
    ),
    _p("noise", "explicitness", 0.45, 0.55, "an AUC at chance is 0.5"),
    _p("noise", "FactorVAE", 0.1, 0.3, "one of five factors guessed: about 1/5"),
    _p("noise", "BetaVAE", 0.1, 0.3, "one of five factors guessed: about 1/5"),
)


def check_predictions(
    scores: dict[str, dict[str, float]],
    predictions: tuple[Prediction, ...] = PREDICTIONS,
) -> list[tuple[Prediction, float, bool]]:
    """Each prediction with the measured value and whether it holds.

    ``scores``: ``{code: {metric: value}}``, as the chapter's table. A prediction whose code or
    metric was not measured is an error (a silent skip would hide a broken prediction).
    """
    results = []
    for p in predictions:
        if p.code not in scores or p.metric not in scores[p.code]:
            raise KeyError(f"no measured {p.metric} for the {p.code} code")
        value = float(scores[p.code][p.metric])
        results.append((p, value, p.holds(value)))
    return results


def format_predictions(results: list[tuple[Prediction, float, bool]]) -> str:
    lines = [f"{'code':<13}{'metric':<18}{'predicted':>13}{'measured':>10}  holds"]
    for p, value, ok in results:
        lines.append(
            f"{p.code:<13}{p.metric:<18}{f'{p.low:.2f}-{p.high:.2f}':>13}{value:>10.3f}  "
            f"{'yes' if ok else 'NO'}"
        )
    broken = sum(not ok for _, _, ok in results)
    lines.append(f"{broken} of {len(results)} predictions broken")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# the chapter's claim: Locatello et al. 2019, the metrics agree over trained models
# --------------------------------------------------------------------------------------------
AGREEING = ("BetaVAE", "FactorVAE", "MIG", "DCI D", "SAP")  # Locatello et al.'s Fig. 2
MIN_MODELS = 10
AGREEMENT_RULE = (
    "Locatello et al. 2019 (Sect. 5.2, Fig. 2): over trained models the metrics agree,\n"
    "except modularity. On the book's trained dSprites models, with Spearman's rho over\n"
    f"the models: with fewer than {MIN_MODELS} models, inconclusive; else reproduced when the\n"
    f"median rho over the pairs of {', '.join(AGREEING)} is >= 0.5 and\n"
    "modularity's median rho with them is lower; not reproduced when that median is < 0.2;\n"
    "partly reproduced otherwise."
)


def agreement_verdict(agreement) -> tuple[str, float, float]:
    """:data:`AGREEMENT_RULE` on a :class:`lib.metrics.RankAgreement`: (verdict, the median
    rho among the agreeing metrics, modularity's median rho with them)."""
    within = agreement.median_between(AGREEING)
    modularity = agreement.median_between(("modularity",), AGREEING)
    if agreement.n_models < MIN_MODELS:
        return "inconclusive", within, modularity
    if within >= 0.5 and modularity < within:
        return "reproduced", within, modularity
    if within < 0.2:
        return "not reproduced", within, modularity
    return "partly reproduced", within, modularity
