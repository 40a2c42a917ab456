"""Every notebook, executed once in quick mode: papermill injects the parameters (``quick =
True``, into a copy outside the repository) and nbval, in lax mode, executes that copy and
compares the cells marked ``# NBVAL_CHECK_OUTPUT`` with the committed outputs (papermill's
``prepare_only`` keeps them). One execution serves both tools: a cell that raises fails the
test, and so does a marked cell whose output changed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib import nbtools

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = nbtools.notebooks()
QUICK_ENV = {
    "BOOK_QUICK": "1",
    "BOOK_NO_PROGRESS": "1",
    "BOOK_STATIC": "1",
    "BOOK_OFFLINE": "1",
}

pytestmark = pytest.mark.notebook


def parameterised_copy(path: Path, folder: Path) -> Path:
    """``path`` with papermill's injected ``quick = True`` cell, outputs kept, in ``folder``."""
    import papermill

    out = folder / path.name
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters={"quick": True},
        prepare_only=True,
        kernel_name="python3",
        progress_bar=False,
    )
    return out


def test_papermill_injects_the_quick_parameter_and_keeps_the_outputs(tmp_path):
    path = NOTEBOOKS[0]
    copy = nbtools.read(parameterised_copy(path, tmp_path))
    original = nbtools.read(path)
    injected = [
        c
        for c in copy["cells"]
        if "injected-parameters" in c["metadata"].get("tags", [])
    ]
    assert len(injected) == 1 and "quick = True" in "".join(injected[0]["source"])
    assert len(copy["cells"]) == len(original["cells"]) + 1
    outputs = [c.get("outputs") for c in original["cells"] if c["cell_type"] == "code"]
    kept = [
        c.get("outputs")
        for c in copy["cells"]
        if c["cell_type"] == "code" and c not in injected
    ]
    assert kept == outputs and any(outputs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_reads_every_parameter(path):
    import papermill

    # a line papermill cannot parse (an "=" in its comment) is still injected, but with a
    # warning, and `papermill --help-notebook` hides it
    found = papermill.inspect_notebook(str(path))
    assert {"quick", "seed", "device"} <= set(found), sorted(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_quick_mode_runs_and_checked_outputs_match(path, tmp_path):
    copy = parameterised_copy(path, tmp_path)
    env = {**os.environ, **QUICK_ENV}  # the kernel inherits it; this process does not
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval-lax",
        "--nbval-current-env",
        "--nbval-kernel-name",
        "python3",
        f"--rootdir={tmp_path}",
        "-o",
        "testpaths=",
        str(copy),
    ]
    result = subprocess.run(
        cmd, capture_output=True, text=True, cwd=path.parent, env=env
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout, result.stdout[-2000:]
