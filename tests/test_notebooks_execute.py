"""Every notebook, executed in quick mode: by papermill (outputs written outside the repository)
and by nbval in lax mode, which compares only the cells marked ``# NBVAL_CHECK_OUTPUT``."""

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_papermill_quick_mode(path, tmp_path, monkeypatch):
    import papermill

    for name, value in QUICK_ENV.items():  # the kernel inherits the environment; the
        monkeypatch.setenv(name, value)  # tests after this one do not
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters={"quick": True},
        kernel_name="python3",
        cwd=str(path.parent),
        progress_bar=False,
    )
    assert nbtools.read(out)["cells"], "papermill wrote an empty notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_lax(path, tmp_path):
    env = {**os.environ, **QUICK_ENV}
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
        str(path),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
