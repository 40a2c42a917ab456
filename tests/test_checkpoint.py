import json

import pytest
import torch
from torch import nn

from lib.checkpoint import CheckpointError, checkpoint_paths, load_checkpoint, save_checkpoint


class Tiny(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.layer = nn.Linear(2, width)


def test_round_trip_restores_weights_config_and_history(tmp_path):
    model = Tiny()
    path = save_checkpoint(tmp_path / "m", model, {"width": 4}, history={"loss": [1.0, 0.5, float("nan")]}, step=2)
    fresh = Tiny()
    ckpt = load_checkpoint(path, fresh, expected_config={"width": 4})
    torch.testing.assert_close(fresh.layer.weight, model.layer.weight)
    assert ckpt.config == {"width": 4} and ckpt.step == 2
    assert ckpt.history["loss"][:2] == [1.0, 0.5]
    weights, meta = checkpoint_paths(tmp_path / "m")
    assert json.loads(meta.read_text())["sha256"]  # checksum recorded beside the weights


def test_loading_uses_weights_only(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m", Tiny(), {"width": 4})
    seen = {}
    original = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_checkpoint(path, Tiny())
    assert seen.get("weights_only") is True


def test_corrupt_weights_are_detected(tmp_path):
    path = save_checkpoint(tmp_path / "m", Tiny(), {"width": 4})
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path, Tiny())


def test_truncated_metadata_is_reported(tmp_path):
    save_checkpoint(tmp_path / "m", Tiny(), {"width": 4})
    meta = tmp_path / "m.json"
    meta.write_text(meta.read_text()[:20])
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path / "m")


def test_config_mismatch_lists_the_differing_keys(tmp_path):
    save_checkpoint(tmp_path / "m", Tiny(), {"width": 4, "depth": 1})
    with pytest.raises(CheckpointError, match=r"width: checkpoint has 4, model wants 8"):
        load_checkpoint(tmp_path / "m", expected_config={"width": 8, "depth": 1})


def test_shape_mismatch_and_wrong_class_are_reported(tmp_path):
    save_checkpoint(tmp_path / "m", Tiny(4), {"width": 4})
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(tmp_path / "m", Tiny(8))
    with pytest.raises(CheckpointError, match="holds a Tiny"):
        load_checkpoint(tmp_path / "m", nn.Linear(2, 4))


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(tmp_path / "nothing")
