"""The BOOK_* settings: one reader for flags and one for folders, checked before any work."""

from __future__ import annotations

import os
import stat

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lib.config import FLAG_FALSE, FLAG_TRUE, env_flag, env_folder
from lib.errors import ParameterError

FLAGS = (
    "BOOK_QUICK",
    "BOOK_PREFER_CACHE",
    "BOOK_NO_PROGRESS",
    "BOOK_OFFLINE",
    "BOOK_STATIC",
)


@given(
    word=st.sampled_from(FLAG_TRUE + FLAG_FALSE),
    case=st.sampled_from([str.lower, str.upper, str.title]),
    pad=st.sampled_from(["", " ", "\t"]),
)
def test_every_spelling_of_yes_and_no_reads_the_same(word, case, pad):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOOK_QUICK", pad + case(word) + pad)
        assert env_flag("BOOK_QUICK") is (word in FLAG_TRUE)


@given(
    st.text(min_size=1).filter(
        lambda t: t.strip().lower() not in FLAG_TRUE + FLAG_FALSE
    )
)
def test_anything_else_is_refused_naming_the_variable(value):
    if "\x00" in value:
        return  # an environment value cannot hold a NUL
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOOK_OFFLINE", value)
        with pytest.raises(ParameterError, match="BOOK_OFFLINE"):
            env_flag("BOOK_OFFLINE")


@pytest.mark.parametrize(
    "variable, value, reader, expected",
    [
        ("BOOK_NO_PROGRESS", "false", "trainer", True),  # the bar stays on
        ("BOOK_NO_PROGRESS", "off", "trainer", True),
        ("BOOK_NO_PROGRESS", "1", "trainer", False),
        ("BOOK_STATIC", "on", "static", True),
        ("BOOK_STATIC", "no", "static", False),
        ("BOOK_PREFER_CACHE", "yes", "prefer", True),
    ],
)
def test_each_flag_means_what_it_says(monkeypatch, variable, value, reader, expected):
    from lib import notebook, trainer

    monkeypatch.setenv(variable, value)
    read = {
        "trainer": trainer._progress_default,
        "static": notebook.static_default,
        "prefer": notebook.prefer_cache_default,
    }[reader]
    assert read() is expected


@pytest.mark.parametrize("variable", FLAGS)
def test_every_flag_refuses_an_unknown_value(monkeypatch, variable):
    from lib import notebook, trainer
    from lib.data import mnist

    monkeypatch.setenv(variable, "2")
    read = {
        "BOOK_QUICK": notebook.quick_default,
        "BOOK_PREFER_CACHE": notebook.prefer_cache_default,
        "BOOK_NO_PROGRESS": trainer._progress_default,
        "BOOK_STATIC": notebook.static_default,
        "BOOK_OFFLINE": lambda: mnist.load_mnist("test", source="auto"),
    }[variable]
    with pytest.raises(ParameterError, match=variable):
        read()


def test_book_offline_false_means_online(monkeypatch, tmp_path):
    from lib.data import mnist

    calls = []
    monkeypatch.setattr(mnist, "download_mnist", lambda d: calls.append(d) or False)
    monkeypatch.setenv("BOOK_OFFLINE", "false")
    monkeypatch.setenv("BOOK_DATA", str(tmp_path))
    mnist.load_mnist("test")
    assert calls  # it tried to download
    calls.clear()
    monkeypatch.setenv("BOOK_OFFLINE", "true")
    mnist.load_mnist("test")
    assert not calls


def test_folder_settings_refuse_a_file(monkeypatch, tmp_path):
    from lib.checkpoint import user_cache_dir
    from lib.data.mnist import default_data_dir

    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    monkeypatch.setenv("BOOK_DATA", str(a_file))
    with pytest.raises(ParameterError, match="BOOK_DATA.*a file"):
        default_data_dir()
    monkeypatch.setenv("BOOK_CACHE", str(a_file))
    with pytest.raises(ParameterError, match="BOOK_CACHE.*a file"):
        user_cache_dir()
    monkeypatch.setenv("BOOK_CACHE", str(tmp_path / "new"))
    assert env_folder("BOOK_CACHE") == tmp_path / "new"
    monkeypatch.delenv("BOOK_CACHE")
    assert env_folder("BOOK_CACHE") is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_a_read_only_cache_is_refused_by_the_folder_check(tmp_path):
    from lib.config import check_writable_folder

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    with pytest.raises(ParameterError, match="cannot write"):
        check_writable_folder(folder, "BOOK_CACHE")


def _settings_and_model(monkeypatch, cache):
    from lib.intro.model import WarmupAEConfig, WarmupAutoencoder
    from lib.notebook import setup

    monkeypatch.setenv("BOOK_CACHE", str(cache))
    settings = setup(device="cpu", seed=0, quick=False, train="always")
    return settings, WarmupAutoencoder(WarmupAEConfig())


def test_a_cache_that_cannot_be_written_stops_the_run_before_training(
    monkeypatch, tmp_path
):
    from lib.notebook import train_or_load

    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache's folder would go")
    settings, model = _settings_and_model(monkeypatch, blocker / "cache")
    trained = []
    with pytest.raises(ParameterError, match="BOOK_CACHE"):
        train_or_load(settings, "intro/x", model, lambda m: trained.append(1) or {})
    assert not trained


def test_a_training_function_must_return_a_history(monkeypatch, tmp_path):
    from lib.notebook import train_or_load

    settings, model = _settings_and_model(monkeypatch, tmp_path)
    with pytest.raises(ParameterError, match="history dict of lists"):
        train_or_load(settings, "intro/x", model, lambda m: torch.tensor(1.0))
    assert not list(
        tmp_path.rglob("*.json")
    )  # nothing saved that a load would choke on


def test_a_folder_setting_under_a_file_is_refused(monkeypatch, tmp_path):
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    monkeypatch.setenv("BOOK_CACHE", str(a_file / "cache"))
    with pytest.raises(ParameterError, match="BOOK_CACHE.*a file"):
        env_folder("BOOK_CACHE")


def test_check_can_write_creates_nothing(tmp_path):
    from lib.config import check_can_write

    target = tmp_path / "a" / "b" / "r.jsonl"
    assert check_can_write(target, "--out") == target
    assert check_can_write(tmp_path / "run", "--out", folder=True) == tmp_path / "run"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ParameterError, match="--out .* is a folder, not a file"):
        check_can_write(tmp_path, "--out")
    from hostile_surfaces import READ_ONLY

    with pytest.raises(ParameterError, match=f"cannot write in {READ_ONLY}"):
        check_can_write(READ_ONLY / "new" / "r.jsonl", "--out")
