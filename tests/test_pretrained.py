"""Every checkpoint shipped in lib/pretrained/ is intact and rebuilds from its JSON alone."""

import json
from pathlib import Path

import pytest

from lib.checkpoint import MODEL_REGISTRY, PRETRAINED_DIR, load_pretrained

SHIPPED = sorted(PRETRAINED_DIR.glob("*/*.pt"))


def test_checkpoints_are_shipped():
    assert SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shipped_checkpoint_rebuilds_from_the_registry(path: Path):
    name = f"{path.parent.name}/{path.stem}"
    model, ckpt = load_pretrained(name)  # verifies sha256, config and weights
    record = json.loads(path.with_suffix(".json").read_text())
    assert type(model).__name__ == record["model_class"]
    assert MODEL_REGISTRY[record["model_class"]] is type(model)
    assert (
        json.loads(json.dumps(model.config.to_dict())) == ckpt.config
        and not model.training
    )
    assert ckpt.history.get("loss"), "a shipped checkpoint carries its training curve"
