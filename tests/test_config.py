"""The one config style (lib.config.BaseConfig): a name, to_dict and a strict from_dict."""

import json
from dataclasses import dataclass, field

import pytest

from lib.config import (
    BaseConfig,
    ConfigError,
    config_arguments,
    config_from_args,
    parse_overrides,
)
from lib.trainer import TrainerConfig


@dataclass
class ToyConfig(BaseConfig):
    width: int = 4
    widths: tuple[int, ...] = (1, 2)
    kind: str = "a"


def test_to_dict_names_the_config_and_round_trips_through_json():
    cfg = ToyConfig(width=8, widths=(3, 4, 5))
    d = cfg.to_dict()
    assert d == {"name": "ToyConfig", "width": 8, "widths": (3, 4, 5), "kind": "a"}
    assert cfg.name == "ToyConfig"
    back = ToyConfig.from_dict(
        json.loads(json.dumps(d))
    )  # JSON turns the tuple into a list
    assert back == cfg and isinstance(back.widths, tuple)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"depth": 3}, r"unknown keys \['depth'\]"),
        ({"width": None}, r"missing keys \['width'\]"),
        ({"name": "OtherConfig"}, "named 'OtherConfig', expected 'ToyConfig'"),
        ({"name": None}, "named None"),
    ],
)
def test_from_dict_is_strict(change, message):
    d = ToyConfig().to_dict()
    for key, value in change.items():
        if value is None:
            d.pop(key)
        else:
            d[key] = value
    with pytest.raises(ConfigError, match=message):
        ToyConfig.from_dict(d)


def test_every_model_config_of_the_book_uses_the_base_class():
    import lib.intro  # noqa: F401  (registers the warm-up network)
    import lib.nets  # noqa: F401  (registers the shared networks)
    import lib.taking_apart  # noqa: F401
    import lib.toroidal  # noqa: F401
    from lib.checkpoint import MODEL_REGISTRY

    assert {
        "DiskAutoencoder",
        "TorusAutoencoder",
        "WarmupAutoencoder",
        "DigitJudge",
        "DCGANAutoencoder",
    } <= set(MODEL_REGISTRY)
    for cls in MODEL_REGISTRY.values():
        config = cls.config_class()
        assert isinstance(config, BaseConfig)
        assert type(config).from_dict(config.to_dict()) == config


# ---- config trees (run specs): nested branches, strict overrides, generated options ----
@dataclass
class _Leafy(BaseConfig):
    rate: float = 0.5
    sizes: tuple[int, ...] = (2, 3)


@dataclass
class _Tree(BaseConfig):
    branch: _Leafy = field(default_factory=_Leafy)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    seed: int = 0


def test_a_config_tree_round_trips_through_json_with_each_branch_named():
    tree = _Tree(branch=_Leafy(rate=0.25, sizes=(4,)), seed=3)
    written = json.loads(json.dumps(tree.to_dict()))
    assert written["branch"]["name"] == "_Leafy"
    assert written["trainer"]["name"] == "TrainerConfig"
    assert _Tree.from_dict(written) == tree
    written["branch"]["name"] = "Other"
    with pytest.raises(ConfigError, match="expected '_Leafy'"):
        _Tree.from_dict(written)


def test_override_changes_leaves_by_path_and_refuses_what_is_not_a_setting():
    tree = _Tree()
    changed = tree.override({"branch.rate": 1, "trainer.lr": 1e-4}, seed=2)
    assert changed.branch.rate == 1.0 and isinstance(changed.branch.rate, float)
    assert (changed.trainer.lr, changed.seed) == (1e-4, 2)
    assert tree == _Tree()  # the original is untouched
    assert tree.override({"branch.sizes": [5, 6]}).branch.sizes == (5, 6)
    assert tree.leaves()["trainer.steps"] == 1000
    with pytest.raises(ConfigError, match="did you mean 'trainer.lr'"):
        tree.override({"lr": 1.0})
    with pytest.raises(ConfigError, match="no setting 'branch.width'"):
        tree.override({"branch.width": 1})
    with pytest.raises(ConfigError, match="lr must be a finite number"):
        tree.override({"trainer.lr": float("inf")})
    with pytest.raises(ValueError, match="lr must be positive"):
        tree.override({"trainer.lr": -1.0})
    # a whole branch may be replaced, by a config of its own class only
    assert tree.override(branch=_Leafy(rate=2.0)).branch.rate == 2.0
    with pytest.raises(ConfigError, match="branch is a _Leafy"):
        tree.override(branch=TrainerConfig())


def test_generated_options_put_checked_settings_into_the_config(capsys):
    import argparse

    parser = argparse.ArgumentParser()
    flags = {"trainer.lr": "--lr", "branch.sizes": "--sizes", "seed": ("--seed", int)}
    config_arguments(parser, _Tree(), flags)
    args = parser.parse_args(["--lr", "1e-4", "--sizes", "[7, 8]", "--seed", "4"])
    tree = config_from_args(parser, args, _Tree())
    assert (tree.trainer.lr, tree.branch.sizes, tree.seed) == (1e-4, (7, 8), 4)
    assert config_from_args(parser, parser.parse_args([]), _Tree()) == _Tree()
    with pytest.raises(SystemExit) as stop:
        config_from_args(parser, parser.parse_args(["--lr", "-1"]), _Tree())
    assert stop.value.code == 2 and "--lr -1" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="no setting 'nope'"):
        config_arguments(argparse.ArgumentParser(), _Tree(), {"nope": "--nope"})
    assert parse_overrides(["trainer.lr=1e-4", "branch.sizes=[1]", "x=text"]) == {
        "trainer.lr": 1e-4,
        "branch.sizes": [1],
        "x": "text",
    }
    with pytest.raises(ConfigError, match="PATH=VALUE"):
        parse_overrides(["seed"])


def test_a_branch_is_checked_when_built_and_not_changed_twice_at_once():
    with pytest.raises(ConfigError, match="branch"):
        _Tree(branch="x")
    with pytest.raises(ConfigError, match="changed whole and by a path below it"):
        _Tree().override({"trainer": TrainerConfig(lr=0.5), "trainer.steps": 7})
    with pytest.raises(ConfigError, match="list of PATH=VALUE"):
        parse_overrides("seed=2")
