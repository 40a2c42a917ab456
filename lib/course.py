"""The course kit: graded assignments for otter-grader, the instructor's pack, and the
chapters' student and reader copies (``make student``, or ``make course`` in a light
environment of its own).

    python -m lib.course build            # student/, book/readers/ (committed), course/
    python -m lib.course build --course-dir /tmp/course --student-dir /tmp/student \
        --readers-dir /tmp/readers

Grading is done by otter-grader (`otter assign` format, https://otter-grader.readthedocs.io),
not by code of this book. The graded questions are **kept apart from the book**: each chapter's
assignment is an otter master notebook in ``instructor/assignments/<chapter>.ipynb`` (a title
cell, a setup cell that loads what the questions use, then questions in otter's format: raw
marker cells, the prompt, a solution, public tests with a ``failure_message`` hint and hidden
tests; ``all_or_nothing``; a written question is ``manual: true`` and its solution block holds a
``**Rubric`` cell). The chapters in ``notebooks/`` hold only their ungraded exercises, with
folded solutions, so neither the book, nor the reader copies its Colab buttons open, nor the
student copies show a graded solution. Typical wrong answers of every question live beside its
master (``<chapter>.mistakes.toml``): the book's tests grade each one and require a zero.

:func:`build` writes

- ``student/<chapter>.ipynb``: the chapter without solutions or outputs, the glued numbers
  pasted in (:func:`lib.nbtools.student_copy`), and ``student/tests/``: the assignments'
  public tests (a Colab notebook fetches them from there);
- ``book/readers/notebooks/<chapter>.ipynb``: the chapter's reader copy
  (:func:`lib.nbtools.reader_copy`), the file the book's Colab buttons open;
- ``course/<chapter>/student/``: the assignment to hand out (otter assign's student notebook
  and public tests), ``course/<chapter>/autograder/``: the solution, every test and the
  autograder zip that ``otter run`` or Gradescope grades with;
- ``course/instructor/``: the instructor's pack: each assignment's solution notebook, the
  rubrics of the written questions (``rubrics.md``), the syllabus and the files of
  ``instructor/`` that a teacher keeps private.

Nothing a user has is lost: the build writes only into a new or empty folder, or one it made
itself (its manifest, ``.course-build.json``, lists the files it wrote and their sha256), and
replaces only those files, unchanged since; everything is read and built in a temporary
folder before anything is moved in.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from . import nbtools
from .config import check_can_write
from .errors import DataError, ParameterError
from .files import atomic_write, file_digest

ROOT = nbtools.ROOT
COURSE_DIR = ROOT / "course"
INSTRUCTOR_DIR = (
    ROOT / "instructor"
)  # the instructor's sources: keep them in a private fork
ASSIGNMENTS_DIR = INSTRUCTOR_DIR / "assignments"
INSTRUCTOR_FILES = ("syllabus.md",)  # copied into the instructor's pack as they are
RUBRIC_START = re.compile(r"^\*\*Rubric", re.M)
QUESTION_START = re.compile(r"^# BEGIN QUESTION\s*$", re.M)
QUESTION_NAME = re.compile(r"^name:\s*(?P<name>\S+)\s*$", re.M)
# The student copies install the book with its `course` extra in Colab (otter-grader).
COLAB_PACKAGE = 'package = f"latent-geometry-book @ git+{REPOSITORY}"'
COLAB_COURSE_PACKAGE = 'package = f"latent-geometry-book[course] @ git+{REPOSITORY}"'
COLAB_PIP_LINE = '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)'
# ... and fetch the public tests when the notebook was uploaded without its tests/ folder.
COLAB_TESTS = """
    if not os.path.isdir("tests"):  # the graded exercises' public tests
        clone = ["git", "clone", "-q", "--depth", "1", REPOSITORY, "/tmp/book"]
        subprocess.run(clone, check=True)
        shutil.copytree("/tmp/book/student/tests", "tests")"""
# What a student reads after the assignment's title.
STUDENT_SECTION = (
    "Answer in the cells marked `...`, then run the `grader.check` cell below each answer: its "
    "public tests say what is wrong (a hint); your teacher grades with hidden tests, and a "
    "question counts only when every test passes. A written question (its answer cell says "
    "*Type your answer here*) is graded by your teacher by hand. A cell below starts "
    "otter-grader (it reads the `tests` folder beside this notebook); the one after it loads "
    "what the questions use."
)
INIT_SOURCE = (
    "# otter-grader checks the graded exercises: grader.check(name) runs a question's\n"
    "# public tests (`pip install otter-grader`, or the book's `course` extra)\n"
    "import otter\n"
    "\n"
    'grader = otter.Notebook(tests_dir="tests")'
)


def _config_cell(name: str, check_all: bool) -> dict:
    # The autograder zip installs the book (and so torch) where it grades: Docker, Gradescope.
    package = f"latent-geometry-book @ git+{nbtools.repository_url()}"
    config = (
        "# ASSIGNMENT CONFIG\n"
        f"name: {name}\n"
        "requirements:\n"
        f"  - {package}\n"
        "init_cell: false\n"
        f"check_all_cell: {str(check_all).lower()}\n"
        "export_cell: false\n"
        "run_tests: false\n"
        "tests:\n"
        "  files: true\n"
    )
    return {"cell_type": "raw", "metadata": {}, "source": config}


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _init_cell() -> dict:
    return {
        "cell_type": "code",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": INIT_SOURCE,
    }


def question_names(nb: dict) -> list[str]:
    """The names of the otter questions in ``nb``, in order."""
    names = []
    for cell in nb["cells"]:
        text = nbtools.source(cell)
        if cell["cell_type"] == "raw" and QUESTION_START.search(text):
            match = QUESTION_NAME.search(text)
            if match is None:
                raise ValueError(f"a question without a name: {text!r}")
            names.append(match.group("name"))
    return names


def _colab_cell(nb: dict) -> dict:
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for cell in code[:3]:  # where the notebook contract puts it
        if nbtools.COLAB_MARKER in nbtools.source(cell):
            return cell
    raise ValueError("no Colab install cell among the first code cells")


def _with_course_extra(cell: dict) -> dict:
    cell = json.loads(json.dumps(cell))
    text = nbtools.source(cell)
    if COLAB_PACKAGE not in text:
        raise ValueError("the Colab cell does not install the package as expected")
    if COLAB_PIP_LINE not in text or "import subprocess\n" not in text:
        raise ValueError("the Colab cell does not run pip as expected")
    text = text.replace(COLAB_PACKAGE, COLAB_COURSE_PACKAGE)
    text = text.replace(COLAB_PIP_LINE, COLAB_PIP_LINE + COLAB_TESTS)
    cell["source"] = text.replace(
        "import subprocess\n", "import os\nimport shutil\nimport subprocess\n", 1
    )
    return cell


def assignments(folder: Path = ASSIGNMENTS_DIR) -> list[Path]:
    """The assignment masters in ``folder``, sorted: ``<chapter>.ipynb`` each."""
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def assignment_master(master: dict, chapter: dict, name: str) -> dict:
    """The otter master of assignment ``name``: the instructor's source ``master`` (its title
    cell, then the setup cell and the questions) with the grader's config first and, after
    the title, the chapter's Colab cell (installing the ``course`` extra and fetching the
    public tests) and the cell that starts the grader."""
    cells = master["cells"]
    if not cells or cells[0]["cell_type"] != "markdown":
        raise ValueError(f"{name}: the assignment's first cell is not its title")
    title = nbtools.source(cells[0]).strip()
    if not title.startswith("# "):
        raise ValueError(f"{name}: the first line is not a title: {title[:60]!r}")
    if not question_names(master):
        raise ValueError(f"{name}: the assignment has no question")
    built = json.loads(json.dumps(master))
    built.setdefault("metadata", {}).setdefault(  # otter assign needs one
        "kernelspec",
        {"display_name": "Python 3", "language": "python", "name": "python3"},
    )
    built["cells"] = [
        _config_cell(name, check_all=True),
        _markdown(f"{title}\n\n{STUDENT_SECTION}"),
        _with_course_extra(_colab_cell(chapter)),
        _init_cell(),
        *json.loads(json.dumps(cells[1:])),
    ]
    return built


def solution_lines(
    folder: Path = ASSIGNMENTS_DIR,
    handouts: dict[str, dict] | None = None,
    min_length: int = 30,
) -> list[str]:
    """The distinctive lines of every graded solution in ``folder``'s masters: the code and
    text between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (rubrics included) and the
    folded explanations after the questions, each stripped, at least ``min_length``
    characters long and not an import, less every line the assignment's handout shows
    (``handouts``: ``{name: handout notebook}``; None: built here by otter assign). What is
    left must not show in the book, its reader copies or its student copies."""
    masters = {p.stem: nbtools.read(p) for p in assignments(folder)}
    if handouts is None:
        handouts = {}
        for name, master in masters.items():
            chapter = nbtools.read(nbtools.NOTEBOOK_DIR / f"{name}.ipynb")
            with tempfile.TemporaryDirectory() as tmp:
                built = assignment_master(master, chapter, name)
                handouts[name] = nbtools.read(otter_assign(built, name, Path(tmp)))
    secret = set()
    for name, master in masters.items():
        shown = {
            line.strip()
            for cell in handouts[name]["cells"]
            for line in nbtools.source(cell).splitlines()
        }
        inside = False
        for cell in master["cells"]:
            text = nbtools.source(cell)
            if cell["cell_type"] == "raw":
                if re.search(r"^# BEGIN SOLUTION\s*$", text, re.M):
                    inside = True
                elif re.search(r"^# END SOLUTION\s*$", text, re.M):
                    inside = False
                continue
            if inside or "{admonition} Solution" in text:
                secret |= {line.strip() for line in text.splitlines()} - shown
    return sorted(
        line
        for line in secret
        if len(line) >= min_length
        and not line.startswith(("import ", "from ", "# BEGIN", "# END"))
    )


def rubrics(master: dict) -> list[tuple[str, str]]:
    """``(question, rubric)`` for every ``**Rubric`` markdown cell of ``master``, in order:
    each belongs to the question it stands in."""
    found, question = [], None
    for cell in master["cells"]:
        text = nbtools.source(cell)
        if cell["cell_type"] == "raw" and QUESTION_START.search(text):
            match = QUESTION_NAME.search(text)
            question = match.group("name") if match else None
        elif cell["cell_type"] == "markdown" and RUBRIC_START.search(text):
            if question is None:
                raise ValueError(f"a rubric outside a question: {text[:60]!r}")
            found.append((question, text.strip()))
    return found


def rubrics_page(by_assignment: dict[str, list[tuple[str, str]]]) -> str:
    """The instructor's ``rubrics.md``: every written question's rubric, by assignment."""
    lines = [
        "# Rubrics of the written questions",
        "",
        "Generated by `python -m lib.course build` from `instructor/assignments/`; each "
        "rubric also stands under its question in the assignment's solution notebook.",
    ]
    for name, found in by_assignment.items():
        for question, text in found:
            lines += ["", f"## {name}: `{question}`", "", text]
    return "\n".join(lines) + "\n"


def otter_assign(master: dict, name: str, out_dir: Path) -> Path:
    """Run ``otter assign`` on ``master`` into ``out_dir``; the path of the student notebook."""
    from otter.assign import main as assign

    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        master_path = Path(tmp) / f"{name}.ipynb"
        nbtools.write(master_path, master)
        shutil.rmtree(out_dir, ignore_errors=True)
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                assign(str(master_path), str(out_dir), no_pdfs=True, no_run_tests=True)
        except Exception as exc:  # otter's own message is in what it printed
            raise RuntimeError(
                f"otter assign failed on {name}: {exc}\n{log.getvalue()[-3000:]}"
            ) from exc
    return out_dir / "student" / f"{name}.ipynb"


def _tidy(nb: dict, name: str) -> dict:
    """Reproducible bytes: cell ids from the chapter's name and position, no outputs."""
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:8]
        tags = cell.get("metadata", {}).get("tags")
        if tags and "hide-input" in tags:  # the book folds its solutions; a blank shows
            tags.remove("hide-input")
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"]["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb["nbformat"], nb["nbformat_minor"] = 4, 5
    return nb


# The build writes only into folders it made: each holds a manifest of the files the build
# wrote there and their sha256. A folder with a file the manifest does not list, or with one
# changed since, is refused before anything is written; caches a run leaves are ignored.
MANIFEST = ".course-build.json"
CACHES = frozenset({"__pycache__", ".ipynb_checkpoints"})


def _files_in(folder: Path) -> dict[str, Path]:
    """``{relative posix path: path}`` of the files under ``folder`` (caches and the
    manifest left out)."""
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if not CACHES.intersection(p.relative_to(folder).parts)
        and p.relative_to(folder).as_posix() != MANIFEST
        and (p.is_file() or p.is_symlink())
    }


def _read_manifest(folder: Path, option: str) -> dict[str, str]:
    path = folder / MANIFEST
    try:
        record = json.loads(path.read_text())
        files = record["files"]
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise TypeError("files is not an object of digests")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ParameterError(
            f"{option} {folder}: {path.name} is not a course-build manifest ({exc}); "
            "refusing to write there"
        ) from None
    return files


def writable_target(folder: Path, option: str) -> dict[str, str]:
    """The manifest of ``folder`` if the build may write there (``{}`` for a new or empty
    folder); otherwise :class:`~lib.errors.ParameterError` naming ``option``.

    The build may replace or delete only the files it wrote there itself, unchanged since.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"{option} {folder} is a file, not a folder")
    check_can_write(folder, option, folder=True)  # before any chapter is built
    if not folder.exists():
        return {}
    if not (folder / MANIFEST).is_file():
        a_file = next(  # the first will do: a repository's tree is large
            (
                p
                for p in folder.rglob("*")
                if (p.is_file() or p.is_symlink())
                and not CACHES.intersection(p.relative_to(folder).parts)
            ),
            None,
        )
        if a_file is not None:
            raise ParameterError(
                f"{option} {folder} holds files the course build did not write (e.g. "
                f"{a_file.relative_to(folder).as_posix()}); name a new or empty folder"
            )
        return {}
    present = _files_in(folder)
    manifest = _read_manifest(folder, option)
    foreign = sorted(set(present) - set(manifest))
    if foreign:
        raise ParameterError(
            f"{option} {folder} holds files the course build did not write "
            f"({', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}); move them "
            "away or name another folder"
        )
    changed = sorted(
        rel
        for rel, path in present.items()
        if not path.is_file() or file_digest(path) != manifest[rel]
    )
    if changed:
        raise ParameterError(
            f"{option} {folder}: {', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''}"
            " changed since the course build wrote them; move them away or restore them"
        )
    return manifest


def _install(staged: Path, target: Path, old: dict[str, str]) -> None:
    """Move what the build staged into ``target``: new and changed files replaced one by one
    (all or nothing each), the build's own files it no longer makes deleted, the manifest
    written last."""
    new = {rel: file_digest(path) for rel, path in _files_in(staged).items()}
    for rel in sorted(set(old) - set(new)):
        (target / rel).unlink(missing_ok=True)
        for parent in (target / rel).parents:  # folders the build made, now empty
            if parent == target or any(parent.iterdir()):
                break
            parent.rmdir()
    for rel, digest in new.items():
        if old.get(rel) != digest or not (target / rel).is_file():
            atomic_write(target / rel, (staged / rel).read_bytes())
    manifest = {"made_by": "python -m lib.course build", "files": new}
    atomic_write(
        target / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    )


def _check_targets(
    student_dir: Path, course_dir: Path, readers_dir: Path | None = None
) -> tuple[dict, dict, dict]:
    """The manifests of the build's folders (``readers_dir`` None: none, ``{}``), each
    separate from the others and one the build may write into (:func:`writable_target`)."""
    folders = [("--student-dir", student_dir), ("--course-dir", course_dir)]
    if readers_dir is not None:
        folders.append(("--readers-dir", readers_dir))
    for i, (option_a, folder_a) in enumerate(folders):
        for option_b, folder_b in folders[i + 1 :]:
            a, b = folder_a.resolve(), folder_b.resolve()
            if a == b or a.is_relative_to(b) or b.is_relative_to(a):
                raise ParameterError(
                    f"{option_a} {folder_a} and {option_b} {folder_b} must be separate "
                    "folders, neither inside the other"
                )
    return (
        writable_target(student_dir, "--student-dir"),
        writable_target(course_dir, "--course-dir"),
        {} if readers_dir is None else writable_target(readers_dir, "--readers-dir"),
    )


RUN_TIMES = ROOT / "lib" / "pretrained" / "run_times.json"  # bench/notebook_times.py's


def run_times_table(chapters: list[str], record: Path = RUN_TIMES) -> str:
    """A markdown table of the chapters' reading and run times, from the book's measured
    record (``python bench/notebook_times.py``); empty when there is no record."""
    try:
        measured = json.loads(Path(record).read_text())
        entries = measured["chapters"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    lines = [
        "",
        f"Measured {measured.get('date', '?')} on {measured.get('machine', '?')}, "
        f"torch {measured.get('torch', '?')}:",
        "",
        "| chapter | reading | quick mode | full mode |",
        "| --- | --- | --- | --- |",
    ]
    for name in chapters:
        entry = entries.get(name)
        if entry:
            lines.append(
                f"| {name} | {entry['read_minutes']:.0f} min | "
                f"{entry['quick_cpu_seconds']:.0f} s | "
                f"{entry['full_cpu_seconds'] / 60:.1f} min |"
            )
    return "\n".join(lines) + "\n"


def build(
    student_dir: Path = nbtools.STUDENT_DIR,
    course_dir: Path = COURSE_DIR,
    chapters: list[Path] | None = None,
    readers_dir: Path | None = None,
    assignments_dir: Path = ASSIGNMENTS_DIR,
) -> dict[str, list[str]]:
    """Write every chapter's student copy and (``readers_dir``) reader copy, and every
    chapter's assignment found in ``assignments_dir`` with the instructor's pack;
    ``{chapter: question names}`` (an empty list for a chapter without an assignment).

    A reader copy goes to ``readers_dir/notebooks/<chapter>.ipynb`` (the repository's layout:
    ``python -m lib.course build`` writes them under :data:`lib.nbtools.READERS_DIR`); with
    ``readers_dir`` None (the function's default) none is written. The folders are checked
    first (:func:`writable_target`), every chapter and assignment is read and built in a
    temporary folder, and only then are the results moved in: one that fails leaves every
    folder as it was.
    """
    targets = [
        ("student_dir", student_dir),
        ("course_dir", course_dir),
        ("assignments_dir", assignments_dir),
    ]
    if readers_dir is not None:
        targets.append(("readers_dir", readers_dir))
    for option, folder in targets:
        if not isinstance(folder, (str, os.PathLike)):
            raise ParameterError(
                f"{option} must be a folder's path, got {folder!r:.60}"
            )
    if chapters is not None and (
        isinstance(chapters, (str, os.PathLike))
        or not isinstance(chapters, (list, tuple))
        or not all(isinstance(c, (str, os.PathLike)) for c in chapters)
    ):
        raise ParameterError(f"chapters must be a list of paths, got {chapters!r:.60}")
    student_dir, course_dir = Path(student_dir), Path(course_dir)
    assignments_dir = Path(assignments_dir)
    readers_dir = None if readers_dir is None else Path(readers_dir)
    _check_targets(student_dir, course_dir, readers_dir)
    paths = [Path(c) for c in (nbtools.notebooks() if chapters is None else chapters)]
    if not paths:
        raise ParameterError("no chapters to build")
    masters = {p.stem: p for p in assignments(assignments_dir)}
    sources = []
    for path in paths:  # everything read and checked before anything is built
        try:
            nb = nbtools.read(path)
            master = None
            if path.stem in masters:
                master = nbtools.read(masters[path.stem])
                assignment_master(master, nb, path.stem)  # checks its shape
            names = question_names(master) if master is not None else []
            sources.append((path, nb, master, names, nbtools.glue_values(nb)))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ParameterError(f"chapter {path} cannot be built: {exc}") from None
    questions = {}
    found_rubrics = {}
    with tempfile.TemporaryDirectory() as stage:
        staged_student, staged_course = Path(stage, "student"), Path(stage, "course")
        staged_readers = Path(stage, "readers") / nbtools.NOTEBOOK_DIR.name
        tests_dir = staged_student / "tests"
        pack = staged_course / "instructor"
        for folder in (tests_dir, staged_readers, pack):
            folder.mkdir(parents=True)
        for path, nb, master, names, values in sources:
            name = path.stem
            questions[name] = names
            reader = nbtools.reader_copy(nb, path.name, values)
            nbtools.write(staged_readers / path.name, reader)
            copy = nbtools.student_copy(nb, values)
            nbtools.write(staged_student / path.name, _tidy(copy, name))
            if master is None:
                continue
            assignment = staged_course / name
            built = assignment_master(master, nb, name)
            student_nb = otter_assign(built, name, assignment)
            handout = nbtools.student_copy(nbtools.read(student_nb), values, note=False)
            nbtools.write(student_nb, _tidy(handout, name))
            for test in sorted((student_nb.parent / "tests").glob("*.py")):
                shutil.copyfile(test, tests_dir / test.name)
            solution = assignment / "autograder" / f"{name}.ipynb"
            shutil.copyfile(solution, pack / f"{name}.ipynb")
            found_rubrics[name] = rubrics(master)
        if found_rubrics:
            (pack / "rubrics.md").write_text(rubrics_page(found_rubrics))
            for file_name in INSTRUCTOR_FILES:
                source_file = assignments_dir.parent / file_name
                if source_file.is_file():
                    text = source_file.read_text()
                    if file_name == "syllabus.md":
                        text += run_times_table([p.stem for p, *_ in sources])
                    (pack / file_name).write_text(text)
        else:
            pack.rmdir()
        old_student, old_course, old_readers = _check_targets(  # again
            student_dir, course_dir, readers_dir
        )
        _install(staged_student, student_dir, old_student)
        _install(staged_course, course_dir, old_course)
        if readers_dir is not None:
            _install(staged_readers.parent, readers_dir, old_readers)
    return questions


# ------------------------------------------------------------------ written answers as a PDF
def written_answers_html(notebook: Path) -> str:
    """The written questions of a submitted handout as one HTML page: otter's filter keeps
    the cells between each manual question's ``<!-- BEGIN QUESTION -->`` and
    ``<!-- END QUESTION -->`` marks (prompt and answer), as Gradescope's PDF shows them."""
    import nbconvert
    from otter.export.exporters.base_exporter import BaseExporter

    nb = BaseExporter.load_notebook(str(notebook), filtering=True, pagebreaks=False)
    if not nb.cells:
        raise ParameterError(f"{notebook} has no written question to export")
    html, _ = nbconvert.HTMLExporter(template_name="classic").from_notebook_node(nb)
    return html


def export_written_answers(notebook: Path, pdf: Path, chromium: str) -> Path:
    """The written answers of ``notebook`` as the PDF ``pdf`` a TA grades with the rubric:
    :func:`written_answers_html` printed by the Chromium at ``chromium`` (an executable, as
    the browser test uses; LaTeX is not needed). Returns ``pdf``."""
    from playwright.sync_api import sync_playwright

    html = written_answers_html(notebook)
    pdf = Path(pdf)
    check_can_write(pdf, "pdf")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.set_content(html, wait_until="load")
            atomic_write(pdf, page.pdf(format="A4"))
        finally:
            browser.close()
    return pdf


# ------------------------------------------------------------------ checking an assignment
SOLUTION_TAG = (
    "otter_assign_solution_cell"  # otter's tag on a solution notebook's answers
)
CHECK_CALL = re.compile(r"^grader\.check\(\"(?P<name>[^\"]+)\"\)\s*$")


def mistakes_path(master_path: Path) -> Path:
    """Where the typical wrong answers of an assignment live: beside its master."""
    return Path(master_path).with_suffix(".mistakes.toml")


def read_mistakes(path: Path, names: list[str]) -> dict[str, list[dict[str, str]]]:
    """The typical wrong answers of an assignment whose questions are ``names``:
    ``{question: [{"why": ..., "answer": ...}, ...]}``, each answer the code that replaces the
    question's answer cells. A missing file, an unknown question, a question without a
    wrong answer (a written one needs none) or an entry without both texts is refused."""
    import tomllib

    try:
        table = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ParameterError(f"mistakes file {path}: {exc}") from None
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise ParameterError(f"mistakes file {path}: no question named {unknown[0]!r}")
    for question, entries in table.items():
        if not isinstance(entries, list) or not entries:
            raise ParameterError(f"mistakes file {path}: [[{question}]] has no entry")
        for entry in entries:
            if not (
                isinstance(entry, dict)
                and set(entry) == {"why", "answer"}
                and all(isinstance(v, str) and v.strip() for v in entry.values())
            ):
                raise ParameterError(
                    f"mistakes file {path}: each [[{question}]] needs a why and an answer"
                )
    return table


def answer_cells(nb: dict) -> dict[str, list[int]]:
    """``{question: indices of its answer cells}`` in an otter solution or student notebook:
    the cells tagged as solutions (or, in a student notebook, the code cells) between the
    previous ``grader.check`` and the question's own."""
    found: dict[str, list[int]] = {}
    pending: list[int] = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        match = CHECK_CALL.match(nbtools.source(cell).strip())
        if match:
            found[match.group("name")] = pending
            pending = []
        elif SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            pending.append(i)
    return found


def with_wrong_answers(solution: dict, answers: dict[str, str]) -> dict:
    """``solution`` with the answer cells of each question in ``answers`` replaced by its
    wrong answer (one cell; the question's other answer cells emptied)."""
    nb = json.loads(json.dumps(solution))
    cells = answer_cells(nb)
    for question, code in answers.items():
        if not cells.get(question):
            raise ParameterError(
                f"no answer cell of {question} in the solution notebook"
            )
        first, *rest = cells[question]
        nb["cells"][first]["source"] = code.strip("\n")
        for i in rest:
            nb["cells"][i]["source"] = ""
    return nb


GRADER = """
import json, sys
import otter.api

jobs, results_path = json.loads(sys.argv[1]), sys.argv[2]
scores = {}
for key, submission, zip_path in jobs:
    results = otter.api.grade_submission(submission, zip_path, quiet=True)
    if results.catastrophic_error is not None:
        raise SystemExit(f"otter could not grade {submission}: {results.catastrophic_error}")
    scores[key] = {q: [t.score, t.possible] for q, t in results.results.items()}
with open(results_path, "w") as handle:
    json.dump(scores, handle)
"""


def grade(
    jobs: list[tuple[str, Path, Path]], folder: Path, workers: int = 2
) -> dict[str, dict[str, tuple[float, float]]]:
    """``{key: {question: (score, possible)}}`` for ``jobs`` of (key, notebook, autograder
    zip), graded as ``otter run`` grades (otter's Python API, each notebook in a fresh
    kernel) by ``workers`` processes side by side, one thread each; ``folder`` holds their
    results."""
    import subprocess

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    running = []
    for i in range(min(workers, len(jobs))):
        share = [[k, str(nb), str(z)] for k, nb, z in jobs[i::workers]]
        path = Path(folder) / f"scores_{i}.json"
        command = [sys.executable, "-c", GRADER, json.dumps(share), str(path)]
        running.append(
            (path, subprocess.Popen(command, env=env, stderr=subprocess.PIPE))
        )
    scores: dict[str, dict[str, tuple[float, float]]] = {}
    failures = []
    for path, process in running:
        _, log = process.communicate(timeout=1800)
        if process.returncode != 0:
            failures.append(log.decode(errors="replace")[-3000:])
            continue
        for key, questions in json.loads(path.read_text()).items():
            scores[key] = {q: tuple(v) for q, v in questions.items()}
    if failures:
        raise RuntimeError("grading failed:\n" + "\n".join(failures))
    return scores


def _snapshot(env: dict) -> dict:
    """A copy of a namespace deep where a value allows it (arrays, tensors, models), shared
    where it does not (modules), so that one variant's answers cannot change the next's."""
    import copy

    out = {}
    for key, value in env.items():
        try:
            out[key] = copy.deepcopy(value)
        except Exception:  # modules and the like: not changed by an answer
            out[key] = value
    return out


def _run_cells(cells: list[dict], env: dict) -> None:
    """Run code cells in ``env`` as otter's grading kernel does, going on after an error
    (a blank ``...`` that a later line uses raises); the grader's own cells are skipped."""
    import contextlib as context

    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        text = nbtools.source(cell)
        if "otter.Notebook(" in text or "grader.check" in text:
            continue
        with (
            context.redirect_stdout(io.StringIO()),
            context.redirect_stderr(io.StringIO()),
        ):
            try:
                exec(compile(text, "<cell>", "exec"), env)
            except Exception:  # noqa: BLE001 (a student's error scores in the tests)
                pass


def scores_in_process(
    course_dir: Path, name: str, mistakes: dict[str, list[dict[str, str]]]
) -> dict[str, dict[str, tuple[float, float]]]:
    """The scores of assignment ``name``'s blank handout (``name/blank``) and of its
    solution with the k-th wrong answer of every question (``name/wrong-k``), graded in this
    process: the cells run in a namespace (the setup once, its results copied for each
    notebook) and every question's test file (public and hidden tests) run on it by otter's
    own test runner, as ``otter run`` would after executing the notebook in a kernel."""
    from otter.test_files import OKTestFile

    assignment = Path(course_dir) / name
    tests = assignment / "autograder" / "tests"
    solution = nbtools.read(assignment / "autograder" / f"{name}.ipynb")
    handout = nbtools.read(assignment / "student" / f"{name}.ipynb")
    answers = answer_cells(solution)
    if not any(answers.values()):  # written questions only: nothing for the tests
        return {f"{name}/blank": {}}
    first = min(i for cells in answers.values() for i in cells)
    # the setup: what runs before the first question (the grader's cells are skipped)
    prompt = max(
        i for i in range(first) if solution["cells"][i]["cell_type"] == "markdown"
    )
    base: dict = {"__name__": "__main__"}
    _run_cells(solution["cells"][:prompt], base)
    setup_code = [
        nbtools.source(c)
        for c in solution["cells"][:prompt]
        if c["cell_type"] == "code"
    ]

    def after_setup(nb: dict) -> list[dict]:
        cells = nb["cells"]
        last = max(
            i
            for i, c in enumerate(cells)
            if c["cell_type"] == "code" and nbtools.source(c) in setup_code
        )
        return cells[last + 1 :]

    def graded(cells: list[dict]) -> dict[str, tuple[float, float]]:
        env = _snapshot(base)
        _run_cells(cells, env)
        out = {}
        for path in sorted(tests.glob("*.py")):
            test = OKTestFile.from_file(str(path))
            test.run(env)
            out[test.name] = (float(test.score), float(test.possible))
        return out

    scores = {f"{name}/blank": graded(after_setup(handout))}
    rounds = max((len(v) for v in mistakes.values()), default=0)
    for k in range(rounds):
        wrong = {q: v[k]["answer"] for q, v in mistakes.items() if len(v) > k}
        variant = with_wrong_answers(solution, wrong)
        scores[f"{name}/wrong-{k + 1}"] = graded(after_setup(variant))
    return scores


def solution_jobs(course_dir: Path, names: list[str]) -> list[tuple[str, Path, Path]]:
    """The otter gradings (key, notebook, autograder zip) of the assignments' solutions
    (``name/solution``), built in ``course_dir``."""
    jobs = []
    for name in names:
        folder = Path(course_dir) / name / "autograder"
        (zip_path,) = folder.glob("*-autograder_*.zip")
        jobs.append((f"{name}/solution", folder / f"{name}.ipynb", zip_path))
    return jobs


def verdicts(
    name: str,
    questions: list[str],
    manual: set[str],
    mistakes: dict[str, list[dict[str, str]]],
    scores: dict[str, dict[str, tuple[float, float]]],
) -> list[str]:
    """What is wrong with assignment ``name``'s grading (empty: nothing): every autograded
    question full marks for the solution, zero for the blank, zero for each wrong answer
    (and the other questions of that notebook untouched); every one has a wrong answer."""
    problems = []
    graded = [q for q in questions if q not in manual]
    solution, blank = scores[f"{name}/solution"], scores[f"{name}/blank"]
    for q in graded:
        score, possible = solution.get(q, (0, 0))
        if not possible or score != possible:
            problems.append(f"{q}: the solution scored {score}/{possible}")
        if blank.get(q, (0, 0))[0] != 0:
            problems.append(f"{q}: the blank handout scored {blank[q][0]}")
        if q not in mistakes:
            problems.append(f"{q}: no typical wrong answer in the mistakes file")
    for k in range(max((len(v) for v in mistakes.values()), default=0)):
        wrong = scores[f"{name}/wrong-{k + 1}"]
        for q in graded:
            if q in mistakes and len(mistakes[q]) > k:
                if wrong.get(q, (1, 1))[0] != 0:
                    why = mistakes[q][k]["why"]
                    problems.append(
                        f"{q}: the wrong answer '{why}' scored {wrong[q][0]}"
                    )
            elif wrong.get(q) != solution.get(q):
                problems.append(
                    f"{q}: another question's wrong answer changed its score"
                )
    return problems


def manual_questions(master: dict) -> set[str]:
    """The names of the written questions (``manual: true``) of ``master``."""
    names = set()
    for cell in master["cells"]:
        text = nbtools.source(cell)
        if cell["cell_type"] == "raw" and QUESTION_START.search(text):
            match = QUESTION_NAME.search(text)
            if match and re.search(r"^manual:\s*true\s*$", text, re.M):
                names.add(match.group("name"))
    return names


def check(
    names: list[str] | None = None, assignments_dir: Path = ASSIGNMENTS_DIR
) -> int:
    """Build the assignments ``names`` (default: all) in a temporary folder, grade each one's
    solution, blank handout and typical wrong answers, and print a line per assignment and
    each problem; 0 when every assignment grades as it should."""
    import time

    masters = {p.stem: p for p in assignments(assignments_dir)}
    names = sorted(masters) if not names else names
    unknown = [n for n in names if n not in masters]
    if unknown:
        raise ParameterError(f"no assignment named {unknown[0]!r} in {assignments_dir}")
    chapters = [nbtools.NOTEBOOK_DIR / f"{n}.ipynb" for n in names]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        course_dir = Path(tmp, "course")
        build(Path(tmp, "student"), course_dir, chapters, None, assignments_dir)
        plans = {}
        start = time.perf_counter()
        scores = grade(solution_jobs(course_dir, names), Path(tmp))
        for name in names:
            master = nbtools.read(masters[name])
            questions = question_names(master)
            mistakes = read_mistakes(mistakes_path(masters[name]), questions)
            plans[name] = (questions, manual_questions(master), mistakes)
            scores.update(scores_in_process(course_dir, name, mistakes))
        seconds = time.perf_counter() - start
        for name, (questions, manual, mistakes) in plans.items():
            problems = verdicts(name, questions, manual, mistakes, scores)
            failed += bool(problems)
            count = sum(len(v) for v in mistakes.values())
            print(
                f"{name}: {len(questions) - len(manual)} autograded + {len(manual)} "
                f"written questions, {count} wrong answers: "
                + ("all graded as they should be" if not problems else "PROBLEMS")
            )
            for problem in problems:
                print(f"  {problem}")
        print(f"graded in {seconds:.0f} s")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.course", description=__doc__)
    parser.add_argument("command", choices=["build", "check", "pdf"])
    parser.add_argument(
        "names",
        nargs="*",
        help="check: the assignments to grade (default: all); pdf: the submitted "
        "notebooks whose written answers go to PDFs",
    )
    parser.add_argument("--pdf-dir", type=Path, default=Path("."), help="pdf: where")
    parser.add_argument(
        "--chromium",
        default=os.environ.get("BOOK_CHROMIUM") or shutil.which("chromium") or "",
        help="pdf: the Chromium executable (default: $BOOK_CHROMIUM or chromium on PATH)",
    )
    parser.add_argument("--student-dir", type=Path, default=nbtools.STUDENT_DIR)
    parser.add_argument("--course-dir", type=Path, default=COURSE_DIR)
    parser.add_argument("--readers-dir", type=Path, default=nbtools.READERS_DIR)
    args = parser.parse_args(argv)
    if args.command == "check":
        try:
            return check(args.names)
        except (ValueError, DataError, RuntimeError, OSError) as exc:
            print(f"python -m lib.course: {exc}", file=sys.stderr)
            return 2
    if args.command == "pdf":
        if not args.names:
            parser.error("pdf needs the submitted notebooks")
        if not args.chromium or not Path(args.chromium).is_file():
            print(
                "python -m lib.course: --chromium must name a Chromium executable "
                f"(got {args.chromium!r}); set BOOK_CHROMIUM or install chromium",
                file=sys.stderr,
            )
            return 2
        try:
            for name in args.names:
                out = args.pdf_dir / f"{Path(name).stem}-written.pdf"
                export_written_answers(Path(name), out, args.chromium)
                print(f"{name} -> {out}")
        except ImportError as exc:
            print(
                f"python -m lib.course: pdf needs playwright ({exc}); "
                "pip install playwright, or use the book's environment",
                file=sys.stderr,
            )
            return 2
        except (ParameterError, OSError, ValueError) as exc:
            print(f"python -m lib.course: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.names:
        parser.error("build takes no assignment names")
    try:
        questions = build(
            args.student_dir, args.course_dir, readers_dir=args.readers_dir
        )
    except (ParameterError, DataError, RuntimeError, OSError) as exc:
        print(f"python -m lib.course: {exc}", file=sys.stderr)
        return 2
    for name, names in questions.items():
        listed = f" ({', '.join(names)})" if names else ""
        print(f"{name}: {len(names)} graded questions{listed}")
    print(
        f"student copies in {args.student_dir}, assignments in {args.course_dir}, "
        f"reader copies in {args.readers_dir / nbtools.NOTEBOOK_DIR.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
