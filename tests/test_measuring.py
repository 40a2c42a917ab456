"""Chapter 04's hand-made codes, scoring helper and dSprites autoencoder recipe."""

from dataclasses import replace

import numpy as np
import pytest
import torch

import lib.notebook
from lib.measuring import (
    HAND_MADE,
    FactorObservations,
    dsprites_batches,
    encode_images,
    fit_dsprites_ae,
    get_config,
    hand_made_codes,
    score_all,
)
from lib.metrics import MetricSizes
from lib.notebook import setup

TINY = MetricSizes(n_train=300, n_test=150, votes_train=60, votes_eval=30, batch_size=8)


@pytest.fixture
def data(dsprites):
    return dsprites


def test_hand_made_codes_have_the_promised_structure(data):
    codes = hand_made_codes(data.factor_sizes, seed=0)
    assert tuple(codes) == HAND_MADE
    f = data.sample_factors(50, np.random.default_rng(0))
    true = codes["true factors"](f)
    assert true.shape == (50, 5) and true.min() >= 0 and true.max() <= 1
    rotated = codes["rotated"](f)
    np.testing.assert_allclose(  # a rotation keeps distances
        np.linalg.norm(rotated - rotated[:1], axis=1),
        np.linalg.norm(true - true[:1], axis=1),
        atol=1e-12,
    )
    np.testing.assert_array_equal(codes["duplicated"](f), np.hstack([true, true]))
    merged = codes["merged"](f)
    assert merged.shape == (50, 4)
    assert len(np.unique(merged[:, 0])) == len(np.unique(f[:, 0] * 6 + f[:, 1]))
    np.testing.assert_array_equal(codes["noise"](f), codes["noise"](f))  # seeded


@pytest.mark.slow  # several seconds: left out of make test-fast
def test_scores_rank_the_hand_made_codes_as_the_chapter_says(data):
    observations = FactorObservations(data)
    codes = hand_made_codes(data.factor_sizes)
    true = score_all(observations, codes["true factors"], TINY)
    noise = score_all(observations, codes["noise"], TINY)
    duplicated = score_all(observations, codes["duplicated"], TINY)
    assert true["DCI D"] > 0.9 and noise["DCI D"] < 0.1
    assert true["MIG"] > 0.5 > duplicated["MIG"]
    assert duplicated["DCI D"] > 0.9 and duplicated["DCI C"] < 0.8
    assert true["SAP (continuous)"] > 0.9 > true["SAP"]  # discrete SAP is compressed
    assert set(true) == set(noise)


def test_batches_are_seeded_binary_and_on_the_device(data):
    batch = dsprites_batches(data, 4, seed=1)
    assert batch(3).shape == (4, 1, 64, 64)
    assert torch.equal(batch(3), dsprites_batches(data, 4, seed=1)(3))
    assert not torch.equal(batch(3), batch(4))
    assert set(torch.unique(batch(0)).tolist()) <= {0.0, 1.0}


def test_quick_fit_trains_and_encodes_without_writing(tmp_path, monkeypatch, data):
    monkeypatch.setattr(lib.notebook, "pretrained_path", lambda name: tmp_path / name)
    settings = setup(device="cpu", seed=0, quick=True, train="auto")
    chapter = replace(get_config(), quick_steps=3)  # the notebook's edit is obeyed
    model, history = fit_dsprites_ae(settings, chapter, data)
    assert len(history["loss"]) == 3
    assert not list(tmp_path.rglob("*.pt"))
    codes = encode_images(model, chunk=3)(data.render(np.zeros((5, 5), dtype=int)))
    assert codes.shape == (5, 10)


def test_metric_sizes_refuse_non_positive_counts():
    with pytest.raises(ValueError, match="n_test"):
        MetricSizes(n_train=10, n_test=0)


def test_predictions_name_real_codes_and_metrics_and_can_break():
    from lib.measuring import PREDICTIONS, check_predictions, format_predictions
    from lib.metrics import METRIC_NAMES

    assert {p.code for p in PREDICTIONS} == set(HAND_MADE)
    assert {p.metric for p in PREDICTIONS} <= set(METRIC_NAMES)
    assert all(0 <= p.low <= p.high <= 1 and p.reason for p in PREDICTIONS)
    perfect = {code: {m: 0.5 for m in METRIC_NAMES} for code in HAND_MADE}
    results = check_predictions(perfect)
    assert len(results) == len(PREDICTIONS)
    broken = [p for p, _, ok in results if not ok]
    assert broken  # 0.5 everywhere breaks the predictions of "near 1" and "near 0"
    assert f"{len(broken)} of {len(PREDICTIONS)} predictions broken" in (
        format_predictions(results)
    )
    with pytest.raises(KeyError, match="no measured"):
        check_predictions({"true factors": {"MIG": 0.9}})


def test_rotating_the_two_positions_costs_the_factor_vae_score_one_factor(data):
    """q04_2's solution: about 4/5 whichever way the majority vote maps the two codes."""
    codes = hand_made_codes(data.factor_sizes, seed=0)
    turn = np.sqrt(0.5) * np.array([[1.0, 1.0], [-1.0, 1.0]])

    def rotated_positions(f):
        z = codes["true factors"](f)
        z[:, 3:5] = z[:, 3:5] @ turn
        return z

    from lib.metrics import factor_vae_score

    score = factor_vae_score(
        FactorObservations(data), rotated_positions, 0, 64, 1000, 500, 1000
    )
    assert 0.75 < score["eval_accuracy"] < 0.85
