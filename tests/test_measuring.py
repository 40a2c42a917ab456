"""Chapter 04's hand-made codes, scoring helper and dSprites autoencoder recipe."""

import numpy as np
import pytest
import torch

import lib.notebook
from lib.data import DSprites
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


@pytest.fixture(scope="module")
def data():
    return DSprites()


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
    model, history = fit_dsprites_ae(settings, data)
    assert len(history["loss"]) == get_config().quick_steps
    assert not list(tmp_path.rglob("*.pt"))
    codes = encode_images(model, chunk=3)(data.render(np.zeros((5, 5), dtype=int)))
    assert codes.shape == (5, 10)


def test_metric_sizes_refuse_non_positive_counts():
    with pytest.raises(ValueError, match="n_test"):
        MetricSizes(n_train=10, n_test=0)
