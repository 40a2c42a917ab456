import matplotlib

matplotlib.use(
    "Agg"
)  # in-process only: notebook kernels started by the tests keep the inline backend

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(scope="session")
def dsprites():
    """The procedural dSprites (renders on demand: cheap to share across the session)."""
    from lib.data.dsprites import DSprites

    return DSprites()


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory, monkeypatch):
    """A reader's cache of the test's own: no test writes to the real user cache, and none
    reads a checkpoint a reader trained."""
    monkeypatch.setenv("BOOK_CACHE", str(tmp_path_factory.mktemp("cache")))
    for variable in ("BOOK_SAVE", "BOOK_PREFER_CACHE"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The HTML book, built once per test session exactly as `make book` builds it.

    Returns ``(html_dir, log, seconds)``; the build must succeed with warnings as errors.
    """
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [
        str(jb),
        "build",
        ".",
        "--toc",
        "book/_toc.yml",
        "--config",
        "book/_config.yml",
    ]
    cmd += ["--path-output", str(out), "-W", "-n", "--keep-going"]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    seconds = time.perf_counter() - start
    log = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, log
    return out / "_build" / "html", log, seconds


@pytest.fixture
def run_script(monkeypatch):
    """``run_script(path, *argv)`` runs a script as ``python path *argv`` in this process."""
    import runpy
    import sys

    def run(script, *argv) -> None:
        monkeypatch.setattr(sys, "argv", [str(script), *map(str, argv)])
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as stop:  # a script ends with sys.exit(run_main(main))
            if stop.code not in (0, None):
                raise

    return run
