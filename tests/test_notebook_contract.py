"""Static checks of the committed notebooks: the contract of README.md, and the book's table of contents."""

import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import yaml

from lib import nbtools

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = nbtools.notebooks()


def _toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("chapters", "sections", "parts"):
            yield from _toc_files(entry.get(key, []))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebook under notebooks/"


def test_every_notebook_is_in_the_toc_and_every_toc_file_exists():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    files = [toc["root"], *_toc_files(toc.get("chapters", []) + toc.get("parts", []))]
    for f in files:
        assert any((ROOT / (f + ext)).is_file() for ext in ("", ".md", ".ipynb")), (
            f"{f} is in the toc but missing"
        )
    listed = {f for f in files if f.startswith("notebooks/")}
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in listed, (
            f"{nb.name} is not listed in book/_toc.yml"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_contract(path):
    assert nbtools.contract_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_points_at_the_configured_repository_and_is_a_noop_elsewhere(path):
    cells = [
        nbtools.source(c)
        for c in nbtools.read(path)["cells"]
        if c["cell_type"] == "code"
    ]
    install = next(c for c in cells if nbtools.COLAB_MARKER in c)
    assert f'REPOSITORY = "{nbtools.repository_url()}"' in install
    with mock.patch.object(
        subprocess, "run", side_effect=AssertionError("pip ran outside Colab")
    ):
        exec(compile(install, "colab-cell", "exec"), {})
    with (
        mock.patch.dict(sys.modules, {"google.colab": mock.MagicMock()}),
        mock.patch.object(subprocess, "run") as run,
    ):
        exec(compile(install, "colab-cell", "exec"), {})
    assert run.called and "pip" in run.call_args.args[0]


def test_static_checker_from_shared_tools_agrees():
    """The project's quick static check (shared/tools/check_notebooks.py), when it is present."""
    checker = ROOT.parent / "shared" / "tools" / "check_notebooks.py"
    if not checker.is_file():
        pytest.skip("shared/tools is not beside this checkout")
    result = subprocess.run(
        [sys.executable, str(checker), str(ROOT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
