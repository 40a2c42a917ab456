"""Maintenance of the committed notebooks (used by ``make execute`` and the tests).

python -m lib.nbtools clean notebooks/00_introduction.ipynb   # strip run-specific metadata
python -m lib.nbtools sync-colab                                # write the repo URL into install cells
python -m lib.nbtools check                                     # the notebook contract, as the tests check it
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import sys
from pathlib import Path

from .errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
MAX_NOTEBOOK_BYTES = 5 * 1024 * 1024
LOCAL_PATH = re.compile(
    r"(/home/[\w.-]+/|/root/|/Users/[\w.-]+/|[A-Z]:\\\\Users|site-packages/|/tmp/|/work/)"
)
COLAB_MARKER = "# Colab only: install the book's helper package"
# The Colab cell names the repository once, on a line of its own (exempt from the line limit,
# since a fork's URL may be longer).
REPOSITORY_LINE = re.compile(r'^REPOSITORY = "(?P<url>[^"]+)"$', re.M)
MAX_CODE_LINE = (
    88  # characters a code cell shows in the rendered book without scrolling
)
STUDENT_DIR = ROOT / "student"
# Teaching material: every chapter opens with its learning objectives (and, for a paper's
# chapter, the claim it tests) and closes with exercises whose solutions are collapsed
# admonitions, and graded ones (lib/course.py). `make student` writes copies without the
# solutions and without outputs (:func:`student_copy`, via lib.course).
OBJECTIVES_MARKER = "**In this chapter you will**"
CLAIM_MARKER = "**The claim this chapter tests.**"
# ... and says what it assumes and costs: prerequisites, and reading and run times pasted from
# the measured record (lib.notebook.glue_run_times).
BEFORE_MARKER = "**Before you start.** *Prerequisites:*"
RUN_TIME_ROLES = ("read_minutes", "run_quick", "run_full", "run_machine")
EXERCISES_HEADING = re.compile(r"^## Exercises\s*$", re.M)
SOLUTION_START = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{admonition\} Solution\b.*$", re.M
)
STUDENT_NOTE = (
    "*Student copy: the solutions and all outputs are removed. Every number in the text "
    "marked † was measured when the book was built; run the cells and compare. The book "
    "has the executed chapter and the exercises' solutions.*\n\n"
)
# A myst-nb glue role in the prose, {glue:text}`key:.3f`: it needs the outputs a student
# copy does not have, and would show as raw markup, so a student copy pastes in the value.
GLUE_ROLE = re.compile(
    r"\{glue(?::(?P<kind>\w+))?\}`(?P<key>[^`:]+)(?::(?P<spec>[^`]*))?`"
)
MEASURED_MARK = (
    "†"  # follows every value pasted into a student copy: "measured when built"
)
# Reader copies (:func:`reader_copy`, written by ``make student`` through lib.course): the
# executed chapters with their outputs and solutions, the glued numbers pasted into the prose,
# for a reader who opens a chapter in JupyterLab or Colab, where myst-nb's glue roles would
# show as raw markup. They mirror the repository's layout under book/readers/
# (book/readers/notebooks/<chapter>.ipynb), so that book/_config.yml's
# ``repository: path_to_book: book/readers`` points the book's Colab buttons at them.
READERS_DIR = ROOT / "book" / "readers"
READER_NOTE_ID = "reader-copy-note"
READER_NOTE = (
    "*Reader copy of the chapter `{chapter}`, as the book shows it: the outputs of the "
    "committed run and the exercises' solutions (in `Solution` boxes, which JupyterLab "
    "renders with jupyterlab-myst; elsewhere they show as plain text). Every number in the "
    "text marked † is pasted from that run's outputs, formatted as the book formats it; "
    "re-running the cells recomputes the outputs, not the text. Written by `make student`: "
    "edit the chapter, not this copy.*"
)
# A relative link in a chapter's markdown, e.g. [For teachers](../book/teaching.md).
RELATIVE_LINK = re.compile(r"\]\((?![a-zA-Z][\w+.-]*:|#|/)(?P<target>[^)\s]+)\)")


def notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb"))


def read(path: Path) -> dict:
    """The notebook at ``path``; a path that is not a readable nbformat-4 notebook (missing, a
    folder, cut, another JSON) is a :class:`~lib.errors.ParameterError` naming it."""
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"path must be a notebook's path, got {path!r:.60}")
    problem = _not_a_notebook(Path(path))
    if problem:
        raise ParameterError(f"{path}: {problem}")
    return json.loads(Path(path).read_text())


def check_notebook(nb: object, name: str = "nb") -> dict:
    """``nb`` if it is a notebook's JSON (a dict with a list of cells, each with its type),
    else a :class:`~lib.errors.ParameterError` naming ``name``."""
    if not _has_cells(nb):
        raise ParameterError(
            f"{name} must be a Jupyter notebook (a dict with a list of cells), "
            f"got {nb!r:.60}"
        )
    return nb


def write(path: Path, nb: dict) -> None:
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def glue_values(nb: dict) -> dict[str, str]:
    """The glued values an executed notebook holds: ``{key: text/plain}`` (myst-nb's glue).

    myst-nb stores each :func:`lib.notebook.glue` as an output whose metadata names the key
    (``scrapbook.name``) and the prefix of its MIME types (``scrapbook.mime_prefix``, which hides
    the value from a plain notebook viewer); its ``text/plain`` is what the book formats into
    the prose.
    """
    values = {}
    for cell in check_notebook(nb)["cells"]:
        for out in cell.get("outputs", []):
            scrapbook = out.get("metadata", {}).get("scrapbook", {})
            name, prefix = scrapbook.get("name"), scrapbook.get("mime_prefix", "")
            plain = out.get("data", {}).get(f"{prefix}text/plain")
            if name is not None and plain is not None:
                values[name] = "".join(plain) if isinstance(plain, list) else plain
    return values


def fill_glue(text: str, values: dict[str, str]) -> str:
    """``text`` with every glue role replaced by its value, formatted as the book formats it.

    The format spec of ``{glue:text}`key:.2f` `` is applied by myst-nb's own formatter, so a
    student copy shows the very string the book page shows, followed by
    :data:`MEASURED_MARK`. A key the notebook never glued is an error (the book's build fails
    on it too), never a silent blank.
    """
    from myst_nb.core.variables import format_plain_text

    if not isinstance(text, str) or not isinstance(values, dict):
        raise ParameterError(
            f"fill_glue takes a text and a dict of glued values, got {text!r:.40} and "
            f"{values!r:.40}"
        )

    def paste(match: re.Match) -> str:
        key, spec = match.group("key"), match.group("spec") or ""
        if key not in values:
            raise ValueError(
                f"the text pastes glue key {key!r}, which no output of the notebook holds "
                "(execute the notebook first)"
            )
        return format_plain_text(values[key], spec) + MEASURED_MARK

    return GLUE_ROLE.sub(paste, text)


def _repository() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "book" / "_config.yml").read_text())["repository"]


def repository_url() -> str:
    """The repository URL from ``book/_config.yml`` (the single place it is configured)."""
    return _repository()["url"].rstrip("/")


def repository_file_url(relpath: str) -> str:
    """The web page of the committed file ``relpath`` (from the repository's root) on the
    configured repository and branch, e.g. ``.../blob/main/book/teaching.md``."""
    repository = _repository()
    branch = repository.get("branch") or "main"
    return f"{repository['url'].rstrip('/')}/blob/{branch}/{relpath}"


def clean(path: Path) -> None:
    """Remove papermill's per-run metadata (timestamps, durations) so re-executions diff cleanly."""
    nb = read(path)
    nb.get("metadata", {}).pop("papermill", None)
    nb["metadata"]["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
        if cell["cell_type"] == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("papermill", None)
    write(path, nb)


def sync_colab(paths: list[Path] | None = None) -> list[Path]:
    """Point every notebook's Colab install cell at the configured repository URL."""
    url, changed = repository_url(), []
    for path in paths or notebooks():
        nb = read(path)
        for cell in nb["cells"]:
            text = source(cell)
            if COLAB_MARKER in text:
                new = REPOSITORY_LINE.sub(f'REPOSITORY = "{url}"', text)
                if new != text:
                    cell["source"] = new.splitlines(keepends=True)
                    changed.append(path)
        write(path, nb)
    return changed


def solution_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the solution admonitions in a markdown cell's text.

    A solution opens with a fence line ```` ```{admonition} Solution ```` (or more backticks, or
    colons) and closes at the next line that is exactly that fence. A fence line of the same
    length with an info string inside (a nested ```` ```python ````) would close it early in
    MyST: that, and a missing closing fence, raise ValueError.
    """
    spans = []
    for start in SOLUTION_START.finditer(text):
        fence = start.group("fence")
        pos = start.end()
        for line in re.finditer(r"^.*$", text[pos:], re.M):
            stripped = line.group(0).rstrip()
            if stripped == fence:
                spans.append((start.start(), pos + line.end()))
                break
            if re.fullmatch(
                rf"{re.escape(fence)}(?!{re.escape(fence[0])})\S.*", stripped
            ):
                raise ValueError(
                    f"a fence {stripped!r} nested in a solution opened by {fence!r}: "
                    "open the solution with a longer fence"
                )
        else:
            raise ValueError(f"a solution opened by {fence!r} is never closed")
    return spans


NBVAL_MARKER = re.compile(
    r"^# NBVAL_\w+\n?", re.M
)  # the tests' marks, noise to a student


def student_copy(
    nb: dict, values: dict[str, str] | None = None, note: bool = True
) -> dict:
    """``nb`` without solutions and outputs: what a student starts from (as fastbook's clean/).

    Solution admonitions are cut out of markdown cells (a cell left empty is dropped), glued
    numbers in the prose become the values the executed notebook holds (``values``, by default
    :func:`glue_values` of ``nb``; each marked :data:`MEASURED_MARK`), code cells lose their
    outputs, execution counts and the tests' ``# NBVAL_...`` marks, and (``note``) a first
    cell says what was removed.
    """
    check_notebook(nb)
    values = glue_values(nb) if values is None else values
    if not isinstance(values, dict):
        raise ParameterError(
            f"values must be a dict of glued texts, got {values!r:.60}"
        )
    nb = json.loads(json.dumps(nb))  # a deep copy
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = source(cell)
            for start, end in reversed(solution_blocks(text)):
                text = text[:start] + text[end:]
            text = fill_glue(text, values)
            text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
            if not text:
                continue
            cell["source"] = text
        elif cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            cell["source"] = NBVAL_MARKER.sub("", source(cell))
        cells.append(cell)
    first = {"cell_type": "markdown", "metadata": {}, "source": STUDENT_NOTE.strip()}
    nb["cells"] = [first, *cells] if note else cells
    return nb


def reader_copy(nb: dict, name: str, values: dict[str, str] | None = None) -> dict:
    """The executed chapter ``name`` (e.g. ``"01_taking_apart_autoencoders.ipynb"``) as a
    reader opens it outside the book: ``nb`` with its outputs and solutions, and in its
    markdown every glued number pasted in.

    The glue roles become the values the executed notebook holds (``values``, by default
    :func:`glue_values` of ``nb``), formatted and marked :data:`MEASURED_MARK` as in a student
    copy (:func:`fill_glue`); a relative link (``../book/teaching.md``) becomes the linked
    file's page on the repository (:func:`repository_file_url`), which works from wherever
    the copy is opened, Colab included; a first cell says what the copy is. Code cells, their
    outputs and execution counts, and every other cell are the chapter's own.
    """
    check_notebook(nb)
    if not isinstance(name, str) or not name:
        raise ParameterError(f"name must be the chapter's file name, got {name!r:.60}")
    values = glue_values(nb) if values is None else values
    if not isinstance(values, dict):
        raise ParameterError(
            f"values must be a dict of glued texts, got {values!r:.60}"
        )
    chapter = f"{NOTEBOOK_DIR.name}/{name}"

    def link(match: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(NOTEBOOK_DIR.name, match["target"]))
        if target.startswith(".."):  # outside the repository: left as it is
            return match.group(0)
        return f"]({repository_file_url(target)})"

    nb = json.loads(json.dumps(nb))  # a deep copy
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = source(cell)
            new = RELATIVE_LINK.sub(link, fill_glue(text, values))
            if new != text:
                cell["source"] = new.splitlines(keepends=True)
    note = {
        "cell_type": "markdown",
        "id": READER_NOTE_ID,
        "metadata": {},
        "source": READER_NOTE.format(chapter=chapter),
    }
    if nb.get("nbformat_minor", 0) < 5:  # cell ids came with nbformat 4.5
        del note["id"]
    nb["cells"] = [note, *nb["cells"]]
    return nb


def contract_problems(path: Path) -> list[str]:
    """Every way ``path`` breaks the notebook contract (see book/contributing.md, "The notebook contract")."""
    nb, problems = read(path), []
    name = path.name
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        problems.append(
            f"{name}: {path.stat().st_size / 1e6:.1f} MB, over the 5 MB limit"
        )
    if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "python3":
        problems.append(f"{name}: kernelspec name must be 'python3'")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if not code or "parameters" not in code[0].get("metadata", {}).get("tags", []):
        problems.append(f"{name}: the first code cell must be tagged 'parameters'")
    else:
        params = source(code[0])
        for param in ("device", "seed", "quick", "train"):
            if not re.search(rf"^{param}\s*=", params, re.M):
                problems.append(f"{name}: the parameters cell does not set {param!r}")
    if not any(COLAB_MARKER in source(c) for c in code[:3]):
        problems.append(f"{name}: no Colab install cell among the first code cells")
    markdown = [source(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    if not markdown or OBJECTIVES_MARKER not in markdown[0]:
        problems.append(f"{name}: the first cell must list {OBJECTIVES_MARKER!r}")
    elif not name.startswith("00_") and CLAIM_MARKER not in markdown[0]:
        problems.append(f"{name}: the first cell must state {CLAIM_MARKER!r}")
    if markdown and BEFORE_MARKER not in markdown[0]:
        problems.append(f"{name}: the first cell must say {BEFORE_MARKER!r}")
    elif markdown:
        pasted = {m.group("key") for m in GLUE_ROLE.finditer(markdown[0])}
        missing = [key for key in RUN_TIME_ROLES if key not in pasted]
        if missing:
            problems.append(
                f"{name}: the first cell does not paste the run times {missing}"
            )
    if not any(EXERCISES_HEADING.search(text) for text in markdown):
        problems.append(f"{name}: no '## Exercises' section")
    try:
        n_solutions = sum(len(solution_blocks(text)) for text in markdown)
    except ValueError as err:
        problems.append(f"{name}: {err}")
    else:
        if n_solutions == 0:
            problems.append(f"{name}: the exercises have no collapsed solution")
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        problems.append(
            f"{name}: execution counts {counts} are not 1..{len(code)} (restart and run all)"
        )
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            for number, line in enumerate(source(cell).splitlines(), start=1):
                if len(line) > MAX_CODE_LINE and not REPOSITORY_LINE.match(line):
                    problems.append(
                        f"{name}: cell {i} line {number} has {len(line)} characters "
                        f"(at most {MAX_CODE_LINE}, or the rendered book cuts it)"
                    )
        if LOCAL_PATH.search(source(cell)):
            problems.append(f"{name}: cell {i} source holds a machine-local path")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(
                    f"{name}: cell {i} holds an error output ({out.get('ename')})"
                )
            text = "".join(out.get("text", "")) + json.dumps(
                out.get("data", {}).get("text/plain", "")
            )
            if LOCAL_PATH.search(text):
                problems.append(f"{name}: cell {i} output holds a machine-local path")
            if out.get("name") == "stderr" and "Traceback" in "".join(
                out.get("text", "")
            ):
                problems.append(f"{name}: cell {i} printed a traceback to stderr")
    return problems


def _not_a_notebook(path: Path) -> str | None:
    """Why ``path`` is not a notebook this tool may read and rewrite (None when it is)."""
    if path.is_dir():
        return "a folder, not a notebook"
    if not path.is_file():
        return "no such file"
    try:
        nb = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"not a readable JSON notebook ({exc})"
    if not _is_notebook(nb):
        return "not a Jupyter notebook (nbformat 4, with a list of cells)"
    return None


def _has_cells(nb: object) -> bool:
    return (
        isinstance(nb, dict)
        and isinstance(nb.get("cells"), list)
        and all(isinstance(c, dict) and "cell_type" in c for c in nb["cells"])
    )


def _is_notebook(nb: object) -> bool:
    return _has_cells(nb) and nb.get("nbformat") == 4


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("clean", "sync-colab", "check"):
        print(__doc__)
        got = f"unknown command {argv[0]!r}" if argv else "no command"
        print(
            f"python -m lib.nbtools: error: {got}; one of clean, sync-colab, check",
            file=sys.stderr,
        )
        return 2
    paths = [Path(p) for p in argv[1:]] or notebooks()
    for path in paths:  # every file checked before any is written
        problem = _not_a_notebook(path)
        if problem:
            print(
                f"python -m lib.nbtools {argv[0]}: {path}: {problem}", file=sys.stderr
            )
            return 2
    if argv[0] == "clean":
        for p in paths:
            clean(p)
        return 0
    if argv[0] == "sync-colab":
        print("updated:", [p.name for p in sync_colab(paths)])
        return 0
    problems = [msg for p in paths for msg in contract_problems(p)]
    print("\n".join(problems) or f"{len(paths)} notebooks follow the contract")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
