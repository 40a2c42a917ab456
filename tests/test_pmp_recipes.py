"""Chapter 05's settings, pair streams, training recipe and seeds x models record."""

import json

import numpy as np
import pytest
import torch

import lib.notebook
import lib.pmp.recipes
from lib.notebook import setup
from lib.pmp import (
    MODEL_KINDS,
    AdaGVAE,
    PMPAutoencoder,
    checkpoint_name,
    fit_pmp_model,
    format_grid,
    get_config,
    grid_table,
    load_grid,
    new_model,
    pair_batches,
    probe_images,
    support_report,
)


@pytest.fixture
def data(dsprites):
    return dsprites


def test_config_states_the_papers_values():
    chapter = get_config()
    assert (chapter.pmp.latent_dim, chapter.pmp.n_projectors) == (10, 10)
    assert chapter.batch_size == 32 and chapter.lr == 5e-4 and chapter.max_epochs == 30
    assert chapter.baseline.latent_dim == chapter.pmp.latent_dim
    assert len(chapter.seeds) >= 3


def test_pair_stream_is_seeded_and_pairs_share_most_factors(data):
    stream = pair_batches(data, 16, seed=3)
    a, b = stream(5), stream(5)
    assert torch.equal(a.x1, b.x1) and torch.equal(a.x2, b.x2)
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
    import os
    from pathlib import Path

    monkeypatch.setattr(lib.notebook, "pretrained_path", lambda name: tmp_path / name)
    settings = setup(device="cpu", seed=0, quick=True, train="auto")
    run = fit_pmp_model(settings, get_config(), data, kind, seed=0, steps=8)
    history, meta = run.history, run.meta
    assert run.trained and run.name == f"pmp/{kind}_seed0"
    assert len(history["loss"]) == 8 and np.isfinite(history["loss"]).all()
    assert not list(tmp_path.rglob("*.pt"))  # nor shipped
    assert not list(Path(os.environ["BOOK_CACHE"]).rglob("*.pt"))  # nor cached
    if kind == "pmp":
        assert meta["support_steps"][0] == 0 and meta["support_steps"][-1] == 8
        assert np.asarray(meta["support_matrices"]).shape[1:] == (10, 10)
        assert len(meta["support_sparsity"]) == len(meta["support_steps"])


def test_full_fit_saves_and_then_loads_with_the_snapshots(data):
    from lib.checkpoint import cached_path

    trained = setup(device="cpu", seed=0, quick=False, train="always")
    first = fit_pmp_model(trained, get_config(), data, "pmp", seed=4, steps=4)
    model, history, meta = first.model, first.history, first.meta
    assert (
        cached_path("pmp/pmp_seed4").with_suffix(".pt").is_file()
    )  # the reader's cache
    loaded = setup(device="cpu", seed=0, quick=False, train="never", prefer_cache=True)
    second = fit_pmp_model(loaded, get_config(), data, "pmp", seed=4, steps=4)
    again, history2, meta2 = second.model, second.history, second.meta
    assert first.trained and not second.trained
    assert meta2 == meta  # the meta a training run hands back is the one it saved
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


def test_the_step_benchmark_keeps_every_tensor_on_the_data_device():
    """bench/pmp_step.py --device cuda once failed: a matrix of the reference step stayed on
    the CPU. With no GPU here, the step runs on the meta device and every operation is checked
    for mixed devices (CPU integer indices into a tensor are allowed, as CUDA allows them)."""
    import importlib.util
    from pathlib import Path

    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class OneDevice(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            tensors = [
                t
                for t in tree_leaves((args, kwargs or {}))
                if isinstance(t, torch.Tensor) and t.dim() > 0
            ]
            if func is torch.ops.aten.index.Tensor:
                tensors = tensors[:1]  # the indexed tensor; indices may stay on the CPU
            devices = {t.device for t in tensors}
            assert len(devices) <= 1, f"{func} mixes devices {devices}"
            return func(*args, **(kwargs or {}))

    path = Path(__file__).resolve().parents[1] / "bench" / "pmp_step.py"
    spec = importlib.util.spec_from_file_location("pmp_step_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    x = torch.rand(4, 64, 64, 1, device="meta")
    model = bench.ReferencePMP().to("meta")
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    with OneDevice(), pytest.raises(RuntimeError, match="meta"):
        # runs every operation of the step, then stops where a value is read (.item())
        bench.reference_step(model, optimiser, x, x, 20, 30)


def _table(pmp, ada):
    """A grid_table with PMP's and Ada-GVAE's (DCI D, MIG) means."""
    return {
        "pmp": {"DCI D": (pmp[0], 0.01, 3), "MIG": (pmp[1], 0.01, 3)},
        "adagvae": {"DCI D": (ada[0], 0.01, 3), "MIG": (ada[1], 0.01, 3)},
    }


def test_the_verdict_rule_can_say_each_of_its_outcomes():
    from lib.pmp import VERDICT_RULE, claim_verdict

    ok = {"pmp": [True, True, True], "adagvae": [True, True, True]}
    assert claim_verdict(_table((0.5, 0.4), (0.3, 0.2)), ok)[0] == "reproduced"
    assert claim_verdict(_table((0.1, 0.1), (0.4, 0.3)), ok)[0] == "not reproduced"
    verdict, reason = claim_verdict(_table((0.5, 0.1), (0.4, 0.3)), ok)
    assert verdict == "inconclusive" and "DCI D only" in reason
    # one under-trained seed makes any score table inconclusive
    weak = {"pmp": [True, False, True], "adagvae": [True, True, True]}
    verdict, reason = claim_verdict(_table((0.1, 0.1), (0.4, 0.3)), weak)
    assert verdict == "inconclusive (under-trained)" and reason.startswith("PMP failed")
    assert claim_verdict(_table((0.5, 0.4), (0.3, 0.2)), weak)[0].endswith(
        "under-trained)"
    )
    for outcome in ("reproduced", "not reproduced", "inconclusive", "under-trained"):
        assert outcome in VERDICT_RULE
    with pytest.raises(ValueError, match="adequacy"):
        claim_verdict(_table((0.5, 0.4), (0.3, 0.2)), {"pmp": [True]})
    for verdict in ("inconclusive", "inconclusive (under-trained)"):
        assert verdict in lib.notebook.CLAIM_VERDICTS


def test_the_adequacy_rule_needs_every_factor_above_its_threshold():
    from lib.pmp import AdequacyRule

    rule = get_config().adequacy
    assert rule.factors == ("shape", "orientation")
    assert rule.passes({"shape": 0.9, "orientation": 0.3})
    assert not rule.passes({"shape": 0.9, "orientation": 0.05})  # a blob's orientation
    assert not rule.passes({"shape": 0.4, "orientation": 0.3})
    with pytest.raises(ValueError, match="orientation"):
        rule.passes({"shape": 0.9})
    assert AdequacyRule(("shape",), (0.5,)).passes({"shape": 0.5})
    with pytest.raises(ValueError, match="one threshold per factor"):
        AdequacyRule(("shape", "orientation"), (0.5,))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        AdequacyRule(("shape",), (1.5,))


def test_adequacy_report_measures_the_rules_factors(data):
    from lib.metrics import MetricSizes
    from lib.pmp import adequacy_report, reconstruction_bce

    model = new_model("adagvae", 0)
    sizes = MetricSizes(120, 60, 10, 10, 8)
    report = adequacy_report(model, data, sizes, seed=0)
    assert set(report["factor_accuracy"]) == {"shape", "orientation"}
    assert report["adequate"] is False  # an untrained code
    probe, _ = probe_images(data, 16)
    assert 0.3 < reconstruction_bce(model, probe) < 1.0  # ~log 2 before training


def test_ablation_table_compares_every_kind_and_leaves_missing_columns_empty():
    from lib.pmp import ablation_table, compare_means, format_ablation

    def row(kind, seed, foreign, mig):
        r = {"kind": kind, "seed": seed, "probe_bce": 0.02}
        r["metrics"] = {"DCI D": 0.1, "MIG": mig}
        if kind != "adagvae":
            r.update(mean_foreign_share=foreign, product_residual=0.5)
        return r

    records = [row("pmp", s, 0.5 + 0.01 * s, 0.05) for s in range(3)]
    records += [row("pmp_nospar", s, 0.8 + 0.01 * s, 0.05) for s in range(2)]
    records += [row("adagvae", s, None, 0.4) for s in range(3)]
    table = ablation_table(records)
    assert list(table) == ["pmp", "adagvae", "pmp_nospar"]
    assert np.isnan(table["adagvae"]["mean_foreign_share"][0])
    assert table["pmp_nospar"]["mean_foreign_share"][2] == 2
    text = format_ablation(table)
    assert "lambda_spar = 0" in text and text.count("\n") == 3
    nospar, pmp = table["pmp_nospar"], table["pmp"]
    assert (
        compare_means(nospar["mean_foreign_share"], pmp["mean_foreign_share"])
        == "higher"
    )
    assert compare_means(nospar["MIG"], pmp["MIG"]) == "indistinguishable"
    assert compare_means((0.2, 0.0, 1), (0.9, 0.0, 3)) == "undecided (one seed)"
    with pytest.raises(ValueError, match="compare"):
        compare_means((float("nan"), 0.0, 2), (0.9, 0.0, 3))
    assert compare_means((0.2, 0.1, 2), (0.5, 0.1, 2)) == "lower"
    from lib.pmp import ablation_findings

    findings = ablation_findings(table)
    assert "mean foreign share 0.805" in findings["pmp_nospar"]
    assert "higher" in findings["pmp_nospar"] and "(2 seeds)" in findings["pmp_nospar"]
    assert "no run recorded" in findings["pmp_scalefree"]
    with pytest.raises(ValueError, match="PMP row"):
        ablation_findings({"adagvae": table["adagvae"]})


def test_the_ablation_kinds_train_as_pmp_with_their_own_objective(data):
    from lib.pmp import ABLATION_KINDS, pmp_objective, pmp_trainer

    assert set(ABLATION_KINDS) == {"pmp_nospar", "pmp_scalefree"}
    model = new_model("pmp_scalefree", 0)
    assert isinstance(model, PMPAutoencoder)
    trainer = pmp_trainer(model, pair_batches(data, 4), 2, kind="pmp_scalefree")
    assert trainer.loss_fn.sparsity == "scale_free"
    assert pmp_objective("pmp_nospar", 10, 30).weights.sparsity == 0.0
    assert checkpoint_name("pmp_nospar", 1) == "pmp/pmp_nospar_seed1"
    with pytest.raises(ValueError, match="model kind"):
        new_model("pmp_l0", 0)


def test_the_chapters_support_player_shows_every_frame():
    """The player of chapter 05 (column shares of the shipped seed-0 snapshots, one scale 0-1)
    has no flat frame; the raw support matrices on one scale had a dozen."""
    from lib.checkpoint import pretrained_path, read_checkpoint_meta
    from lib.plotting import heatmap_player
    from lib.pmp import support_shares

    meta = read_checkpoint_meta(pretrained_path(checkpoint_name("pmp", 0)))
    matrices = np.asarray(meta["support_matrices"])
    titles = [str(t) for t in meta["support_steps"]]
    with pytest.raises(ValueError, match="one colour"):
        heatmap_player(matrices, titles)
    shares = support_shares(matrices)
    heatmap_player(shares, titles, vmax=1.0)
    last = shares[-1]
    assert last.max() - last.min() > 0.5  # the last frame is far from uniform


def test_ablation_conclusion_follows_the_comparisons():
    """The interpreting sentences turn with the numbers: each clause can come out either way."""
    from lib.pmp import ablation_conclusion

    def table(nospar_share, free_share, free_mass, free_dci):
        def row(share, mass, dci):
            return {
                "mean_foreign_share": (share, 0.01, 2),
                "support_mass": (mass, 0.1, 2),
                "product_residual": (share, 0.2, 2),
                "DCI D": (dci, 0.01, 2),
                "MIG": (0.05, 0.01, 2),
                "probe_bce": (0.02, 0.001, 2),
            }

        return {
            "pmp": row(0.5, 1.0, 0.1),
            "pmp_nospar": row(nospar_share, 15.0, 0.1),
            "pmp_scalefree": row(free_share, free_mass, free_dci),
        }

    text = ablation_conclusion(table(0.8, 0.1, 15.0, 0.1))
    assert "shared more than in PMP" in text and "L_spar separates PMP's" in text
    assert "shared less than" in text and "separates the supports instead" in text
    assert "cannot say whether" in text  # no model passed the adequacy check
    assert "does not change how disentangled" in ablation_conclusion(
        table(0.8, 0.1, 15.0, 0.1), adequate=True
    )
    assert "the seeds cannot tell the variant without L_spar or the scale-free" in text
    text = ablation_conclusion(table(0.5, 0.5, 0.2, 0.4))
    assert "no more and no less" in text and "L_spar separates" not in text
    assert "smaller than PMP's" in text and "instead" not in text
    assert "the scale-free variant's DCI D is higher than PMP's" in text
    assert "cannot say whether" not in text
    one_seed = table(0.8, 0.1, 15.0, 0.1)
    one_seed["pmp_scalefree"]["MIG"] = (0.05, 0.0, 1)
    assert "needs two seeds" in ablation_conclusion(one_seed)
    with pytest.raises(ValueError, match="PMP row"):
        ablation_conclusion({"pmp_nospar": one_seed["pmp_nospar"]})


def test_the_grid_script_writes_the_shipped_files_only_when_asked(run_script):
    """Records and checkpoints go to the reader's cache unless --update-shipped says so."""
    import argparse
    import os
    import runpy
    from pathlib import Path

    from lib.checkpoint import pretrained_path
    from lib.pmp import GRID_RECORD

    script = Path(__file__).resolve().parents[1] / "experiments" / "pmp_grid.py"
    record_path = runpy.run_path(str(script))["record_path"]

    def where(**flags):
        return record_path(argparse.Namespace(**{"out": None, **flags}), GRID_RECORD)

    cache = Path(os.environ["BOOK_CACHE"])
    assert where(update_shipped=False) == cache / "records" / "grid.jsonl"
    assert where(update_shipped=True) == pretrained_path(GRID_RECORD)
    assert where(update_shipped=True, out="x.jsonl") == Path("x.jsonl")
    with pytest.raises(SystemExit) as refused:  # rewriting a record needs a target
        run_script(script, "--refresh-probe")
    assert refused.value.code == 2
