"""Bad inputs for the metrics layer of ``lib`` (see ``tests/hostile.py``).

Tiny synthetic codes and factors, and a toy data set whose observation is its factor vector:
every case is refused at the door, in well under a second.
"""

from __future__ import annotations

import numpy as np
from hostile import Case
from toy_factors import SmallFactors as Toy

SECONDS = 10  # each case is refused at the door; this is far beyond what one needs


class OneFactor(Toy):
    factor_sizes = (5,)


class NoRender:
    factor_sizes = (3, 4)

    def sample_factors(self, n, rng):
        return np.zeros((n, 2), dtype=int)


class WrongColumns(Toy):
    def sample_factors(self, n, rng):
        return np.zeros((n, 3), dtype=int)


class ZeroSize(Toy):
    factor_sizes = (3, 0)


def _split(n=30, seed=0, n_codes=3):
    """Codes (n, n_codes) that read two factors of three values, each value present."""
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 3, size=(n, 2))
    f[:3] = [[0, 0], [1, 1], [2, 2]]
    extra = rng.normal(size=(n, n_codes - 2))
    return np.hstack([f + 0.1 * rng.normal(size=f.shape), extra]), f


C, F = _split(30, 0)
CT, FT = _split(20, 1)


def _with(a, index, value):
    a = np.array(a, dtype=float, copy=True)
    a[index] = value
    return a


def _const(f, column=1):
    f = f.copy()
    f[:, column] = 0
    return f


def _growing():
    """An encoder whose number of codes changes after its first call."""
    calls = []

    def encode(x):
        calls.append(1)
        return x if len(calls) == 1 else np.hstack([x, x])

    return encode


def _nan(x):
    return np.full(x.shape, np.nan)


def _fvae(encode=lambda x: x, dataset=None, **kwargs):
    from lib.metrics import factor_vae_score

    sizes = dict(batch_size=4, num_train=10, num_eval=5, num_variance_estimate=20)
    sizes.update(kwargs)
    rng = sizes.pop("rng", 0)
    return lambda: factor_vae_score(dataset or Toy(), encode, rng, **sizes)


def _bvae(encode=lambda x: x, dataset=None, **kwargs):
    from lib.metrics import beta_vae_score

    sizes = dict(batch_size=4, num_train=10, num_eval=5)
    sizes.update(kwargs)
    rng = sizes.pop("rng", 0)
    return lambda: beta_vae_score(dataset or Toy(), encode, rng, **sizes)


def _sizes(**kwargs):
    from lib.metrics import MetricSizes

    return lambda: MetricSizes(**kwargs)


def _score_all(**kwargs):
    from lib.metrics import MetricSizes, score_all

    args = dict(dataset=Toy(), encode=lambda x: x, sizes=MetricSizes(20, 10, 4, 2, 4))
    args.update(kwargs)
    return lambda: score_all(**args)


SCORES = [{"a": x, "b": x**3} for x in (0.1, 0.4, 0.2, 0.9)]


def _utils() -> list[Case]:
    from lib.metrics import discrete_entropy, discrete_mutual_info, histogram_discretize
    from lib.metrics.utils import as_generator

    return [
        Case(
            "hist-nan", lambda: histogram_discretize(_with(C, (0, 0), np.nan)), "codes"
        ),
        Case("hist-bins-bool", lambda: histogram_discretize(C, True), "num_bins"),
        Case("hist-bins-float", lambda: histogram_discretize(C, 2.5), "num_bins"),
        Case("hist-bins-zero", lambda: histogram_discretize(C, 0), "num_bins"),
        Case("hist-bins-none", lambda: histogram_discretize(C, None), "num_bins"),
        Case("mi-rows", lambda: discrete_mutual_info(F[:-1], F), "codes"),
        Case("entropy-1d", lambda: discrete_entropy(F[:, 0]), "factors"),
        Case("entropy-float", lambda: discrete_entropy(F + 0.5), "factors"),
        Case("entropy-empty", lambda: discrete_entropy(np.zeros((0, 2))), "factors"),
        Case("rng-randomstate", lambda: as_generator(np.random.RandomState(0)), "rng"),
    ]


def _mig() -> list[Case]:
    from lib.metrics import mig, mig_from_mi

    m = np.array([[0.5, 0.1], [0.2, 0.4]])
    return [
        Case("mig-nan", lambda: mig(_with(C, (2, 1), np.nan), F), "codes"),
        Case("mig-inf", lambda: mig(_with(C, (2, 1), -np.inf), F), "codes"),
        Case("mig-huge", lambda: mig(_with(C, (2, 1), 1e200), F), "codes"),
        Case("mig-1d", lambda: mig(C[:, 0], F), "codes"),
        Case("mig-complex", lambda: mig(C.astype(complex), F), "codes"),
        Case("mig-strings", lambda: mig(C.astype(str), F), "codes"),
        Case("mig-ragged", lambda: mig([[0.0, 1.0], [2.0]], F[:2]), "codes"),
        Case("mig-rows", lambda: mig(C[:-1], F), "codes"),
        Case("mig-one-code", lambda: mig(C[:, :1], F), "codes"),
        Case("mig-constant-factor", lambda: mig(C, _const(F)), "factors"),
        Case("mig-float-factors", lambda: mig(C, F * 0.5), "factors"),
        Case("mig-bins-str", lambda: mig(C, F, num_bins="20"), "num_bins"),
        Case("mig-from-mi-h0", lambda: mig_from_mi(m, [1.0, 0.0]), "entropy"),
        Case(
            "mig-from-mi-nan",
            lambda: mig_from_mi(_with(m, (0, 0), np.nan), [1, 1]),
            "m ",
        ),
        Case("mig-from-mi-shape", lambda: mig_from_mi(m, [1.0]), "entropy"),
    ]


def _modularity() -> list[Case]:
    from lib.metrics import explicitness, modularity, modularity_from_mi

    return [
        Case("mod-bins-bool", lambda: modularity(C, F, num_bins=False), "num_bins"),
        Case("mod-factors-1d", lambda: modularity(C, F[:, 0]), "factors"),
        Case("mod-from-mi-neg", lambda: modularity_from_mi(-np.eye(2)), "m "),
        Case("mod-from-mi-1d", lambda: modularity_from_mi(np.ones(3)), "m "),
        Case(
            "expl-const-train",
            lambda: explicitness(C, _const(F), CT, FT),
            "factors_train",
        ),
        Case(
            "expl-const-test",
            lambda: explicitness(C, F, CT, _const(FT)),
            "factors_test",
        ),
        Case("expl-columns", lambda: explicitness(C, F, CT[:, :2], FT), "columns"),
        Case(
            "expl-nan-test",
            lambda: explicitness(C, F, _with(CT, 0, np.nan), FT),
            "codes_test",
        ),
    ]


def _sap() -> list[Case]:
    from lib.metrics import sap, sap_from_scores, sap_score_matrix

    return [
        Case("sap-flag-str", lambda: sap(C, F, CT, FT, "yes"), "continuous_factors"),
        Case("sap-flag-int", lambda: sap(C, F, CT, FT, 1), "continuous_factors"),
        Case(
            "sap-nan", lambda: sap(_with(C, (1, 1), np.nan), F, CT, FT), "codes_train"
        ),
        Case("sap-one-code", lambda: sap(C[:, :1], F, CT[:, :1], FT), "codes"),
        Case("sap-const-factor", lambda: sap(C, _const(F), CT, FT), "factors_train"),
        Case("sap-rows-test", lambda: sap(C, F, CT, FT[:-1]), "factors_test"),
        Case(
            "sap-scores-nan", lambda: sap_from_scores([[np.nan, 1], [0, 1]]), "scores"
        ),
        Case("sap-scores-1row", lambda: sap_from_scores([[0.5, 1.0]]), "scores"),
        Case(
            "sap-cont-one-row",
            lambda: sap_score_matrix(C[:1], F[:1], CT, FT, True),
            "codes_train",
        ),
    ]


def _dci() -> list[Case]:
    from lib.metrics import (
        completeness_from_importance,
        dci,
        dci_importance,
        disentanglement_from_importance,
        factor_accuracy,
    )

    return [
        Case("dci-n-jobs-zero", lambda: dci(C, F, CT, FT, n_jobs=0), "n_jobs"),
        Case("dci-n-jobs-bool", lambda: dci(C, F, CT, FT, n_jobs=True), "n_jobs"),
        Case("dci-n-jobs-str", lambda: dci(C, F, CT, FT, n_jobs="all"), "n_jobs"),
        Case("dci-seed-neg", lambda: dci(C, F, CT, FT, seed=-1), "seed"),
        Case("dci-seed-big", lambda: dci(C, F, CT, FT, seed=2**32), "seed"),
        Case("dci-seed-float", lambda: dci(C, F, CT, FT, seed=0.5), "seed"),
        Case("dci-const-factor", lambda: dci(C, _const(F), CT, FT), "factors_train"),
        Case(
            "dci-nan", lambda: dci(_with(C, (0, 2), np.nan), F, CT, FT), "codes_train"
        ),
        Case("dci-rows-test", lambda: dci(C, F, CT[:-1], FT), "codes_test"),
        Case("dci-imp-1d", lambda: dci_importance(C, F, CT[:, 0], FT), "codes_test"),
        Case(
            "dci-D-nan",
            lambda: disentanglement_from_importance([[np.nan, 1.0], [0.0, 1.0]]),
            "importance",
        ),
        Case(
            "dci-C-negative",
            lambda: completeness_from_importance([[-1.0, 1.0], [0.0, 1.0]]),
            "importance",
        ),
        Case(
            "dci-C-strings", lambda: completeness_from_importance([["a"]]), "importance"
        ),
        Case(
            "acc-bool", lambda: factor_accuracy(C, F, CT, FT, factors=[True]), "factors"
        ),
        Case("acc-empty", lambda: factor_accuracy(C, F, CT, FT, factors=[]), "factors"),
        Case(
            "acc-range", lambda: factor_accuracy(C, F, CT, FT, factors=[9]), "factors"
        ),
        Case("acc-int", lambda: factor_accuracy(C, F, CT, FT, factors=1), "factors"),
    ]


def _votes() -> list[Case]:
    return [
        Case("fvae-nan-encoder", _fvae(_nan), "encode"),
        Case("fvae-num-train-0", _fvae(num_train=0), "num_train"),
        Case("fvae-num-eval-neg", _fvae(num_eval=-1), "num_eval"),
        Case("fvae-var-1", _fvae(num_variance_estimate=1), "num_variance_estimate"),
        Case("fvae-batch-1", _fvae(batch_size=1), "batch_size"),
        Case("fvae-batch-bool", _fvae(batch_size=True), "batch_size"),
        Case("fvae-prune-nan", _fvae(prune_threshold=np.nan), "prune_threshold"),
        Case("fvae-prune-neg", _fvae(prune_threshold=-1.0), "prune_threshold"),
        Case("fvae-rng-str", _fvae(rng="seed"), "rng"),
        Case("fvae-rng-neg", _fvae(rng=-1), "rng"),
        Case("fvae-rows", _fvae(lambda x: x[:-1]), "encode"),
        Case("fvae-huge", _fvae(lambda x: np.asarray(x, float) * 1e200), "encode"),
        Case("fvae-1d", _fvae(lambda x: x[:, 0]), "encode"),
        Case("fvae-width", _fvae(_growing()), "encode"),
        Case("fvae-not-callable", _fvae(np.zeros(3)), "encode"),
        Case("fvae-no-render", _fvae(dataset=NoRender()), "dataset"),
        Case("fvae-columns", _fvae(dataset=WrongColumns()), "sample_factors"),
        Case("fvae-size-0", _fvae(dataset=ZeroSize()), "factor_sizes"),
        Case("bvae-num-train-1", _bvae(num_train=1), "num_train"),
        Case("bvae-one-factor", _bvae(dataset=OneFactor()), "factor_sizes"),
        Case("bvae-nan-encoder", _bvae(_nan), "encode"),
        Case("bvae-batch-0", _bvae(batch_size=0), "batch_size"),
        Case("bvae-num-eval-float", _bvae(num_eval=2.0), "num_eval"),
        Case("bvae-rng-bool", _bvae(rng=False), "rng"),
    ]


def _suite() -> list[Case]:
    from lib.metrics import MetricSizes, factor_accuracies

    tiny = MetricSizes(20, 10, 4, 2, 4)
    return [
        Case("sizes-n-train-bool", _sizes(n_train=True), "n_train"),
        Case("sizes-n-train-neg", _sizes(n_train=-5), "n_train"),
        Case("sizes-n-test-1", _sizes(n_test=1), "n_test"),
        Case("sizes-votes-train-float", _sizes(votes_train=10.0), "votes_train"),
        Case("sizes-votes-eval-0", _sizes(votes_eval=0), "votes_eval"),
        Case("sizes-batch-1", _sizes(batch_size=1), "batch_size"),
        Case("sizes-batch-none", _sizes(batch_size=None), "batch_size"),
        Case("all-sizes-dict", _score_all(sizes={"n_train": 20}), "sizes"),
        Case("all-seed-bool", _score_all(seed=True), "seed"),
        Case("all-seed-neg", _score_all(seed=-3), "seed"),
        Case("all-nan-encoder", _score_all(encode=_nan), "encode"),
        Case("all-rows-encoder", _score_all(encode=lambda x: x[1:]), "encode"),
        Case("all-no-encoder", _score_all(encode=None), "encode"),
        Case("all-dataset", _score_all(dataset=object()), "dataset"),
        Case(
            "acc-all-factors",
            lambda: factor_accuracies(Toy(), lambda x: x, tiny, factors=(5,)),
            "factors",
        ),
    ]


def _agreement() -> list[Case]:
    from lib.metrics import rank_agreement

    def table():
        return rank_agreement(SCORES, ["a", "b"])

    def bad(value):
        return [{"a": value, "b": 1.0}] + SCORES[1:]

    return [
        Case("rank-metrics-str", lambda: rank_agreement(SCORES, "ab"), "metrics"),
        Case("rank-metrics-dup", lambda: rank_agreement(SCORES, ["a", "a"]), "metrics"),
        Case(
            "rank-score-nan", lambda: rank_agreement(bad(np.nan), ["a", "b"]), "scores"
        ),
        Case(
            "rank-score-bool", lambda: rank_agreement(bad(True), ["a", "b"]), "scores"
        ),
        Case(
            "rank-score-str", lambda: rank_agreement(bad("0.5"), ["a", "b"]), "scores"
        ),
        Case(
            "rank-two-models", lambda: rank_agreement(SCORES[:2], ["a", "b"]), "scores"
        ),
        Case("rank-pair-unknown", lambda: table().pair("a", "z"), "metric"),
        Case("rank-median-one", lambda: table().median_between(["a"]), "metrics"),
    ]


def cases() -> list[Case]:
    out = [
        *_utils(),
        *_mig(),
        *_modularity(),
        *_sap(),
        *_dci(),
        *_votes(),
        *_suite(),
        *_agreement(),
    ]
    return [Case(c.id, c.call, c.names, SECONDS) for c in out]
