"""Training and evaluation recipes shared by a chapter and its sweep script.

A recipe is the few lines that turn a model, data and loss weights into a trained model, or a
trained model into the chapter's numbers. The notebook calls them, and so does the script under
``experiments/`` that sweeps their settings. That way both report the same quantity, measured the
same way, without copying code between them.

- :func:`torus_trainer`, :func:`train_torus_ae` and :func:`evaluate_torus_ae`: chapter "The toroidal autoencoder"
  (Mikulski & Duda, arXiv:1903.12286). :func:`load_sweep` reads the record of its loss-weight sweep
  (``experiments/torus_sweep.py``), shipped beside the chapter's checkpoints as ``TORUS_SWEEP``.
- :func:`train_digit_judge`: trains :class:`~lib.models.digit_judge.DigitJudge`, the classifier that
  tells how digit-like a decoded image is.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from lib.losses.torus import TorusLossWeights, torus_ae_loss
from lib.models.digit_judge import DigitJudge
from lib.models.torus import TorusAEConfig, TorusAutoencoder, angle_ks_statistic, circular_correlation_matrix
from lib.notebook import PRETRAINED_DIR
from lib.trainer import TensorSampler, Trainer, TrainerConfig

TORUS_SWEEP = PRETRAINED_DIR / "torus" / "sweep.jsonl"
# The toroidal AE of chapter 02 and its sweep: narrower than TorusAEConfig's defaults so that full
# mode fits in 15 CPU minutes. One definition, so the sweep measures the network the chapter ships.
TORUS_CHAPTER_CONFIG = TorusAEConfig(d=3, channels=(16, 32, 32), hidden=128, classifier_hidden=64)


def torus_trainer(
    model: TorusAutoencoder,
    images: torch.Tensor,
    labels: torch.Tensor,
    weights: TorusLossWeights,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool | None = None,
) -> Trainer:
    """A :class:`~lib.trainer.Trainer` for ``model`` with :func:`~lib.losses.torus.torus_ae_loss` and Adam.

    Call ``.fit()`` to train (or ``.fit(n)`` to stop after n steps and go on later). ``images`` (N, 1, 28, 28) in [0, 1] and ``labels`` (N,) should already sit on the model's device.
    Minibatches are shuffled epoch by epoch with ``seed``. The trainer's ``history`` holds the
    total loss and every unweighted term, including those with weight 0.
    """
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"images and labels differ in length: {images.shape[0]} vs {labels.shape[0]}")

    def loss_fn(net: TorusAutoencoder, batch: tuple[torch.Tensor, torch.Tensor]):
        x, y = batch
        out = net(x)
        return torus_ae_loss(x, out.recon, out.r2, out.phi, out.logits, y, weights=weights)

    sampler = TensorSampler(images, labels, batch_size=batch_size, seed=seed)
    return Trainer(model, loss_fn, sampler, TrainerConfig(steps=steps, lr=lr, progress=progress))


def train_torus_ae(model: TorusAutoencoder, images: torch.Tensor, labels: torch.Tensor,
                   weights: TorusLossWeights, **options: Any) -> Trainer:
    """Train ``model`` in place (see :func:`torus_trainer` for the options) and return the Trainer."""
    trainer = torus_trainer(model, images, labels, weights, **options)
    trainer.fit()
    return trainer


@torch.no_grad()
def evaluate_torus_ae(model: TorusAutoencoder, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """The chapter's measurements of a trained model on held-out ``images`` (N, 1, 28, 28) and ``labels`` (N,).

    Returns a dict with the codes (``phi``, ``r2`` (N, d) and ``z`` (N, 2d), on the CPU), ``ks``: the
    Kolmogorov-Smirnov statistic of each angle against U(-pi, pi), shape (d,); ``mse`` (per pixel)
    and ``bce`` (nats per image) of the reconstructions; ``accuracy`` of the auxiliary classifier;
    ``corr``: the (d, d) matrix of circular correlations between angles.
    """
    was_training = model.training
    model.eval()
    out = model(images)
    model.train(was_training)
    return {
        "phi": out.phi.cpu(), "r2": out.r2.cpu(), "z": out.z.cpu(),
        "ks": angle_ks_statistic(out.phi),
        "mse": F.mse_loss(out.recon, images).item(),
        "bce": F.binary_cross_entropy(out.recon, images, reduction="sum").item() / len(images),
        "accuracy": (out.logits.argmax(1) == labels).float().mean().item(),
        "corr": circular_correlation_matrix(out.phi),
    }


def train_digit_judge(model: DigitJudge, images: torch.Tensor, labels: torch.Tensor, *, steps: int,
                      batch_size: int = 128, lr: float = 1e-3, seed: int = 0,
                      progress: bool | None = None) -> Trainer:
    """Train the digit classifier ``model`` in place with cross-entropy and Adam; return the Trainer.

    ``images`` (N, 1, 28, 28) and ``labels`` (N,) are real digits on the model's device.
    """
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"images and labels differ in length: {images.shape[0]} vs {labels.shape[0]}")

    def loss_fn(net: DigitJudge, batch: tuple[torch.Tensor, torch.Tensor]):
        x, y = batch
        logits = net(x)
        accuracy = (logits.argmax(1) == y).float().mean()
        return F.cross_entropy(logits, y), {"accuracy": accuracy}

    sampler = TensorSampler(images, labels, batch_size=batch_size, seed=seed)
    trainer = Trainer(model, loss_fn, sampler, TrainerConfig(steps=steps, lr=lr, progress=progress))
    trainer.fit()
    return trainer


def load_sweep(path: str | Path = TORUS_SWEEP, *, last_only: bool = True) -> list[dict[str, Any]]:
    """The rows of a sweep record (JSON lines, one per evaluation point of a run), in file order.

    With ``last_only`` (the default) only the last evaluation point of each run name is kept, at the
    position of the run's first row. A missing file raises FileNotFoundError with a hint; a line
    that is not JSON raises ValueError naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no sweep record at {path}; run experiments/torus_sweep.py to create one")
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number} is not a JSON line ({err.msg})") from None
    if not last_only:
        return rows
    last: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["step"] >= last.get(row["name"], {"step": -1})["step"]:
            last[row["name"]] = row
    return list(last.values())


def format_sweep(rows: list[dict[str, Any]]) -> str:
    """A plain-text table of sweep rows (from :func:`load_sweep`): settings, then validation numbers.

    Columns: run name, seed, the four loss weights, steps; KS of each angle on the validation digits
    and the largest of the three on the training digits; the largest absolute circular correlation
    between two angles; mean and std of r^2; MSE per pixel; classifier accuracy.
    """
    lines = [f"{'run':<18}{'seed':>4}{'spring':>7}{'quant.':>7}{'class.':>7}{'decor.':>7}{'steps':>6} | "
             f"{'val KS per angle':<18} | train max | max|corr| | r2 mean/std |  MSE   | acc"]
    for r in rows:
        val = r["val"]
        ks = " ".join(f"{v:.3f}" for v in val["ks"])
        corr = max(abs(c) for c in val["corr"])
        lines.append(f"{r['name']:<18}{r['seed']:>4}{r['spring']:>7g}{r['quantile']:>7g}{r['classifier']:>7g}"
                     f"{r['decorrelation']:>7g}{r['step']:>6} | {ks:<18} | {max(r['train']['ks']):9.3f} | {corr:9.2f} | "
                     f"{val['r2_mean']:.2f} / {val['r2_std']:.2f} | {val['mse']:.4f} | {val['accuracy']:.2f}")
    return "\n".join(lines)
