"""What chapter 02 measures on a trained torus autoencoder, and the verdict on the paper's claim.

:func:`evaluate_torus_ae` gives the codes, the uniformity of each angle (KS), the reconstruction
errors, the classifier's accuracy and the circular correlations; :func:`sweep_measures` rounds
them for a sweep record; :func:`ladder_fields` adds what a run of the budget ladder keeps (the
validation codes, the digit judge on the reconstructions, the objective's plateau);
:data:`TORUS_VERDICT_RULE` is the rule, written before the runs it judges, that
:func:`rung_verdict` applies to the seeds of one rung and :func:`headline_verdict` to the
ladder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lib.analysis import (
    TorusUniformity,
    angle_ks_statistic,
    circular_correlation_matrix,
    marginal_uniformity_tests,
    torus_uniformity_tests,
)
from lib.errors import ParameterError
from lib.toroidal.model import TorusAutoencoder


@torch.no_grad()
def evaluate_torus_ae(
    model: TorusAutoencoder, images: torch.Tensor, labels: torch.Tensor
) -> dict[str, Any]:
    """The chapter's measurements of a trained model on held-out ``images`` and ``labels``.

    ``images`` (N, 1, 28, 28), ``labels`` (N,). Returns a dict with the codes (``phi``, ``r2``
    (N, d) and ``z`` (N, 2d), on the CPU), ``ks``: the Kolmogorov-Smirnov statistic of each angle
    against U(-pi, pi), shape (d,); ``mse`` (per pixel) and ``bce`` (nats per image) of the
    reconstructions; ``accuracy`` of the auxiliary classifier; ``corr``: the (d, d) matrix of
    circular correlations between angles.
    """
    was_training = model.training
    model.eval()
    out = model(images)
    model.train(was_training)
    bce = F.binary_cross_entropy(out.recon, images, reduction="sum").item() / len(
        images
    )
    return {
        "phi": out.phi.cpu(),
        "r2": out.r2.cpu(),
        "z": out.z.cpu(),
        "ks": angle_ks_statistic(out.phi),
        "mse": F.mse_loss(out.recon, images).item(),
        "bce": bce,
        "accuracy": (out.logits.argmax(1) == labels).float().mean().item(),
        "corr": circular_correlation_matrix(out.phi),
    }


# --------------------------------------------------------------------------------------------
# The verdict on the paper's claim, over every seed of each rung of the budget ladder
# --------------------------------------------------------------------------------------------
ALPHA = 0.05  # family-wise level of each seed's tests
PLATEAU_TOLERANCE = 0.05  # the objective may fall at most this much over the last 40 %
JUDGE_FLOOR = (
    0.2  # the digit judge must name the digit of this share of reconstructions
)

TORUS_VERDICT_RULE = f"""\
The rule (written on 2026-12-07, before the 3-seed runs it judges were trained; it replaces a
rule of 2026-11 that judged one evaluation of one seed):
Each seed's 1,000 validation codes are tested at family-wise level alpha = {ALPHA}:
  marginal: Kuiper's test of each angle against the uniform law, alpha / 3 each (Bonferroni);
  joint: the family of lib.analysis.torus_uniformity_tests (Kuiper's test of each angle, of
    phi_a - phi_b and phi_a + phi_b for every pair, and a Fourier test of the modes that
    involve all three angles), alpha / 10 each.
  No statistic depends on where a circle is cut. A seed passes a part when no test rejects.
Each seed is adequate when (a) it was trained to its plateau: its training objective fell by
at most {PLATEAU_TOLERANCE:.0%} from the middle fifth of the run (steps 40-60 %) to the last fifth, and (b)
it still autoencodes: the shipped digit judge names the right digit for at least
{JUDGE_FLOOR:.0%} of its reconstructions of the validation digits (twice chance).
A rung of the budget ladder (3 seeds or more of the faithful setting at one number of steps):
  inconclusive   if a seed is not adequate (the budget is named), else
  reproduced     if every seed passes the marginal and the joint part,
  partly reproduced  if every seed passes the marginal part and fails the joint part,
  not reproduced if every seed fails the marginal part,
  inconclusive   otherwise (the seeds disagree).
The chapter's verdict is the one at the highest rung where every seed is adequate (the
highest rung, inconclusive, when there is none)."""

OUTCOMES = ("reproduced", "partly reproduced", "not reproduced", "inconclusive")


def objective_plateau(loss_history) -> dict[str, float]:
    """How much a run's training objective still fell near its end.

    ``loss_history``: the objective at every step (the trainer's ``history["loss"]``).
    Returns the means over the middle fifth (steps 40-60 %) and the last fifth (80-100 %) and
    ``fall = (middle - end) / |middle|``: about 0 at a plateau, large while training still
    pays.
    """
    values = np.asarray([float(v) for v in loss_history], dtype=np.float64)
    if values.ndim != 1 or len(values) < 10:
        raise ParameterError(
            f"loss_history needs the objective of at least 10 steps, got {len(values)}"
        )
    if not np.isfinite(values).all():
        raise ParameterError("loss_history holds non-finite values")
    n = len(values)
    middle = float(values[int(0.4 * n) : int(0.6 * n)].mean())
    end = float(values[int(0.8 * n) :].mean())
    return {"middle": middle, "end": end, "fall": (middle - end) / abs(middle)}


@torch.no_grad()
def ladder_fields(
    model: TorusAutoencoder,
    judge: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    loss_history,
) -> dict[str, Any]:
    """What a run of the budget ladder records for one seed, beyond :func:`sweep_measures`.

    The validation codes (``val_phi``: the n x d angles, rounded to 1e-5 rad), so that every
    test of the rule can be run on them later; the digit judge's accuracy on the digits and
    on the model's reconstructions; and :func:`objective_plateau` of ``loss_history``.
    """
    was_training = model.training
    model.eval()
    out = model(images)
    model.train(was_training)
    judge_on = lambda x: (judge(x).argmax(1) == labels).float().mean().item()  # noqa: E731
    return {
        "val_phi": np.round(out.phi.double().cpu().numpy(), 5).tolist(),
        "judge_accuracy": round(judge_on(images), 4),
        "judge_accuracy_recon": round(judge_on(out.recon), 4),
        "objective": {
            k: round(v, 5) for k, v in objective_plateau(loss_history).items()
        },
    }


@dataclass(frozen=True)
class TorusSeedResult:
    """One seed of one rung, judged by :data:`TORUS_VERDICT_RULE`."""

    seed: int
    steps: int
    marginal: TorusUniformity
    joint: TorusUniformity
    objective_fall: float
    judge_accuracy_recon: float
    device: str = ""
    largest_corr: float = float(
        "nan"
    )  # the largest |circular correlation| of two angles

    @property
    def converged(self) -> bool:
        return self.objective_fall <= PLATEAU_TOLERANCE

    @property
    def autoencodes(self) -> bool:
        return self.judge_accuracy_recon >= JUDGE_FLOOR

    @property
    def adequate(self) -> bool:
        return self.converged and self.autoencodes

    @property
    def marginal_pass(self) -> bool:
        return self.marginal.uniform

    @property
    def joint_pass(self) -> bool:
        return self.joint.uniform


def seed_result(row: dict[str, Any], alpha: float = ALPHA) -> TorusSeedResult:
    """A ladder record's row (``experiments/reproduce.py torus``) judged by the rule."""
    missing = [
        key
        for key in ("seed", "steps", "val_phi", "objective", "judge_accuracy_recon")
        if key not in row
    ]
    if missing:
        raise ParameterError(
            f"a ladder row needs {missing} (a row of {row.get('run')})"
        )
    phi = np.asarray(row["val_phi"], dtype=np.float64)
    corr = np.abs(circular_correlation_matrix(phi))
    return TorusSeedResult(
        seed=int(row["seed"]),
        steps=int(row["steps"]),
        marginal=marginal_uniformity_tests(phi, alpha),
        joint=torus_uniformity_tests(phi, alpha),
        objective_fall=float(row["objective"]["fall"]),
        judge_accuracy_recon=float(row["judge_accuracy_recon"]),
        largest_corr=float(corr[~np.eye(len(corr), dtype=bool)].max()),
        device=str(row.get("gpu") or row.get("device", "")).replace("cpu", "CPU")
        + (
            f" ({row['threads']} thread{'s' if row['threads'] != 1 else ''})"
            if "threads" in row and "gpu" not in row
            else ""
        ),
    )


@dataclass(frozen=True)
class TorusRungVerdict:
    """The rule applied to every seed of one rung: its outcome and why."""

    steps: int
    seeds: tuple[TorusSeedResult, ...]
    outcome: str
    reason: str

    @property
    def adequate(self) -> bool:
        return all(s.adequate for s in self.seeds)


MIN_SEEDS = 3


def rung_verdict(results) -> TorusRungVerdict:
    """:data:`TORUS_VERDICT_RULE` on the seeds of one rung (``TorusSeedResult`` s, >= 3)."""
    results = tuple(results)
    if len(results) < MIN_SEEDS or not all(
        isinstance(r, TorusSeedResult) for r in results
    ):
        raise ParameterError(
            f"a rung needs at least {MIN_SEEDS} TorusSeedResult s, got {len(results)}"
        )
    steps = {r.steps for r in results}
    if len(steps) != 1:
        raise ParameterError(
            f"the seeds of a rung share one budget, got {sorted(steps)}"
        )
    if len({r.seed for r in results}) != len(results):
        raise ParameterError("a rung lists a seed twice")
    (budget,) = steps
    not_adequate = [r for r in results if not r.adequate]
    if not_adequate:
        why = []
        for r in not_adequate:
            parts = []
            if not r.converged:
                parts.append(f"objective still falling {r.objective_fall:.0%}")
            if not r.autoencodes:
                parts.append(f"judge on reconstructions {r.judge_accuracy_recon:.0%}")
            why.append(f"seed {r.seed} ({', '.join(parts)})")
        return TorusRungVerdict(
            budget,
            results,
            "inconclusive",
            f"under-trained at {budget:,} steps: " + "; ".join(why),
        )
    marginal = [r.marginal_pass for r in results]
    joint = [r.joint_pass for r in results]
    count = f"{len(results)} seeds"
    if all(marginal) and all(joint):
        return TorusRungVerdict(
            budget, results, "reproduced", f"all {count} pass both parts"
        )
    if all(marginal) and not any(joint):
        return TorusRungVerdict(
            budget,
            results,
            "partly reproduced",
            f"all {count} pass the marginal part and fail the joint part",
        )
    if not any(marginal):
        return TorusRungVerdict(
            budget, results, "not reproduced", f"all {count} fail the marginal part"
        )
    return TorusRungVerdict(
        budget,
        results,
        "inconclusive",
        f"the seeds disagree: {sum(marginal)} of {count} pass the marginal part, "
        f"{sum(joint)} the joint part",
    )


def ladder_verdicts(rows, alpha: float = ALPHA) -> list[TorusRungVerdict]:
    """Every rung of a ladder record, lowest budget first (rows grouped by ``steps``)."""
    by_steps: dict[int, list[TorusSeedResult]] = {}
    for row in rows:
        result = seed_result(row, alpha)
        by_steps.setdefault(result.steps, []).append(result)
    return [rung_verdict(by_steps[s]) for s in sorted(by_steps)]


def headline_verdict(rungs) -> TorusRungVerdict:
    """The rung the chapter's verdict rests on: the highest one whose seeds are all
    adequate, else the highest one (whose outcome is then inconclusive)."""
    rungs = sorted(rungs, key=lambda r: r.steps)
    if not rungs:
        raise ParameterError("no rung to judge")
    adequate = [r for r in rungs if r.adequate]
    return (adequate or rungs)[-1]


def format_ladder(rungs) -> str:
    """The per-seed table of every rung: adequacy (the objective's fall over the last 40 %
    and the digit judge on the reconstructions), the largest |circular correlation| of two
    angles, the smallest p-value of each part and whether the part passes."""
    lines = [
        f"{'steps':>7} {'seed':>4} {'device':<18} {'objective':>9} {'judge':>6} "
        f"{'adequate':>8} {'max|corr|':>9} | {'marginal p':>10} {'pass':>4} | "
        f"{'joint p':>8} {'pass':>4}",
        f"{'':>7} {'':>4} {'':<18} {'fall':>9} {'':>6} {'':>8} {'':>9} |",
    ]
    for rung in rungs:
        for r in rung.seeds:
            lines.append(
                f"{r.steps:>7,} {r.seed:>4} {r.device[:18]:<18} {r.objective_fall:>9.1%} "
                f"{r.judge_accuracy_recon:>6.0%} {'yes' if r.adequate else 'no':>8} "
                f"{r.largest_corr:>9.3f} | "
                f"{r.marginal.worst().p_value:>10.1e} {'yes' if r.marginal_pass else 'no':>4}"
                f" | {r.joint.worst().p_value:>8.1e} {'yes' if r.joint_pass else 'no':>4}"
            )
        lines.append(f"{'':>7} => {rung.outcome}: {rung.reason}")
    return "\n".join(lines)


ANGLE_PAIRS = ((0, 1), (0, 2), (1, 2))


def sweep_measures(
    model: TorusAutoencoder, images: torch.Tensor, labels: torch.Tensor
) -> dict[str, Any]:
    """The numbers a sweep row keeps for one data split, rounded for a readable record."""
    ev = evaluate_torus_ae(model, images, labels)
    corr = ev["corr"]
    return {
        "ks": [round(float(v), 4) for v in ev["ks"]],
        "corr": [round(float(corr[a, b]), 3) for a, b in ANGLE_PAIRS],
        "r2_mean": round(ev["r2"].mean().item(), 4),
        "r2_std": round(ev["r2"].std().item(), 4),
        "mse": round(ev["mse"], 5),
        "accuracy": round(ev["accuracy"], 4),
    }


def format_evaluation(name: str, ev: dict[str, Any]) -> str:
    """One line of :func:`evaluate_torus_ae`'s numbers: KS per angle, r^2, errors, accuracy."""
    ks = ", ".join(f"{v:.3f}" for v in ev["ks"])
    r2 = ev["r2"]
    per_dim = ", ".join(f"{m:.2f}/{s:.2f}" for m, s in zip(r2.mean(0), r2.std(0)))
    return (
        f"{name:>16} | KS per angle [{ks}] | r^2 mean {r2.mean():.3f}, std "
        f"{r2.std():.3f} (per angle {per_dim}) | MSE {ev['mse']:.4f}, BCE "
        f"{ev['bce']:.1f} | classifier {100 * ev['accuracy']:.0f} %"
    )


def plot_ladder(rungs):
    """Each seed's smallest p-value of the marginal and of the joint part, rung by rung,
    against the level a test must clear; hollow markers: seeds that are not adequate."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    floor = 1e-12  # p-values below it are drawn on it (they are 0 to machine precision)
    parts = (
        ("marginal", "marginal part (Kuiper, each angle)"),
        ("joint", "joint part"),
    )
    for ax, (part, title) in zip(axes, parts, strict=True):
        for i, rung in enumerate(sorted(rungs, key=lambda r: r.steps)):
            for j, r in enumerate(rung.seeds):
                family = getattr(r, part)
                p = max(family.worst().p_value, floor)
                ax.scatter(
                    i + (j - (len(rung.seeds) - 1) / 2) * 0.08,
                    p,
                    marker="o",
                    s=30,
                    facecolors=f"C{j}" if r.adequate else "none",
                    edgecolors=f"C{j}",
                    label=f"seed {r.seed}" if i == 0 else None,
                )
                level = family.worst().level
            ax.hlines(level, i - 0.3, i + 0.3, colors="k", lw=1)
        ax.axhline(floor, color="0.75", ls=":", lw=1)
        ax.text(-0.45, floor * 1.8, "p < 1e-12 drawn here", fontsize=7, color="0.4")
        ax.set_yscale("log")
        ax.set_ylim(floor / 3, 2)
        ax.set_xlim(-0.5, len(rungs) - 0.5)
        ax.set_xticks(
            range(len(rungs)),
            [
                f"{r.steps:,} steps\n{r.outcome}"
                for r in sorted(rungs, key=lambda r: r.steps)
            ],
            fontsize=8,
        )
        ax.set_title(title, fontsize=9)
    axes[0].set_ylabel("smallest p-value of the part\n(black: the level it must clear)")
    axes[1].legend(
        fontsize=7,
        title="filled: adequate\nhollow: not adequate",
        title_fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    fig.tight_layout()
    return fig


def format_on_data(distances: dict[str, Any], confidences: dict[str, Any]) -> str:
    """A table of how close sets of images lie to the data: for each named set, the median
    and 90th percentile of the distance to the nearest training digit
    (:func:`lib.analysis.nearest_distance`), the digit judge's median confidence and the
    share of images it is less than 90 % sure of."""
    lines = [
        f"{'':>24}  nearest-training-digit MSE     judge confidence",
        f"{'':>24}  median   90th percentile      median   share < 0.9",
    ]
    for name, dist in distances.items():
        conf = confidences[name]
        lines.append(
            f"{name:>24}  {dist.median():.4f}   {dist.quantile(0.9):.4f}               "
            f"{conf.median():.3f}    {(conf < 0.9).float().mean():.2f}    "
            f"({len(dist)} images)"
        )
    return "\n".join(lines)
