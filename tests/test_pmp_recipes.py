"""Chapter 05's settings, pair streams, training recipe and seeds x models record."""

import json

import numpy as np
import pytest
import torch

import lib.notebook
import lib.pmp.recipes
from lib.data.dsprites import DSprites
from lib.notebook import setup
from lib.pmp import (
    MODEL_KINDS,
    AdaGVAE,
    PMPAutoencoder,
    checkpoint_name,
    fit_model,
    format_grid,
    get_config,
    grid_table,
    load_grid,
    new_model,
    pair_batches,
    probe_images,
    support_report,
)


@pytest.fixture(scope="module")
def data():
    return DSprites()


def test_config_states_the_papers_values():
    chapter = get_config()
    assert (chapter.pmp.latent_dim, chapter.pmp.n_projectors) == (10, 10)
    assert chapter.batch_size == 32 and chapter.lr == 5e-4 and chapter.max_epochs == 30
    assert chapter.baseline.latent_dim == chapter.pmp.latent_dim
    assert len(chapter.seeds) >= 3


def test_pair_stream_is_seeded_and_pairs_share_most_factors(data):
    stream = pair_batches(data, 16, seed=3)
    a, b = stream(5), stream(5)
    assert torch.equal(a.x1, b.x1) and torch.equal(a.x2, b.x2) and a.step == 5
    assert not torch.equal(stream(6).x1, a.x1)
    assert a.x1.shape == (16, 1, 64, 64) and a.x1.dtype == torch.float32


def test_new_models_depend_on_the_seed_only():
    a, b, c = new_model("pmp", 1), new_model("pmp", 1), new_model("pmp", 2)
    assert torch.equal(a.projectors.weight1, b.projectors.weight1)
    assert not torch.equal(a.projectors.weight1, c.projectors.weight1)
    assert isinstance(new_model("adagvae", 0), AdaGVAE)
    with pytest.raises(ValueError, match="kind"):
        new_model("vae", 0)
    with pytest.raises(ValueError, match="kind"):
        checkpoint_name("vae", 0)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_quick_fit_trains_records_and_writes_nothing(kind, data, tmp_path, monkeypatch):
    monkeypatch.setattr(lib.notebook, "pretrained_path", lambda name: tmp_path / name)
    monkeypatch.setattr(
        lib.pmp.recipes, "pretrained_path", lambda name: tmp_path / name
    )
    settings = setup(device="cpu", seed=0, quick=True, train="auto")
    model, history, meta = fit_model(settings, data, kind, seed=0, steps=8)
    assert len(history["loss"]) == 8 and np.isfinite(history["loss"]).all()
    assert not list(tmp_path.rglob("*.pt"))
    if kind == "pmp":
        assert meta["support_steps"][0] == 0 and meta["support_steps"][-1] == 8
        assert np.asarray(meta["support_matrices"]).shape[1:] == (10, 10)
        assert len(meta["support_sparsity"]) == len(meta["support_steps"])


def test_full_fit_saves_and_then_loads_with_the_snapshots(data, tmp_path, monkeypatch):
    monkeypatch.setattr(lib.notebook, "pretrained_path", lambda name: tmp_path / name)
    monkeypatch.setattr(
        lib.pmp.recipes, "pretrained_path", lambda name: tmp_path / name
    )
    # the notebook tests may have set BOOK_QUICK=1 in this process
    monkeypatch.delenv("BOOK_QUICK", raising=False)
    trained = setup(device="cpu", seed=0, quick=False, train="always")
    model, history, meta = fit_model(trained, data, "pmp", seed=4, steps=4)
    assert (tmp_path / "pmp" / "pmp_seed4.pt").is_file()
    loaded = setup(device="cpu", seed=0, quick=False, train="never")
    again, history2, meta2 = fit_model(loaded, data, "pmp", seed=4, steps=4)
    assert meta2["support_matrices"] == meta["support_matrices"]
    assert history2["loss"] == pytest.approx(history["loss"])
    for p, q in zip(model.parameters(), again.parameters()):
        assert torch.equal(p, q)


def test_support_report_of_an_untrained_model(data):
    model = new_model("pmp", 0)
    probe, factors = probe_images(data, 64)
    assert factors.shape == (64, 5)
    report = support_report(model, probe)
    assert report["L_spar"] > 0
    assert 0 < report["largest_foreign_share"] <= 1
    assert len(report["owner"]) == 10 and max(report["owner"]) < 10
    assert isinstance(model, PMPAutoencoder)


def _record(kind, seed, value):
    metrics = {"MIG": value, "DCI D": 2 * value}
    return {"kind": kind, "seed": seed, "metrics": metrics}


def test_grid_table_keeps_the_latest_record_per_run(tmp_path):
    path = tmp_path / "grid.jsonl"
    rows = [
        _record("pmp", 0, 0.9),  # replaced below
        _record("pmp", 0, 0.2),
        _record("pmp", 1, 0.4),
        _record("adagvae", 0, 0.1),
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table = grid_table(load_grid(path), metrics=("MIG", "DCI D"))
    mean, std, n = table["pmp"]["MIG"]
    assert (mean, n) == (pytest.approx(0.3), 2)
    assert std == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert table["adagvae"]["DCI D"] == (pytest.approx(0.2), 0.0, 1)
    text = format_grid(table)
    assert "PMP" in text and "Ada-GVAE" in text and "0.300 ± 0.141" in text


def test_missing_grid_record_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="pmp_grid.py"):
        load_grid(tmp_path / "none.jsonl")


def test_the_grid_script_records_a_side_run_without_touching_the_shipped_files(
    tmp_path,
    run_script,
):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = root / "experiments" / "pmp_grid.py"
    shipped = sorted((root / "lib" / "pretrained" / "pmp").glob("*"))
    before = {p: p.stat().st_mtime_ns for p in shipped}
    out = tmp_path / "runs.jsonl"

    def call(*argv):
        run_script(script, *argv)

    threads = torch.get_num_threads()  # the script sets its own; restore it after
    common = ["--steps", "3", "--no-save", "--quick-sizes", "--out", str(out)]
    call("--kind", "adagvae", "--seed", "7", "--threads", "1", *common)
    call("--kind", "pmp", "--seed", "7", "--threads", "1", *common)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["kind"], r["steps"], r["saved"]) for r in lines] == [
        ("adagvae", 3, False),
        ("pmp", 3, False),
    ]
    assert set(lines[0]["metrics"]) == set(lines[1]["metrics"])
    assert "product_residual" in lines[1] and "product_residual" not in lines[0]
    assert {p: p.stat().st_mtime_ns for p in shipped} == before
    call("--summary", "--out", str(out))
    torch.set_num_threads(threads)
