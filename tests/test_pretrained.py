"""Every checkpoint shipped in lib/pretrained/ is intact (checksum) and loads into its model class."""
import json
from pathlib import Path

import pytest

from lib.checkpoint import load_checkpoint
from lib.models.digit_judge import DigitJudge, DigitJudgeConfig
from lib.models.disk import DCGANAEConfig, DCGANAutoencoder, DiskAEConfig, DiskAutoencoder
from lib.models.torus import TorusAEConfig, TorusAutoencoder
from lib.models.warmup import WarmupAEConfig, WarmupAutoencoder
from lib.notebook import PRETRAINED_DIR

MODELS = {
    "WarmupAutoencoder": (WarmupAutoencoder, WarmupAEConfig),
    "DiskAutoencoder": (DiskAutoencoder, DiskAEConfig),
    "DCGANAutoencoder": (DCGANAutoencoder, DCGANAEConfig),
    "TorusAutoencoder": (TorusAutoencoder, TorusAEConfig),
    "DigitJudge": (DigitJudge, DigitJudgeConfig),
}
SHIPPED = sorted(PRETRAINED_DIR.glob("*/*.pt"))


def test_checkpoints_are_shipped():
    assert SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_checkpoint_loads_into_its_model(path: Path):
    ckpt = load_checkpoint(path)  # verifies the sha256 recorded beside the weights
    cls, config_cls = MODELS[json.loads(path.with_suffix(".json").read_text())["model_class"]]
    model = cls(config_cls.from_dict(ckpt.config))
    load_checkpoint(path, model, expected_config=model.config.to_dict())
    assert ckpt.history.get("loss"), "a shipped checkpoint carries its training curve"
