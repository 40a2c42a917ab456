"""Static checks of the committed notebooks: the notebook contract (book/contributing.md), the
book's table of contents, and the front door README.md (its commands, links and verdicts)."""

import re
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


README = ROOT / "README.md"


def _readme_chapter_rows() -> dict[str, str]:
    rows = {}
    for line in README.read_text().splitlines():
        m = re.match(r"\| `(\d\d_\w+)` \|", line)
        if m:
            rows[m.group(1)] = line
    return rows


def test_readme_is_a_short_front_door_whose_test_command_ci_runs():
    text = README.read_text()
    assert len(text.splitlines()) <= 120, (
        "README.md is the front door: at most 120 lines"
    )
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    commands = [
        line.split("#")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.split("#")[0].strip()
    ]
    assert commands == ["make book", "make test"], commands
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "make test" in ci, ".ci/run must run the README's test command, make test"
    makefile = (ROOT / "Makefile").read_text()
    for target in ("book", "test"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), f"no make {target}"


def test_readme_links_resolve_and_its_pages_are_in_the_book():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    built = {toc["root"], *_toc_files(toc.get("chapters", []) + toc.get("parts", []))}
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [u for u in links if not re.match(r"[a-z]+:", u)]
    assert local, "README.md links to no page of the book"
    for url in local:
        assert (ROOT / url).is_file(), f"README.md links to {url}, which is missing"
        if url.startswith("book/") and url.endswith(".md"):
            assert url[: -len(".md")] in built, f"{url} is not in book/_toc.yml"
    for page in ("intro", "teaching", "reproducing", "running", "contributing"):
        assert f"book/{page}.md" in local, f"README.md does not link to book/{page}.md"


def test_readme_verdicts_are_the_chapters_verdicts():
    """Each chapter's row in README.md names, in italics, exactly the verdicts the landing page
    (book/intro.md) glues from that executed notebook: a verdict typed in the README cannot
    drift from the chapter's."""
    intro = (ROOT / "book" / "intro.md").read_text()
    glued = re.findall(
        r"\{glue:text\}`\.\./notebooks/(\d\d_\w+)\.ipynb::(\w+_verdict)(?::[^`]*)?`",
        intro,
    )
    assert glued, "book/intro.md glues no verdict"
    rows = _readme_chapter_rows()
    assert sorted(rows) == sorted(nb.stem for nb in NOTEBOOKS), (
        "README.md's chapter table must list every notebook"
    )
    expected: dict[str, set[str]] = {}
    for stem, key in glued:
        values = nbtools.glue_values(nbtools.read(ROOT / "notebooks" / f"{stem}.ipynb"))
        assert key in values, f"{stem} does not glue {key}"
        expected.setdefault(stem, set()).add(values[key].strip("'\""))
    for stem, row in rows.items():
        verdict = row.rsplit("|", 2)[-2]
        italic = set(re.findall(r"(?<![*\w])\*([^*]+)\*(?!\*)", verdict))
        assert italic == expected.get(stem, set()), (
            f"README.md's verdict for {stem} says {sorted(italic)}; the chapter glues "
            f"{sorted(expected.get(stem, set()))}"
        )
