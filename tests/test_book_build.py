"""The HTML book builds from the notebooks' stored outputs, with warnings as errors."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.book


def test_book_builds_without_warnings(tmp_path):
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [
        str(jb),
        "build",
        ".",
        "--toc",
        "book/_toc.yml",
        "--config",
        "book/_config.yml",
        "--path-output",
        str(tmp_path),
        "-W",
        "-n",
        "--keep-going",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    log = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, log
    html = tmp_path / "_build" / "html"
    intro = (html / "notebooks" / "00_introduction.html").read_text()
    assert "animation" in intro.lower() and "<input" in intro, (
        "the static latent slider is missing"
    )
    assert "data:image/png;base64" in intro or list((html / "_images").glob("*.png")), (
        "no figures rendered"
    )
    assert (html / "index.html").is_file()
    shutil.rmtree(tmp_path / "_build" / ".doctrees", ignore_errors=True)
