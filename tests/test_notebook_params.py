import pytest
import torch

from lib.device import resolve_device
from lib.notebook import ParameterError, quick_default, setup
from lib.seeding import seed_everything


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"device": "gpu"}, "device"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"quick": "yes"}, "quick"),
        ({"train": "sometimes"}, "train"),
    ],
)
def test_bad_parameters_raise_one_clear_error(kwargs, name):
    with pytest.raises(ParameterError, match=rf"parameter '{name}' must be"):
        setup(**kwargs)


def test_setup_resolves_device_and_prints_a_summary(capsys):
    settings = setup(device="cpu", seed=3, quick=True, train="never")
    assert settings.device == torch.device("cpu") and settings.seed == 3
    assert "quick mode" in capsys.readouterr().out


def test_missing_accelerator_is_an_error_not_a_silent_fallback():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ParameterError, match="no CUDA GPU"):
        setup(device="cuda")
    assert resolve_device("auto").type in ("cpu", "mps")


def test_train_decision(tmp_path):
    ckpt = tmp_path / "m"
    full = setup(device="cpu", quick=False, train="auto")
    assert full.should_train(ckpt)  # nothing shipped: train
    (tmp_path / "m.pt").write_bytes(b"x")
    assert not full.should_train(ckpt)  # shipped and on CPU: load
    assert setup(device="cpu", quick=True, train="auto").should_train(
        ckpt
    )  # quick exercises training
    assert setup(device="cpu", train="always").should_train(ckpt)
    assert not setup(device="cpu", train="never").should_train(ckpt)
    with pytest.raises(ParameterError, match="no checkpoint"):
        setup(device="cpu", train="never").should_train(tmp_path / "absent")


def test_quick_default_reads_the_environment(monkeypatch):
    monkeypatch.setenv("BOOK_QUICK", "1")
    assert quick_default()
    monkeypatch.setenv("BOOK_QUICK", "0")
    assert not quick_default()


def test_seeding_is_repeatable():
    seed_everything(5)
    a = torch.rand(3)
    seed_everything(5)
    assert torch.equal(a, torch.rand(3))
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-2)


def _tiny_warmup(steps=3):
    from lib.intro import WarmupAEConfig, WarmupAutoencoder, train_warmup_ae

    images = torch.rand(32, 1, 28, 28)
    config = WarmupAEConfig(latent_dim=2, channels=4, hidden=8)

    def train_fn(model):  # returns the Trainer: its summary is printed
        return train_warmup_ae(model, images, steps=steps, batch_size=8, progress=False)

    return config, lambda: WarmupAutoencoder(config), train_fn


def test_train_or_load_saves_to_the_cache_then_loads_it_only_when_asked(
    tmp_path, monkeypatch, capsys
):
    import lib.checkpoint
    from lib.checkpoint import cached_path, checkpoint_paths, load_pretrained
    from lib.notebook import train_or_load

    shipped = tmp_path / "shipped"
    monkeypatch.setattr(lib.checkpoint, "PRETRAINED_DIR", shipped)
    config, new_model, train_fn = _tiny_warmup()
    always = setup(device="cpu", seed=0, quick=False, train="always")
    assert always.save == "cache" and not always.prefer_cache
    run = train_or_load(always, "ch/m", new_model(), train_fn)
    history = run.history
    assert run.trained and run.meta["seed"] == 0 and run.name == "ch/m"
    out = capsys.readouterr().out
    assert (
        "3 steps in" in out and "trained and saved checkpoint ch/m (your cache" in out
    )
    assert len(history["loss"]) == 3
    assert not shipped.exists()  # the shipped folder is not touched
    rebuilt, ckpt = load_pretrained(cached_path("ch/m"))
    assert rebuilt.config == config and ckpt.meta["seed"] == 0

    never = setup(device="cpu", seed=0, quick=False, train="never")
    with pytest.raises(ParameterError, match="no checkpoint is shipped"):
        train_or_load(never, "ch/m", new_model(), lambda m: pytest.fail("trained"))
    mine = setup(device="cpu", quick=False, train="never", prefer_cache=True)
    model = new_model()
    loaded = train_or_load(mine, "ch/m", model, lambda m: pytest.fail("trained"))
    assert loaded.history["loss"] == history["loss"] and not loaded.trained
    assert loaded.model is model and loaded.meta == run.meta
    unpacked_model, unpacked_history = loaded  # a Run unpacks as (model, history)
    assert unpacked_model is model and unpacked_history is loaded.history
    assert "loaded your cached checkpoint ch/m: 3 steps" in capsys.readouterr().out
    for a, b in zip(model.parameters(), rebuilt.parameters()):
        assert torch.equal(a, b)
    assert load_pretrained("ch/m", prefer_cache=True)[1].path == ckpt.path
    # the path of a checkpoint is loaded as given, whatever the cache holds
    here = tmp_path / "elsewhere" / "m"
    here.parent.mkdir()
    for source, target in zip(
        checkpoint_paths(ckpt.path.with_suffix("")), checkpoint_paths(here)
    ):
        target.write_bytes(source.read_bytes())
    assert load_pretrained(here, prefer_cache=True)[1].path == here.with_suffix(".pt")


def test_only_save_shipped_writes_the_shipped_checkpoint(tmp_path, monkeypatch, capsys):
    import lib.checkpoint
    from lib.notebook import train_or_load

    monkeypatch.setattr(lib.checkpoint, "PRETRAINED_DIR", tmp_path / "shipped")
    _, new_model, train_fn = _tiny_warmup()
    nowhere = setup(device="cpu", quick=False, train="always", save="none")
    train_or_load(nowhere, "ch/m", new_model(), train_fn)
    assert "save='none', checkpoint not written" in capsys.readouterr().out
    assert not (tmp_path / "shipped").exists()
    monkeypatch.setenv("BOOK_SAVE", "shipped")  # as make execute sets it
    maintainer = setup(device="cpu", quick=False, train="always")
    train_or_load(maintainer, "ch/m", new_model(), train_fn)
    assert (tmp_path / "shipped" / "ch" / "m.pt").is_file()
    never = setup(device="cpu", quick=False, train="never")
    train_or_load(never, "ch/m", new_model(), lambda m: pytest.fail("trained"))
    assert "loaded shipped checkpoint ch/m: 3 steps" in capsys.readouterr().out


def test_a_readers_full_run_leaves_the_package_folder_byte_identical():
    """Full mode, train='always', with a name the package ships: before, this overwrote
    the shipped checkpoint in the checkout (or in site-packages)."""
    import hashlib

    from lib.checkpoint import PRETRAINED_DIR, cached_path
    from lib.notebook import train_or_load

    def digest():
        return {
            p.relative_to(PRETRAINED_DIR): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(PRETRAINED_DIR.rglob("*"))
            if p.is_file()
        }

    name = "intro/warmup_ae"
    assert (PRETRAINED_DIR / f"{name}.pt").is_file()
    before = digest()
    _, new_model, train_fn = _tiny_warmup(steps=2)
    settings = setup(device="cpu", quick=False, train="always")
    train_or_load(settings, name, new_model(), train_fn)
    assert digest() == before
    assert cached_path(name).with_suffix(".pt").is_file()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"save": "disk"}, "save"),
        ({"prefer_cache": 1}, "prefer_cache"),
        ({"seed": 2**70}, "seed"),
        ({"seed": True}, "seed"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_seeded(kwargs, name):
    import random

    random.seed(5)
    state = random.getstate()
    with pytest.raises(ParameterError, match=rf"parameter '{name}' must be"):
        setup(device="cpu", **kwargs)
    assert random.getstate() == state


@pytest.mark.parametrize("variable", ["BOOK_SAVE", "BOOK_PREFER_CACHE"])
def test_an_unknown_environment_setting_is_refused(variable, monkeypatch):
    monkeypatch.setenv(variable, "banana")
    with pytest.raises(ParameterError, match=variable):
        setup(device="cpu")


def test_a_checkpoint_name_with_a_dot_is_looked_up_whole(tmp_path):
    settings = setup(device="cpu", quick=False, train="auto")
    (tmp_path / "model.pt").write_bytes(b"x")  # another model's file
    assert settings.should_train(tmp_path / "model.v2")  # model.v2.pt is absent
    (tmp_path / "model.v2.pt").write_bytes(b"x")
    assert not settings.should_train(tmp_path / "model.v2")


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside", "", 3])
def test_a_checkpoint_name_must_stay_inside_its_folder(name):
    from lib.checkpoint import cached_path, pretrained_path

    for where in (cached_path, pretrained_path):
        with pytest.raises(ParameterError, match="checkpoint name"):
            where(name)


def test_glue_claim_checks_its_verdict_and_prints(capsys):
    from lib.notebook import glue_claim

    glue_claim("error 0.02 (goal < 0.1)", "reproduced", "2,000 steps, CPU")
    out = capsys.readouterr().out
    assert "error 0.02 (goal < 0.1) -> reproduced (budget: 2,000 steps, CPU)" in out
    with pytest.raises(ValueError, match="verdict must be one of"):
        glue_claim("error 0.02", "yes", "2,000 steps")
    with pytest.raises(ValueError, match="what was measured"):
        glue_claim("  ", "reproduced", "2,000 steps")
    with pytest.raises(ValueError, match="rests on"):
        glue_claim("error 0.02", "reproduced", " ")
    glue_claim("ratio 4.1 (goal >= 3)", "partly reproduced", "6,000 steps", key="hole")
    assert "claim check (hole): ratio 4.1" in capsys.readouterr().out
    with pytest.raises(ValueError, match="key must be"):
        glue_claim("ratio 4.1", "reproduced", "6,000 steps", key="hole claim")


def test_trained_on_names_the_device_that_made_the_weights(tmp_path):
    from lib.notebook import setup

    settings = setup(device="cpu", seed=0, quick=False, train="auto")
    shipped = tmp_path / "m"
    shipped.with_suffix(".pt").write_bytes(b"")
    assert settings.trained_on(shipped) == "CPU (shipped checkpoint)"
    assert settings.trained_on(tmp_path / "missing") == "CPU"  # trains here


def test_glue_stores_numpy_and_torch_scalars_as_plain_numbers(monkeypatch):
    import numpy as np

    from lib import notebook

    stored = {}
    fake = type(
        "M", (), {"glue": staticmethod(lambda k, v, display: stored.update({k: v}))}
    )
    monkeypatch.setitem(__import__("sys").modules, "myst_nb", fake)
    notebook.glue("a", np.float64(0.25))
    notebook.glue("b", torch.tensor(3.0))
    assert stored == {"a": 0.25, "b": 3.0}
    assert type(stored["a"]) is float and repr(stored["a"]) == "0.25"


@pytest.mark.parametrize("value", ["banana", "2", "quick"])
def test_an_unknown_book_quick_value_is_refused(value, monkeypatch):
    from lib.notebook import ParameterError, quick_default

    monkeypatch.setenv("BOOK_QUICK", value)
    with pytest.raises(ParameterError, match="BOOK_QUICK"):
        quick_default()


@pytest.mark.parametrize(
    "value, quick", [("1", True), ("on", True), ("0", False), ("", False)]
)
def test_book_quick_reads_the_usual_spellings(value, quick, monkeypatch):
    from lib.notebook import quick_default

    monkeypatch.setenv("BOOK_QUICK", value)
    assert quick_default() is quick
