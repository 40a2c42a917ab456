"""The one config style (lib.config.BaseConfig): a name, to_dict and a strict from_dict."""

import json
from dataclasses import dataclass

import pytest

from lib.config import BaseConfig, ConfigError


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
