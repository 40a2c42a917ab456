"""The course kit: student copies and graded assignments of the chapters (``make student``),
and the chapters' reader copies.

    python -m lib.course build            # student/, book/readers/ (committed), course/
    python -m lib.course build --course-dir /tmp/course --student-dir /tmp/student \
        --readers-dir /tmp/readers

Grading is done by otter-grader (`otter assign` format, https://otter-grader.readthedocs.io),
not by code of this book. Every chapter ends with a section ``## Graded exercises``: a setup
cell that loads what the questions use (so that the section runs on its own), then questions
in otter's format. Its marker cells are raw cells tagged ``remove-cell`` (the book hides
them); a solution is a code cell with ``# SOLUTION`` (one line) or ``# BEGIN SOLUTION`` /
``# END SOLUTION`` (a block) markers; each question has public tests (``failure_message`` in
the test's config: a hint a student sees) and hidden tests (``hidden: true``), and its point is
given only when all pass (``all_or_nothing``). The chapter executes all of them, so the book's
own run checks every solution against its tests.

For each chapter, :func:`build` runs otter assign twice:

- on the whole chapter: its student version, with the prose's solutions removed and the
  glued numbers pasted in (:func:`lib.nbtools.student_copy`), is ``student/<chapter>.ipynb``,
  and the public tests go to ``student/tests/``;
- on the *assignment*, the chapter's title, its Colab cell and its graded section: a short
  notebook a class can be graded on in seconds, ``course/<chapter>/student/`` (to hand out) and
  ``course/<chapter>/autograder/`` (the solution, every test, and the autograder zip that
  ``otter run`` or Gradescope grades with).

Both carry the same assignment name, so either can be graded with the assignment's zip.

The same build writes each chapter's *reader copy* (:func:`lib.nbtools.reader_copy`: the
executed chapter with its outputs and solutions, the glued numbers pasted into the prose) to
``book/readers/notebooks/<chapter>.ipynb``, the file the book's Colab buttons open; no otter
there.

Nothing a user has is lost: the build writes only into a new or empty folder, or one it made
itself (its manifest, ``.course-build.json``, lists the files it wrote and their sha256), and
replaces only those files, unchanged since; every chapter is read and built in a temporary
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
GRADED_HEADING = re.compile(r"^## Graded exercises\s*$", re.M)
SECTION_HEADING = re.compile(
    r"^(#{1,2} |---\s*$)", re.M
)  # a section, or the closing rule
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
# A student reads the graded section's opening differently from the book's reader.
STUDENT_SECTION = (
    "## Graded exercises\n\n"
    "Answer in the cells marked `...`, then run the `grader.check` cell below each answer: its "
    "public tests say what is wrong (a hint); your teacher grades with hidden tests, and a "
    "question counts only when every test passes. Questions that ask *why* are for your "
    "notes and your class, not for the grader. A cell below starts otter-grader (it reads "
    "the `tests` folder beside this notebook); the one after it loads what the questions use."
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


def graded_section(nb: dict) -> tuple[int, int]:
    """``(start, end)``: the cells of the chapter's ``## Graded exercises`` section.

    It starts at its heading and ends before the next heading of level 1 or 2, or before a
    closing rule (``---``). A chapter without the section, or with two, is an error.
    """
    cells = nb["cells"]
    starts = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "markdown" and GRADED_HEADING.search(nbtools.source(c))
    ]
    if len(starts) != 1:
        raise ValueError(
            f"expected one '## Graded exercises' section, found {len(starts)}"
        )
    start = starts[0]
    for end in range(start + 1, len(cells)):
        cell = cells[end]
        if cell["cell_type"] == "markdown" and SECTION_HEADING.search(
            nbtools.source(cell)
        ):
            return start, end
    return start, len(cells)


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


def chapter_master(nb: dict, name: str) -> dict:
    """The whole chapter as an otter master: config first, the grader set up before the
    graded section, the Colab cell installing the ``course`` extra."""
    start, _ = graded_section(nb)
    master = json.loads(json.dumps(nb))
    colab = _colab_cell(nb)
    cells = [_with_course_extra(c) if c == colab else c for c in master["cells"]]
    cells[start] = _markdown(STUDENT_SECTION)
    cells = cells[: start + 1] + [_init_cell()] + cells[start + 1 :]
    master["cells"] = [_config_cell(name, check_all=False), *cells]
    return master


def assignment_master(nb: dict, name: str) -> dict:
    """The assignment: the chapter's title, its Colab cell and its graded section."""
    start, end = graded_section(nb)
    title = nbtools.source(nb["cells"][0]).splitlines()[0]
    if not title.startswith("# "):
        raise ValueError(f"the chapter's first line is not its title: {title!r}")
    intro = _markdown(
        f"{title}: graded exercises\n\n"
        "The questions of the chapter's section *Graded exercises*; they refer to the "
        "chapter's sections, figures and exercises, so read the chapter first (the book, or "
        "its copy without solutions in the repository's `student/` folder).\n\n"
        + STUDENT_SECTION.split("\n\n", 1)[1]
    )
    master = json.loads(json.dumps(nb))
    master["cells"] = [
        _config_cell(name, check_all=True),
        intro,
        _with_course_extra(_colab_cell(nb)),
        _init_cell(),
        *json.loads(json.dumps(nb["cells"][start + 1 : end])),
    ]
    return master


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


def build(
    student_dir: Path = nbtools.STUDENT_DIR,
    course_dir: Path = COURSE_DIR,
    chapters: list[Path] | None = None,
    readers_dir: Path | None = None,
) -> dict[str, list[str]]:
    """Write every chapter's student copy and its assignment, and (``readers_dir``) its reader
    copy; ``{chapter: question names}``.

    A reader copy goes to ``readers_dir/notebooks/<chapter>.ipynb`` (the repository's layout:
    ``python -m lib.course build`` writes them under :data:`lib.nbtools.READERS_DIR`); with
    ``readers_dir`` None (the function's default) none is written. The folders are checked
    first (:func:`writable_target`), every chapter is read and built in a temporary folder,
    and only then are the results moved in: a chapter that fails leaves every folder as it
    was.
    """
    targets = [("student_dir", student_dir), ("course_dir", course_dir)]
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
    readers_dir = None if readers_dir is None else Path(readers_dir)
    _check_targets(student_dir, course_dir, readers_dir)
    paths = [Path(c) for c in (nbtools.notebooks() if chapters is None else chapters)]
    if not paths:
        raise ParameterError("no chapters to build")
    sources = []
    for path in paths:  # every chapter read and checked before anything is built
        try:
            nb = nbtools.read(path)
            graded_section(nb)
            sources.append((path, nb, question_names(nb), nbtools.glue_values(nb)))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ParameterError(f"chapter {path} cannot be built: {exc}") from None
    questions = {}
    with tempfile.TemporaryDirectory() as stage:
        staged_student, staged_course = Path(stage, "student"), Path(stage, "course")
        staged_readers = Path(stage, "readers") / nbtools.NOTEBOOK_DIR.name
        tests_dir = staged_student / "tests"
        tests_dir.mkdir(parents=True)
        staged_readers.mkdir(parents=True)
        for path, nb, names, values in sources:
            name = path.stem
            questions[name] = names
            reader = nbtools.reader_copy(nb, path.name, values)
            nbtools.write(staged_readers / path.name, reader)
            with tempfile.TemporaryDirectory() as tmp:
                copy_path = otter_assign(chapter_master(nb, name), name, Path(tmp))
                copy = nbtools.student_copy(nbtools.read(copy_path), values)
                nbtools.write(staged_student / path.name, _tidy(copy, name))
                for test in sorted((copy_path.parent / "tests").glob("*.py")):
                    shutil.copyfile(test, tests_dir / test.name)
            assignment = staged_course / name
            student_nb = otter_assign(assignment_master(nb, name), name, assignment)
            handout = nbtools.student_copy(nbtools.read(student_nb), values)
            # the chapter copy's note does not apply
            handout["cells"] = handout["cells"][1:]
            nbtools.write(student_nb, _tidy(handout, name))
        old_student, old_course, old_readers = _check_targets(  # again
            student_dir, course_dir, readers_dir
        )
        _install(staged_student, student_dir, old_student)
        _install(staged_course, course_dir, old_course)
        if readers_dir is not None:
            _install(staged_readers.parent, readers_dir, old_readers)
    return questions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.course", description=__doc__)
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--student-dir", type=Path, default=nbtools.STUDENT_DIR)
    parser.add_argument("--course-dir", type=Path, default=COURSE_DIR)
    parser.add_argument("--readers-dir", type=Path, default=nbtools.READERS_DIR)
    args = parser.parse_args(argv)
    try:
        questions = build(
            args.student_dir, args.course_dir, readers_dir=args.readers_dir
        )
    except (ParameterError, DataError, RuntimeError, OSError) as exc:
        print(f"python -m lib.course: {exc}", file=sys.stderr)
        return 2
    for name, names in questions.items():
        print(f"{name}: {len(names)} graded questions ({', '.join(names)})")
    print(
        f"student copies in {args.student_dir}, assignments in {args.course_dir}, "
        f"reader copies in {args.readers_dir / nbtools.NOTEBOOK_DIR.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
