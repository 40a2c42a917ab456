"""What chapter 04 checks: the scores the formulas predict for the hand-made codes, and the
verdict on Locatello et al.'s claim that the metrics agree over trained models.
"""

from __future__ import annotations

from dataclasses import dataclass


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
