"""Do the metrics agree over a set of trained models? (Locatello et al. 2019, Sect. 5.2, Fig. 2)

Locatello et al. scored more than 12,000 trained models with every metric and found that all
of them except modularity appear correlated (Spearman rank correlation over the models), to a
degree that changes between data sets. :func:`rank_agreement` measures the same on any set of
models whose scores were recorded.

Checked at the door (a :class:`lib.errors.ParameterError` naming the argument): ``metrics``
a list of at least two distinct names (not a string), ``scores`` a list of at least three
mappings, each with a finite real score (not a bool) for every metric, and no metric
constant over the models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from lib.errors import ParameterError, is_real


@dataclass(frozen=True)
class RankAgreement:
    """Spearman's rank correlation between every two metrics over ``n_models`` models."""

    metrics: tuple[str, ...]
    rho: np.ndarray  # (M, M), symmetric, 1 on the diagonal
    n_models: int

    def _index(self, name: str) -> int:
        if name not in self.metrics:
            raise ParameterError(
                f"unknown metric {name!r}: this table has {list(self.metrics)}"
            )
        return self.metrics.index(name)

    def pair(self, a: str, b: str) -> float:
        """Spearman's rho between metrics ``a`` and ``b``."""
        return float(self.rho[self._index(a), self._index(b)])

    def median_between(
        self, group: Sequence[str], other: Sequence[str] | None = None
    ) -> float:
        """The median rho over the pairs within ``group`` (``other`` None) or between them."""
        if other is None:
            pairs = [(a, b) for i, a in enumerate(group) for b in group[i + 1 :]]
        else:
            pairs = [(a, b) for a in group for b in other if a != b]
        if not pairs:
            raise ParameterError(
                "no pair of metrics to take the median over: give a group of at least "
                "two metrics, or another group"
            )
        return float(np.median([self.pair(a, b) for a, b in pairs]))

    def format(self) -> str:
        width = max(max(len(m) for m in self.metrics) + 2, 7)
        lines = [" " * width + "".join(f"{m:>{width}}" for m in self.metrics)]
        for i, m in enumerate(self.metrics):
            lines.append(
                f"{m:>{width}}" + "".join(f"{v:>{width}.2f}" for v in self.rho[i])
            )
        return "\n".join(lines)


def rank_agreement(
    scores: Sequence[Mapping[str, float]], metrics: Sequence[str]
) -> RankAgreement:
    """Spearman's rho between every two of ``metrics`` over the models of ``scores`` (one
    mapping metric -> score per model). A metric constant over the models has no rank order,
    which is an error here, not a NaN in the table."""
    if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Sequence):
        raise ParameterError(
            f"metrics must be a list of metric names, got {type(metrics).__name__} "
            f"{metrics!r}"
        )
    metrics = tuple(metrics)
    if len(metrics) < 2:
        raise ParameterError(f"metrics: give at least two metrics, got {list(metrics)}")
    if len(set(metrics)) != len(metrics):
        raise ParameterError(f"metrics must be distinct, got {list(metrics)}")
    if isinstance(scores, (str, bytes)) or not isinstance(scores, Sequence):
        raise ParameterError(
            "scores must be a list of mappings metric -> score, one per model, got "
            f"{type(scores).__name__}"
        )
    if len(scores) < 3:
        raise ParameterError(
            f"scores: need at least 3 models to rank, got {len(scores)}"
        )
    for i, s in enumerate(scores):
        if not isinstance(s, Mapping):
            raise ParameterError(
                f"scores[{i}] must be a mapping metric -> score, got {type(s).__name__}"
            )
    missing = {m for s in scores for m in metrics if m not in s}
    if missing:
        raise ParameterError(f"scores: some models have no score for {sorted(missing)}")
    for i, s in enumerate(scores):
        for m in metrics:
            if not is_real(s[m]):
                raise ParameterError(
                    f"scores[{i}][{m!r}] must be a finite real number, got {s[m]!r}"
                )
    table = np.array([[float(s[m]) for m in metrics] for s in scores])  # (models, M)
    flat = [m for j, m in enumerate(metrics) if np.ptp(table[:, j]) == 0]
    if flat:
        raise ParameterError(
            f"scores: {flat} take one value over all models: no rank order"
        )
    rho = stats.spearmanr(table).statistic  # (M, M)
    return RankAgreement(metrics, np.asarray(rho, dtype=np.float64), len(scores))
