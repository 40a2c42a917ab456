"""DCI: ours against disentanglement_lib's estimator, side by side in one run.

    python bench/dci_speed.py                        # 10,000 train / 5,000 test points
    python bench/dci_speed.py --n-train 2000 --n-test 1000 --json out.json

The input imitates an encoder on dSprites: 5 integer factors with sizes (3, 6, 40, 32,
32) (shape, scale, orientation, x, y) and 10 codes that are noisy, partly mixed
functions of them (x and y, scale mixed with shape, cos and sin of the orientation, x −
y, an indicator of one shape, a product of x and scale, and two codes of pure noise).

The reference is disentanglement_lib's ``compute_importance_gbt`` (Locatello et al.
2019), re-written here from its description: for each factor one
``sklearn.ensemble.GradientBoostingClassifier()`` with default settings (unseeded), the
importance matrix from ``feature_importances_`` and the accuracies from ``predict``, one
factor after the other. Ours: ``lib.metrics.dci`` (the same classifier, seeded, the
factors fitted in parallel processes). Prints a Markdown table of seconds
and of the largest absolute difference of D, C and informativeness (train, test) to the
reference; ``--json`` saves the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

from lib.metrics import (
    completeness_from_importance,
    dci,
    disentanglement_from_importance,
)

FACTOR_SIZES = (3, 6, 40, 32, 32)
KEYS = (
    "disentanglement",
    "completeness",
    "informativeness_train",
    "informativeness_test",
)


def make_codes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(codes (n, 10) float, factors (n, 5) int) of a dSprites-like encoder."""
    f = np.stack([rng.integers(s, size=n) for s in FACTOR_SIZES], axis=1)
    u = f / (np.array(FACTOR_SIZES) - 1.0)  # each factor scaled to [0, 1]
    angle = 2 * np.pi * f[:, 2] / FACTOR_SIZES[2]

    def noise(scale=0.1):
        return scale * rng.standard_normal(n)

    codes = np.stack(
        [
            u[:, 3] + noise(0.05),
            u[:, 4] + noise(0.05),
            0.7 * u[:, 1] + 0.3 * u[:, 0] + noise(),
            np.cos(angle) + noise(),
            np.sin(angle) + noise(),
            0.5 * (u[:, 3] - u[:, 4]) + noise(),
            (f[:, 0] == 1) + noise(0.3),
            np.tanh(3 * (u[:, 3] - 0.5)) * u[:, 1] + noise(),
            noise(1.0),
            noise(0.01),
        ],
        axis=1,
    )
    return codes, f


def reference_dci(x_train, y_train, x_test, y_test) -> dict[str, float]:
    """disentanglement_lib's estimator: default GBT per factor, in a loop."""
    importance = np.zeros((x_train.shape[1], y_train.shape[1]))
    acc_train, acc_test = [], []
    for j in range(y_train.shape[1]):
        model = GradientBoostingClassifier()
        model.fit(x_train, y_train[:, j])
        importance[:, j] = np.abs(model.feature_importances_)
        acc_train.append(np.mean(model.predict(x_train) == y_train[:, j]))
        acc_test.append(np.mean(model.predict(x_test) == y_test[:, j]))
    return {
        "disentanglement": disentanglement_from_importance(importance),
        "completeness": completeness_from_importance(importance),
        "informativeness_train": float(np.mean(acc_train)),
        "informativeness_test": float(np.mean(acc_test)),
    }


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-test", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    data = (*make_codes(args.n_train, rng), *make_codes(args.n_test, rng))
    runs = {}
    runs["reference (GBT, serial)"] = timed(reference_dci, *data)
    runs["ours (seeded, parallel)"] = timed(dci, *data, seed=0)

    ref = runs["reference (GBT, serial)"][0]
    rows = []
    for name, (scores, seconds) in runs.items():
        diff = {k: abs(scores[k] - ref[k]) for k in KEYS}
        rows.append({"name": name, "seconds": seconds, "scores": scores, "diff": diff})

    print(
        f"DCI on {args.n_train} train / {args.n_test} test points, factors "
        f"{FACTOR_SIZES}, 10 codes; {os.cpu_count()} cores, {platform.processor()}"
    )
    print()
    print("| estimator | seconds | D | C | I train | I test | max abs diff to ref |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        s = r["scores"]
        vals = " | ".join(f"{s[k]:.4f}" for k in KEYS)
        worst = max(r["diff"].values())
        print(f"| {r['name']} | {r['seconds']:.1f} | {vals} | {worst:.4f} |")
    print()
    print("| estimator | ΔD | ΔC | ΔI train | ΔI test |")
    print("|---|---:|---:|---:|---:|")
    for r in rows[1:]:
        print(
            f"| {r['name']} | " + " | ".join(f"{r['diff'][k]:.4f}" for k in KEYS) + " |"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
