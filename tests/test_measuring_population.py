"""Chapter 04's population: the shared beta-VAE, the agreement rule with its intervals, the
simulation that sized the population, the adequacy check and the record."""

import json

import numpy as np
import pytest
import torch

import lib.notebook
from lib.measuring import (
    AGREEING,
    AGREEMENT_RULE,
    MIN_FAMILY,
    MIN_MODELS,
    Interval,
    adequate,
    agreement_intervals,
    agreement_verdict,
    beta_vae_name,
    fit_beta_vae,
    get_config,
    interval_width_simulation,
    load_beta_vaes,
    modularity_wording,
    population_table,
    reading,
    simulated_population,
)
from lib.nets import (
    Conv64VAE,
    Conv64VAEConfig,
    GaussianPosterior,
    beta_vae_loss,
    kl_to_standard_normal,
)
from lib.notebook import setup

METRICS = AGREEING + ("modularity",)


# --------------------------------------------------------------------------------------------
# the beta-VAE (lib.nets)
# --------------------------------------------------------------------------------------------
def test_the_vae_encodes_the_posterior_mean_and_decodes_logits():
    torch.manual_seed(0)
    model = Conv64VAE(Conv64VAEConfig(code_size=6, beta=4.0)).eval()
    x = torch.rand(3, 1, 64, 64).round()
    q = model.posterior(x)
    assert q.mean.shape == q.logvar.shape == (3, 6)
    assert torch.equal(model.encode(x), q.mean)
    assert model.decode(q.mean).shape == (3, 1, 64, 64)
    logits, q2 = model(x)
    assert logits.shape == (3, 1, 64, 64) and torch.equal(q2.mean, q.mean)


def test_the_kl_to_the_prior_is_zero_at_the_prior_and_positive_elsewhere():
    zero = torch.zeros(2, 3)
    assert torch.equal(kl_to_standard_normal(GaussianPosterior(zero, zero)), zero)
    q = GaussianPosterior(torch.tensor([[1.0]]), torch.tensor([[np.log(2.0)]]))
    # KL(N(1, 2) || N(0, 1)) = (2 + 1 - 1 - ln 2) / 2
    expected = (2 + 1 - 1 - np.log(2.0)) / 2
    assert float(kl_to_standard_normal(q)) == pytest.approx(expected, rel=1e-6)


def test_the_loss_weighs_the_kl_by_beta():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 64, 64).round()
    one = Conv64VAE(Conv64VAEConfig(beta=1.0))
    eight = Conv64VAE(Conv64VAEConfig(beta=8.0))
    eight.load_state_dict(one.state_dict())
    torch.manual_seed(1)
    total1, parts1 = beta_vae_loss(one, x)
    torch.manual_seed(1)
    total8, parts8 = beta_vae_loss(eight, x)
    assert torch.allclose(parts1["recon"], parts8["recon"])
    assert torch.allclose(parts1["kl"], parts8["kl"])
    assert float(total8.detach()) == pytest.approx(
        float(parts8["recon"] + 8 * parts8["kl"])
    )
    assert float(total1.detach()) == pytest.approx(
        float(parts1["recon"] + parts1["kl"])
    )
    total8.backward()


@pytest.mark.parametrize("beta", [0.0, -1.0, float("inf"), True])
def test_the_vae_config_refuses_a_bad_beta(beta):
    with pytest.raises(ValueError):
        Conv64VAEConfig(beta=beta)


def test_a_quick_beta_vae_trains_without_writing(tmp_path, monkeypatch, dsprites):
    monkeypatch.setattr(lib.notebook, "pretrained_path", lambda name: tmp_path / name)
    settings = setup(device="cpu", seed=0, quick=True, train="auto")
    run = fit_beta_vae(settings, get_config(), dsprites, beta=2.0, seed=1)
    assert set(run.history) >= {"loss", "recon", "kl"}
    assert len(run.history["loss"]) == get_config().vae_quick_steps
    assert run.model.config.beta == 2.0 and run.meta["population_seed"] == 1
    assert not list(tmp_path.rglob("*.pt"))
    assert beta_vae_name(2.0, 1) == "measuring/beta_vae_b2_s1"


# --------------------------------------------------------------------------------------------
# the rule: intervals, readings, verdicts
# --------------------------------------------------------------------------------------------
def _population(kind: str, rng, sizes=(10, 7, 3)):
    """Scores of synthetic models: ``agree`` (the five share a quality in every family),
    ``gap`` (random within a family, families far apart), ``noise`` (random)."""
    scores, families = [], []
    for f, k in enumerate(sizes):
        q = rng.normal(size=k)
        for i in range(k):
            row = {}
            for m in METRICS:
                own = rng.normal()
                if kind == "agree" and m != "modularity":
                    row[m] = q[i] + 0.1 * own
                elif kind == "gap" and m != "modularity":
                    row[m] = own + 20.0 * f
                else:
                    row[m] = own
            scores.append(row)
            families.append(f"f{f}")
    return scores, families


def test_perfect_agreement_gives_rho_one_and_a_seeded_interval():
    rng = np.random.default_rng(0)
    scores, families = _population("agree", rng)
    for row in scores:
        for m in AGREEING:
            row[m] = row["BetaVAE"]
    res = agreement_intervals(scores, families, n_boot=200, seed=1)
    assert res.pooled.estimate == pytest.approx(1.0)
    assert res.within.estimate == pytest.approx(1.0)
    assert res.n_models == 20 and res.families == {"f0": 10, "f1": 7, "f2": 3}
    again = agreement_intervals(scores, families, n_boot=200, seed=1)
    assert again == res


def test_the_within_reading_is_blind_to_a_gap_between_families():
    scores, families = _population("gap", np.random.default_rng(1))
    res = agreement_intervals(scores, families, n_boot=500)
    assert reading(res.pooled) == "agreement"
    assert reading(res.within) == "no agreement"
    assert res.within.estimate < 0.3


def test_small_families_stay_out_of_the_within_reading():
    scores, families = _population("agree", np.random.default_rng(2), sizes=(10, 2))
    res = agreement_intervals(scores, families, n_boot=100)
    assert res.within is None and res.modularity_within is None
    assert reading(res.within) == "undecided"
    assert MIN_FAMILY == 3


def test_the_rule_reaches_every_outcome():
    rng = np.random.default_rng(3)
    budget = "2,000 steps on a CPU"

    def verdict(kind, **kw):
        scores, families = _population(kind, rng, **kw)
        res = agreement_intervals(scores, families, n_boot=500)
        return agreement_verdict(res, len(scores), budget)[0]

    assert verdict("agree") == "reproduced"
    assert verdict("gap") == "partly reproduced"
    assert verdict("noise") == "not reproduced"
    # too few adequate models: inconclusive, with the budget named
    few, why = agreement_verdict(None, 20, budget)
    assert few == "inconclusive" and budget in why and "0 of 20" in why
    scores, families = _population("agree", rng, sizes=(8, 5, 3))
    res = agreement_intervals(scores, families, n_boot=100)
    assert res.n_models < MIN_MODELS
    assert agreement_verdict(res, 20, budget)[0] == "inconclusive"
    # an interval that straddles the threshold decides nothing
    wide = Interval(0.45, 0.1, 0.8)
    assert reading(wide) == "undecided"
    res = agreement_intervals(*_population("agree", rng), n_boot=100)
    undecided = type(res)(wide, res.modularity, res.within, None, 20, res.families)
    assert agreement_verdict(undecided, 20, budget)[0] == "inconclusive"


def test_modularity_that_agrees_too_makes_it_partly():
    rng = np.random.default_rng(4)
    scores, families = _population("agree", rng)
    for row in scores:
        row["modularity"] = row["MIG"]
    res = agreement_intervals(scores, families, n_boot=300)
    verdict, why = agreement_verdict(res, 20, "budget")
    assert verdict == "partly reproduced" and "modularity" in why


def test_modularity_is_worded_by_the_sign_of_its_interval():
    assert modularity_wording(Interval(-0.5, -0.8, -0.1)).startswith("anti-correlated")
    assert modularity_wording(Interval(0.5, 0.1, 0.8)).startswith("positively")
    assert "uncorrelated" in modularity_wording(Interval(-0.1, -0.5, 0.3))


def test_the_rule_names_its_thresholds_and_families():
    for word in (
        "pooled",
        "within families",
        "bootstrap",
        "inconclusive",
        str(MIN_MODELS),
    ):
        assert word in AGREEMENT_RULE


def test_intervals_refuse_mismatched_or_tiny_inputs():
    scores, families = _population("agree", np.random.default_rng(5))
    with pytest.raises(ValueError, match="one family per model"):
        agreement_intervals(scores, families[:-1])
    with pytest.raises(ValueError, match="at least 3"):
        agreement_intervals(scores[:2], families[:2])
    scores[0]["MIG"] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        agreement_intervals(scores, families)


def test_the_simulation_shows_intervals_narrowing_with_more_models():
    small = interval_width_simulation((4, 3), rhos=(0.7,), n_sim=8, n_boot=100)
    large = interval_width_simulation((20, 10), rhos=(0.7,), n_sim=8, n_boot=100)
    assert large[0.7]["pooled_half_width"] < small[0.7]["pooled_half_width"]
    row = large[0.7]
    for key in ("pooled", "within"):
        total = sum(
            row[f"{key}_{w}"] for w in ("agreement", "no agreement", "undecided")
        )
        assert total == pytest.approx(1.0)
    scores, families = simulated_population((3, 3), 0.5, np.random.default_rng(0))
    assert len(scores) == 6 and set(scores[0]) == set(METRICS)


# --------------------------------------------------------------------------------------------
# adequacy and the record
# --------------------------------------------------------------------------------------------
def test_the_adequacy_check_is_chapter_05s():
    import lib.measuring.measure as ours
    import lib.pmp.measure as pmp

    assert ours.ADEQUACY_FACTORS == pmp.ADEQUACY_FACTORS
    assert ours.ADEQUACY_FRACTION == pmp.ADEQUACY_FRACTION
    assert ours.N_JUDGE == pmp.N_JUDGE and ours.JUDGE_NAME == pmp.JUDGE_NAME
    from lib.data import DSprites

    a, fa = ours.judge_images(DSprites(), 16)
    b, fb = pmp.judge_images(DSprites(), 16)
    assert torch.equal(a, b) and np.array_equal(fa, fb)
    good = {f: {"ratio": 0.8} for f in ours.ADEQUACY_FACTORS}
    assert adequate(good) and pmp.judge_adequate(good)
    good["orientation"]["ratio"] = 0.7
    assert not adequate(good) and not pmp.judge_adequate(good)
    with pytest.raises(ValueError, match="lacks"):
        adequate({"shape": {"ratio": 1.0}})


def test_judge_adequacy_reads_a_model_with_the_judge(dsprites):
    from lib.judge import FactorJudge
    from lib.measuring import judge_adequacy

    torch.manual_seed(0)
    report = judge_adequacy(Conv64VAE(), FactorJudge(), dsprites, n=8)
    assert set(report["judge"]) == {"shape", "scale", "orientation", "posX", "posY"}
    assert isinstance(report["judge_adequate"], bool)


def test_the_record_keeps_each_models_last_row_and_prints_a_table(tmp_path):
    path = tmp_path / "beta_vae.jsonl"
    rows = []
    for beta, seed, mig in ((4.0, 0, 0.1), (1.0, 1, 0.2), (4.0, 0, 0.3)):
        rows.append(
            {
                "name": beta_vae_name(beta, seed),
                "family": "beta-VAE",
                "beta": beta,
                "seed": seed,
                "steps": 10,
                "metrics": {m: mig for m in METRICS},
                "judge_adequate": False,
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    loaded = load_beta_vaes(path)
    assert [(r["beta"], r["seed"]) for r in loaded] == [(1.0, 1), (4.0, 0)]
    assert loaded[1]["metrics"]["MIG"] == 0.3
    table = population_table(loaded, METRICS)
    assert "measuring/beta_vae_b4_s0" in table and "0.300" in table


def test_the_population_script_prints_a_record(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "experiments/beta_vae_population.py"
    spec = importlib.util.spec_from_file_location("beta_vae_population", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "r.jsonl"
    row = {
        "name": "measuring/beta_vae_b1_s0",
        "family": "beta-VAE",
        "beta": 1.0,
        "seed": 0,
        "steps": 10,
        "metrics": {m: 0.5 for m in METRICS},
        "judge_adequate": True,
    }
    path.write_text(json.dumps(row) + "\n")
    assert module.main(["--summary", "--out", str(path)]) == 0
    assert "beta_vae_b1_s0" in capsys.readouterr().out


def test_small_chunks_render_the_same_images(dsprites):
    from lib.measuring import SmallChunkDSprites

    f = dsprites.sample_factors(300, np.random.default_rng(0))
    assert np.array_equal(SmallChunkDSprites().render(f), dsprites.render(f))
