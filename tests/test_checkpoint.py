import json

import pytest
import torch
from torch import nn

from lib.checkpoint import (
    CheckpointError,
    checkpoint_paths,
    load_checkpoint,
    load_pretrained,
    register_model,
    save_checkpoint,
)


class Tiny(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.layer = nn.Linear(2, width)


def test_round_trip_restores_weights_config_and_history(tmp_path):
    model = Tiny()
    path = save_checkpoint(
        tmp_path / "m",
        model,
        {"width": 4},
        history={"loss": [1.0, 0.5, float("nan")]},
        step=2,
    )
    fresh = Tiny()
    ckpt = load_checkpoint(path, fresh, expected_config={"width": 4})
    torch.testing.assert_close(fresh.layer.weight, model.layer.weight)
    assert ckpt.config == {"width": 4} and ckpt.step == 2
    assert ckpt.history["loss"][:2] == [1.0, 0.5]
    weights, meta = checkpoint_paths(tmp_path / "m")
    assert json.loads(meta.read_text())[
        "sha256"
    ]  # checksum recorded beside the weights


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
    with pytest.raises(
        CheckpointError, match=r"width: checkpoint has 4, model wants 8"
    ):
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


# ----------------------------------------------------------------------------- the registry


def _saved_warmup(tmp_path):
    from lib.intro import WarmupAEConfig, WarmupAutoencoder

    model = WarmupAutoencoder(WarmupAEConfig(latent_dim=3, channels=4, hidden=8))
    path = save_checkpoint(
        tmp_path / "w", model, model.config.to_dict(), history={"loss": [1.0]}
    )
    return model, path


def test_load_pretrained_rebuilds_a_registered_model_from_its_json_alone(tmp_path):
    model, path = _saved_warmup(tmp_path)
    record = json.loads(checkpoint_paths(path)[1].read_text())
    assert (
        record["model_module"] == "lib.intro.model"
        and record["config"]["name"] == "WarmupAEConfig"
    )
    loaded, ckpt = load_pretrained(tmp_path / "w")
    assert (
        type(loaded) is type(model)
        and loaded.config == model.config
        and not loaded.training
    )
    for a, b in zip(loaded.parameters(), model.parameters()):
        assert torch.equal(a, b)
    assert ckpt.history["loss"] == [1.0]


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"model_module": "os"}, "only modules of the book's package"),
        ({"model_module": "lib.no_such_module"}, "cannot be imported"),
        ({"model_class": "Nonexistent"}, "no registered model class 'Nonexistent'"),
        ({"config": {"name": "WarmupAEConfig", "latent_dim": 3}}, "missing keys"),
    ],
)
def test_load_pretrained_refuses_what_it_cannot_trust(tmp_path, edit, message):
    _, path = _saved_warmup(tmp_path)
    meta = checkpoint_paths(path)[1]
    meta.write_text(json.dumps({**json.loads(meta.read_text()), **edit}))
    with pytest.raises(CheckpointError, match=message):
        load_pretrained(tmp_path / "w")


def test_a_checkpoint_naming_the_models_old_module_still_loads(tmp_path):
    model, path = _saved_warmup(tmp_path)
    meta = checkpoint_paths(path)[1]  # as written before the model left lib.nets
    meta.write_text(
        json.dumps({**json.loads(meta.read_text()), "model_module": "lib.nets"})
    )
    loaded, _ = load_pretrained(tmp_path / "w")
    assert type(loaded) is type(model)
    for a, b in zip(loaded.parameters(), model.parameters()):
        assert torch.equal(a, b)


def test_load_pretrained_names_a_missing_checkpoint():
    with pytest.raises(CheckpointError, match="no checkpoint 'nowhere/nothing'"):
        load_pretrained("nowhere/nothing")


def test_register_model_needs_a_config_class():
    with pytest.raises(TypeError, match="config_class"):
        register_model(Tiny)


def test_read_checkpoint_meta_reads_the_json_alone(tmp_path):
    import pytest

    from lib.checkpoint import CheckpointError, read_checkpoint_meta, save_checkpoint
    from lib.intro import WarmupAEConfig, WarmupAutoencoder

    model = WarmupAutoencoder(WarmupAEConfig())
    save_checkpoint(tmp_path / "m", model, model.config.to_dict(), meta={"steps": 3})
    (tmp_path / "m.pt").write_bytes(b"not read")  # the weights are not touched
    assert read_checkpoint_meta(tmp_path / "m")["steps"] == 3
    with pytest.raises(CheckpointError, match="missing"):
        read_checkpoint_meta(tmp_path / "absent")


def test_model_for_builds_the_registered_model_of_a_config():
    from lib.checkpoint import model_for
    from lib.errors import ParameterError
    from lib.intro import WarmupAEConfig, WarmupAutoencoder

    model = model_for(WarmupAEConfig(latent_dim=3, channels=4, hidden=8))
    assert type(model) is WarmupAutoencoder and model.config.latent_dim == 3
    with pytest.raises(ParameterError, match="no registered model is configured"):
        model_for({"latent_dim": 3})


# ------------------------------------------------------------ concurrent writers and readers


def _save_many(path, value, rounds):
    """A writer process: save a model whose every weight is ``value``, ``rounds`` times."""
    model = Tiny(width=64)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(value)
    for step in range(rounds):
        save_checkpoint(path, model, {"width": 64}, meta={"writer": value}, step=step)


def _agrees(ckpt):
    """The weights are the ones the metadata says wrote them."""
    writer = ckpt.meta["writer"]
    return all(bool((t == writer).all()) for t in ckpt.model_state.values())


def test_two_writer_processes_and_a_reader_never_see_weights_under_foreign_metadata(
    tmp_path,
):
    import multiprocessing

    path = tmp_path / "shared"
    _save_many(path, 0.0, 1)
    context = multiprocessing.get_context("fork")
    writers = [
        context.Process(target=_save_many, args=(path, value, 40))
        for value in (1.0, 2.0)
    ]
    for writer in writers:
        writer.start()
    reads = 0  # while the writers write (how many depends on the machine's load)
    while any(w.is_alive() for w in writers) or reads == 0:
        ckpt = load_checkpoint(path)  # a "corrupt" error here fails the test
        assert _agrees(ckpt), f"weights of another writer under {ckpt.meta}"
        reads += 1
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    final = load_checkpoint(path)
    assert _agrees(final) and final.meta["writer"] in (1.0, 2.0) and final.step == 39
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert leftovers == []


def test_a_record_a_load_relies_on_is_checked_field_by_field(tmp_path):
    path = save_checkpoint(tmp_path / "m", Tiny(), {"width": 4}, step=3)
    _, meta = checkpoint_paths(path)
    good = json.loads(meta.read_text())
    for key, bad in [
        ("step", -5),
        ("step", 2.5),
        ("step", True),
        ("history", {"loss": 1.0}),
        ("history", [1.0]),
        ("meta", [1]),
        ("config", None),
        ("sha256", "abc"),
    ]:
        meta.write_text(json.dumps({**good, key: bad}))
        with pytest.raises(CheckpointError, match=key):
            load_checkpoint(path, Tiny())
    meta.write_text(json.dumps(good))
    assert load_checkpoint(path, Tiny()).step == 3


def test_a_save_with_a_bad_step_or_numpy_meta(tmp_path):
    import numpy as np

    with pytest.raises(ValueError, match="step must be a count"):
        save_checkpoint(tmp_path / "m", Tiny(), {"width": 4}, step=-1)
    assert not list(tmp_path.iterdir())
    meta = {"loss": np.float32(0.5), "seeds": np.arange(2), "n": np.int64(3)}
    path = save_checkpoint(tmp_path / "m", Tiny(), {"width": 4}, meta=meta)
    assert load_checkpoint(path).meta == {"loss": 0.5, "seeds": [0, 1], "n": 3}


def test_save_refuses_what_its_json_cannot_hold_before_any_file(tmp_path):
    from lib.checkpoint import save_checkpoint
    from lib.errors import ParameterError

    model = torch.nn.Linear(2, 2)
    for kwargs, says in [
        ({"meta": {"when": object()}}, "meta"),
        ({"meta": [1]}, "meta"),
        ({"history": {"loss": 1.0}}, "history"),
    ]:
        with pytest.raises(ParameterError, match=says):
            save_checkpoint(tmp_path / "m", model, {"width": 2}, **kwargs)
    with pytest.raises(ParameterError, match="config"):
        save_checkpoint(tmp_path / "m", model, "width=2")
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_that_cannot_be_written_or_read_is_named(tmp_path):
    from lib.checkpoint import load_checkpoint, save_checkpoint
    from lib.errors import ParameterError

    model = torch.nn.Linear(2, 2)
    from hostile_surfaces import READ_ONLY

    with pytest.raises(CheckpointError, match="cannot write the checkpoint"):
        save_checkpoint(READ_ONLY / "m", model, {})
    path = save_checkpoint(tmp_path / "m", model, {})
    with pytest.raises(ParameterError, match="map_location"):
        load_checkpoint(path, model, map_location="gpu")
    path.with_suffix(".json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(path, model)
