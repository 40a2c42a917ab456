"""Reader copies of the chapters (lib.nbtools.reader_copy, written by `make student`).

A reader who opens a chapter in JupyterLab or Colab would meet myst-nb's raw ``{glue:text}``
roles where the book shows numbers; the copies in book/readers/notebooks/ are the executed
chapters with those numbers pasted in, and the book's Colab buttons open them. Their sync with
what ``python -m lib.course build`` writes is also checked in test_course.py (with the manifest
it writes); here, without otter, each committed copy must be the copy of its chapter as
committed now.
"""

from __future__ import annotations

import json

import pytest
import yaml

from lib import course, nbtools
from lib.files import file_digest

CHAPTERS = [p.name for p in nbtools.notebooks()]
COPIES = nbtools.READERS_DIR / nbtools.NOTEBOOK_DIR.name
CONFIG = yaml.safe_load((nbtools.ROOT / "book" / "_config.yml").read_text())


def _markdown(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _glued(name, plain):
    return {
        "cell_type": "code",
        "metadata": {"tags": ["remove-cell"]},
        "execution_count": 2,
        "outputs": [
            {
                "output_type": "display_data",
                "metadata": {
                    "scrapbook": {
                        "name": name,
                        "mime_prefix": "application/papermill.record/",
                    }
                },
                "data": {"application/papermill.record/text/plain": plain},
            }
        ],
        "source": f"glue({name!r}, {plain})",
    }


SOLUTION = (
    "```{admonition} Solution\n:class: dropdown\nIt is {glue:text}`err:.1%`.\n```"
)


def _chapter():
    plot = {
        "cell_type": "code",
        "metadata": {},
        "execution_count": 1,
        "outputs": [{"output_type": "stream", "name": "stdout", "text": "42\n"}],
        "source": "print(42)",
    }
    return {
        "cells": [
            _markdown("# Title\n\nThe error is {glue:text}`err:.3f` ({glue}`n`)."),
            plot,
            _glued("err", "0.12345"),
            _glued("n", "7"),
            _markdown(
                "## Exercises\n\n**1.** Why? See [the teachers' page](../book/teaching.md), "
                "[a section](#exercises) and [otter](https://otter-grader.readthedocs.io).\n\n"
                + SOLUTION
            ),
        ],
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _prose(nb):
    return "\n".join(
        nbtools.source(c) for c in nb["cells"] if c["cell_type"] == "markdown"
    )


# ---------------------------------------------------------------- the copy itself


def test_a_reader_copy_pastes_the_numbers_and_keeps_outputs_and_solutions():
    nb = _chapter()
    copy = nbtools.reader_copy(nb, "99_x.ipynb")
    assert copy["cells"][0]["id"] == nbtools.READER_NOTE_ID
    assert nbtools.source(copy["cells"][0]) == nbtools.READER_NOTE.format(
        chapter="notebooks/99_x.ipynb"
    )
    assert copy["cells"][2:5] == nb["cells"][1:4], "code and outputs are the chapter's"
    first, last = nbtools.source(copy["cells"][1]), nbtools.source(copy["cells"][5])
    # the numbers the book pastes in, formatted as the book does, marked as measured
    assert first == "# Title\n\nThe error is 0.123† (7†)."
    assert "It is 12.3%†." in last and "{admonition} Solution" in last
    teaching = nbtools.repository_file_url("book/teaching.md")
    assert teaching.endswith("/blob/main/book/teaching.md")
    assert f"[the teachers' page]({teaching})" in last
    assert "[a section](#exercises)" in last, "an anchor is left alone"
    assert "[otter](https://otter-grader.readthedocs.io)" in last
    assert "{glue" not in _prose(copy)
    assert "{glue:text}" in _prose(nb), "the chapter itself is left untouched"


def test_a_reader_copy_refuses_a_number_the_chapter_never_glued():
    nb = _chapter()
    nb["cells"][0]["source"] += " And {glue:text}`never:.2f`."
    with pytest.raises(ValueError, match="'never'"):
        nbtools.reader_copy(nb, "99_x.ipynb")


@pytest.mark.parametrize(
    "args", [({"cells": "x"}, "99_x.ipynb"), (_chapter(), ""), (_chapter(), None)]
)
def test_a_reader_copy_refuses_what_is_not_a_chapter(args):
    with pytest.raises(ValueError):
        nbtools.reader_copy(*args)


# ---------------------------------------------------------------- the committed copies


@pytest.mark.parametrize("name", CHAPTERS)
def test_committed_reader_copies_are_in_sync(name):
    committed = COPIES / name
    assert committed.is_file(), f"{committed} is missing: run `make student`"
    chapter = nbtools.read(nbtools.NOTEBOOK_DIR / name)
    assert nbtools.read(committed) == nbtools.reader_copy(chapter, name), (
        f"book/readers/notebooks/{name} is stale: run `make student`"
    )


@pytest.mark.parametrize("name", CHAPTERS)
def test_a_committed_reader_copy_shows_numbers_outputs_and_solutions(name):
    copy = nbtools.read(COPIES / name)
    chapter = nbtools.read(nbtools.NOTEBOOK_DIR / name)
    prose = _prose(copy)
    assert "{glue" not in prose, "a raw glue role is left in the prose"
    assert nbtools.MEASURED_MARK in prose
    assert [c for c in copy["cells"] if c["cell_type"] == "code"] == [
        c for c in chapter["cells"] if c["cell_type"] == "code"
    ], "the code cells and their outputs are the chapter's"
    solutions = sum(
        len(nbtools.solution_blocks(nbtools.source(c)))
        for c in copy["cells"]
        if c["cell_type"] == "markdown"
    )
    assert solutions and solutions == sum(
        len(nbtools.solution_blocks(nbtools.source(c)))
        for c in chapter["cells"]
        if c["cell_type"] == "markdown"
    )
    assert len(copy["cells"]) == len(chapter["cells"]) + 1  # the note


def test_the_readers_manifest_lists_exactly_the_committed_copies():
    """What lets `make student` replace these files (and refuse a hand edit)."""
    manifest = json.loads((nbtools.READERS_DIR / course.MANIFEST).read_text())
    present = sorted(
        p.relative_to(nbtools.READERS_DIR).as_posix()
        for p in nbtools.READERS_DIR.rglob("*")
        if p.is_file() and p.name != course.MANIFEST
    )
    assert present == sorted(f"notebooks/{name}" for name in CHAPTERS)
    assert manifest["files"] == {
        rel: file_digest(nbtools.READERS_DIR / rel) for rel in present
    }, "book/readers/ changed since `make student` wrote it: run `make student`"


# ---------------------------------------------------------------- the Colab buttons


def test_the_colab_buttons_open_the_reader_copies():
    """sphinx-book-theme opens <path_to_book>/<page>.ipynb on Colab: for every chapter of
    book/_toc.yml that must be its reader copy."""
    toc = yaml.safe_load((nbtools.ROOT / "book" / "_toc.yml").read_text())
    pages = [c["file"] for c in toc["chapters"] if c["file"].startswith("notebooks/")]
    assert sorted(f"{p}.ipynb" for p in pages) == sorted(
        f"notebooks/{name}" for name in CHAPTERS
    )
    assert CONFIG["launch_buttons"]["colab_url"]
    book = CONFIG["repository"]["path_to_book"].strip("/")
    for page in pages:
        opened = nbtools.ROOT / book / f"{page}.ipynb"
        assert opened.resolve() == (COPIES / f"{page.split('/')[-1]}.ipynb").resolve()
        assert opened.is_file(), f"the Colab button of {page} opens a missing file"
    # path_to_book would send these buttons to the copies too: they must stay off
    html = CONFIG.get("html", {})
    for button in ("use_edit_page_button", "use_source_button"):
        assert not html.get(button), f"{button} would point at a reader copy"
