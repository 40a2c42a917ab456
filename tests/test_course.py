"""The course kit (lib/course.py): graded questions generated and graded by otter-grader.

The session fixture builds every chapter's student copy and assignment once, in a temporary
folder, with the same command as ``make student``; the committed ``student/`` and
``book/readers/`` (the reader copies, tests/test_readers.py) must equal it,
and otter's autograder must give the solutions full marks and the blank student notebooks
none.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lib import course, nbtools

CHAPTERS = [p.stem for p in nbtools.notebooks()]
ROOT = Path(__file__).resolve().parents[1]
MIN_QUESTIONS = {name: 1 if name.startswith("00_") else 2 for name in CHAPTERS}


def _markdown(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _raw(text):
    return {"cell_type": "raw", "metadata": {}, "source": text}


def _code(text):
    return {
        "cell_type": "code",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": text,
    }


def _chapter(*section):
    colab = _code(
        f"{nbtools.COLAB_MARKER} `lib`\n"
        "import subprocess\nimport sys\n\n"
        'REPOSITORY = "https://example.org/x"\n'
        'if "google.colab" in sys.modules:\n'
        '    package = f"latent-geometry-book @ git+{REPOSITORY}"\n'
        f"{course.COLAB_PIP_LINE}"
    )
    return {
        "cells": [
            _markdown("# A chapter\n\ntext"),
            _code("device = 'cpu'"),
            colab,
            _markdown("## Exercises\n\n**1.** Think."),
            *section,
            _markdown("## Summary"),
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# ---------------------------------------------------------------- glue values


def test_fill_glue_formats_as_the_book_and_marks_the_value():
    values = {"err": "0.123456", "verdict": "'inconclusive'", "n": "1234"}
    text = "err {glue:text}`err:.2f`, **{glue:text}`verdict`**, n {glue:text}`n:,`"
    assert nbtools.fill_glue(text, values) == ("err 0.12†, **inconclusive†**, n 1,234†")


def test_fill_glue_refuses_a_key_the_notebook_never_glued():
    with pytest.raises(ValueError, match="'missing'"):
        nbtools.fill_glue("x {glue:text}`missing:.2f`", {"other": "1"})


def test_glue_values_reads_myst_nb_outputs():
    cell = _code("glue('a', 1.5)")
    cell["outputs"] = [
        {
            "output_type": "display_data",
            "metadata": {"scrapbook": {"name": "a", "mime_prefix": ""}},
            "data": {"text/plain": "1.5"},
        },
        {  # what myst-nb's glue writes: the value behind a MIME prefix
            "output_type": "display_data",
            "metadata": {
                "scrapbook": {
                    "name": "b",
                    "mime_prefix": "application/papermill.record/",
                }
            },
            "data": {"application/papermill.record/text/plain": "'2 s'"},
        },
        {"output_type": "stream", "name": "stdout", "text": "1.5\n"},
    ]
    assert nbtools.glue_values({"cells": [cell]}) == {"a": "1.5", "b": "'2 s'"}


# ---------------------------------------------------------------- the masters

SECTION = [
    _markdown("## Graded exercises\n\nIntro."),
    _code("data = 2"),
    _raw("# BEGIN QUESTION\nname: q99_1\npoints: 1"),
    _markdown("**Q.** Double it."),
    _raw("# BEGIN SOLUTION"),
    _code("answer = 2 * data  # SOLUTION"),
    _raw("# END SOLUTION"),
    _raw("# BEGIN TESTS"),
    _code("bool(answer == 4)"),
    _raw("# END TESTS"),
    _raw("# END QUESTION"),
]


def test_graded_section_ends_at_the_next_section_or_the_closing_rule():
    nb = _chapter(*SECTION)
    assert course.graded_section(nb) == (4, 4 + len(SECTION))
    nb["cells"].insert(8, _markdown("---\n*Where these outputs came from:*"))
    assert course.graded_section(nb) == (4, 8)


@pytest.mark.parametrize("copies", [0, 2])
def test_a_chapter_needs_exactly_one_graded_section(copies):
    with pytest.raises(ValueError, match="one '## Graded exercises'"):
        course.graded_section(_chapter(*(SECTION[:1] * copies)))


def test_question_names_in_order_and_a_nameless_question_is_an_error():
    assert course.question_names(_chapter(*SECTION)) == ["q99_1"]
    with pytest.raises(ValueError, match="without a name"):
        course.question_names(_chapter(_raw("# BEGIN QUESTION\npoints: 1")))


def test_assignment_master_is_the_graded_section_with_the_grader_set_up():
    master = course.assignment_master(_chapter(*SECTION), "99_x")
    sources = [nbtools.source(c) for c in master["cells"]]
    assert sources[0].startswith("# ASSIGNMENT CONFIG\nname: 99_x\nrequirements:\n")
    assert sources[1].startswith("# A chapter: graded exercises")
    assert "latent-geometry-book[course] @ git+" in sources[2]
    assert "grader = otter.Notebook(" in sources[3]
    assert sources[4:] == [nbtools.source(c) for c in SECTION[1:]]


def test_chapter_master_sets_up_the_grader_inside_the_graded_section():
    nb = _chapter(*SECTION)
    master = course.chapter_master(nb, "99_x")
    sources = [nbtools.source(c) for c in master["cells"]]
    start = sources.index(course.STUDENT_SECTION)  # the section speaks to the student
    assert "import otter" in sources[start + 1]
    assert sum("import otter" in s for s in sources) == 1
    assert "[course]" in sources[3] and "[course]" not in nbtools.source(nb["cells"][2])
    # in Colab, the copy fetches its public tests when they were not uploaded beside it
    assert 'shutil.copytree("/tmp/book/student/tests", "tests")' in sources[3]
    compile(sources[3], "colab", "exec")


# ---------------------------------------------------------------- built with otter


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Everything ``make student`` writes, built into a temporary folder."""
    root = tmp_path_factory.mktemp("course")
    questions = course.build(
        root / "student", root / "course", readers_dir=root / "readers"
    )
    return root, questions


def test_the_course_builds_without_torch_ray_playwright_or_onnx(tmp_path, built):
    """`make course` builds in a light environment (otter-grader and myst-nb): nothing the
    build imports may need the training stack. Here those packages are made unimportable
    and the build must still write what `make student` writes, byte for byte."""
    blocked = tmp_path / "blocked"
    for name in ("torch", "ray", "playwright", "onnx", "onnxruntime", "matplotlib"):
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(
            f"raise ImportError('{name} is not needed to build the course')\n"
        )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), str(ROOT)])}
    cmd = [sys.executable, "-m", "lib.course", "build"]
    cmd += ["--course-dir", str(out / "course"), "--student-dir", str(out / "student")]
    cmd += ["--readers-dir", str(out / "readers")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    root, _ = built
    for name in CHAPTERS:
        mine = (out / "student" / f"{name}.ipynb").read_bytes()
        assert mine == (root / "student" / f"{name}.ipynb").read_bytes(), name


def test_every_chapter_has_its_graded_questions(built):
    _, questions = built
    assert set(questions) == set(CHAPTERS)
    for name, names in questions.items():
        assert len(names) >= MIN_QUESTIONS[name], name
        assert all(re.fullmatch(rf"q{name[:2]}_\d+", q) for q in names), names
    everything = [q for names in questions.values() for q in names]
    assert len(everything) == len(set(everything)), "names are shared by student/tests"


def _test_spec(path: Path) -> dict:
    """The ``test`` dict of an otter OK-format test file."""
    tree = ast.parse(path.read_text())
    (assign,) = [n for n in tree.body if getattr(n.targets[0], "id", "") == "test"]
    return ast.literal_eval(assign.value)


def _test_cases(path: Path) -> list[dict]:
    """The test cases of an otter OK-format test file."""
    spec = _test_spec(path)
    return [case for suite in spec["suites"] for case in suite["cases"]]


def test_each_question_has_a_public_hint_and_a_hidden_decision(built):
    root, questions = built
    for name, names in questions.items():
        for q in names:
            cases = _test_cases(
                root / "course" / name / "autograder" / "tests" / f"{q}.py"
            )
            public = [c for c in cases if not c["hidden"]]
            hidden = [c for c in cases if c["hidden"]]
            assert public and hidden, (q, len(public), len(hidden))
            assert all(c.get("failure_message") for c in public), q
            student_cases = _test_cases(root / "student" / "tests" / f"{q}.py")
            assert student_cases == public, f"{q}: a student copy holds a hidden test"


@pytest.mark.parametrize("name", CHAPTERS)
def test_committed_student_copies_are_in_sync(built, name):
    root, _ = built
    committed = nbtools.STUDENT_DIR / f"{name}.ipynb"
    assert committed.is_file(), f"{committed} is missing: run `make student`"
    assert nbtools.read(committed) == nbtools.read(
        root / "student" / f"{name}.ipynb"
    ), f"{committed.name} is stale: run `make student`"


def test_committed_public_tests_are_in_sync(built):
    root, _ = built
    ours = sorted(p.name for p in (nbtools.STUDENT_DIR / "tests").glob("*.py"))
    theirs = sorted(p.name for p in (root / "student" / "tests").glob("*.py"))
    assert ours == theirs
    for name in ours:
        assert (nbtools.STUDENT_DIR / "tests" / name).read_text() == (
            root / "student" / "tests" / name
        ).read_text(), f"student/tests/{name} is stale: run `make student`"
    # the manifest that lets `make student` replace these files and no others
    manifest = course.MANIFEST
    assert json.loads((nbtools.STUDENT_DIR / manifest).read_text()) == json.loads(
        (root / "student" / manifest).read_text()
    ), f"student/{manifest} is stale: run `make student`"


@pytest.mark.parametrize("name", CHAPTERS)
def test_committed_reader_copies_are_in_sync(built, name):
    """book/readers/ is what `make student` writes (its content: tests/test_readers.py)."""
    root, _ = built
    rel = f"notebooks/{name}.ipynb"
    committed = nbtools.READERS_DIR / rel
    assert committed.is_file(), f"{committed} is missing: run `make student`"
    assert committed.read_bytes() == (root / "readers" / rel).read_bytes(), (
        f"book/readers/{rel} is stale: run `make student`"
    )
    text = "\n".join(
        nbtools.source(c)
        for c in nbtools.read(committed)["cells"]
        if c["cell_type"] == "markdown"
    )
    assert not nbtools.GLUE_ROLE.search(text), "a raw glue role is left"


def test_committed_readers_manifest_is_in_sync(built):
    root, _ = built
    manifest = course.MANIFEST
    assert json.loads((nbtools.READERS_DIR / manifest).read_text()) == json.loads(
        (root / "readers" / manifest).read_text()
    ), f"book/readers/{manifest} is stale: run `make student`"


@pytest.mark.parametrize("name", CHAPTERS)
def test_a_student_copy_shows_numbers_and_hides_solutions(built, name):
    root, questions = built
    for nb in (
        nbtools.read(nbtools.STUDENT_DIR / f"{name}.ipynb"),
        nbtools.read(root / "course" / name / "student" / f"{name}.ipynb"),
    ):
        text = "\n".join(nbtools.source(c) for c in nb["cells"])
        assert not nbtools.GLUE_ROLE.search(text), "a raw glue role is left"
        assert "▢" not in text
        assert "SOLUTION" not in text and "TEST CONFIG" not in text
        assert "{admonition} Solution" not in text
        for q in questions[name]:
            assert f'grader.check("{q}")' in text
        assert all(
            not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"
        )
    copy = nbtools.read(nbtools.STUDENT_DIR / f"{name}.ipynb")
    first = nbtools.source(copy["cells"][1])  # after the student note
    assert re.search(
        rf"about\s+\d+{nbtools.MEASURED_MARK}\s+minutes\s+to\s+read", first
    )


# ---------------------------------------------------------------- graded by otter


# One grading worker: otter's Python API (``otter.api.grade_submission``, what ``otter run``
# calls) grades its share of the notebooks one after the other, each in a fresh kernel, so
# otter is imported once per worker rather than once per notebook.
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


def _grade_in_workers(jobs: list, folder: Path, workers: int = 2) -> dict:
    """``{key: {question: (score, possible)}}`` for ``jobs`` of (key, notebook, zip)."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }  # 2 share 2 cores
    running = []
    for i in range(workers):
        share = [[k, str(nb), str(z)] for k, nb, z in jobs[i::workers]]
        path = folder / f"scores_{i}.json"
        command = [sys.executable, "-c", GRADER, json.dumps(share), str(path)]
        running.append(
            (path, subprocess.Popen(command, env=env, stderr=subprocess.PIPE))
        )
    scores = {}
    for path, process in running:
        _, log = process.communicate(timeout=900)
        assert process.returncode == 0, log.decode(errors="replace")[-3000:]
        for key, questions in json.loads(path.read_text()).items():
            scores[key] = {q: tuple(v) for q, v in questions.items()}
    return scores


@pytest.fixture(scope="session")
def grades(built):
    """Each chapter's solution and blank student notebook (and one wrong answer), graded.

    Two workers run side by side (one thread each); each grading starts a kernel that imports
    otter and torch, which is most of its time.
    """
    root, _ = built
    jobs = []
    for name in CHAPTERS:
        folder = root / "course" / name
        (zip_path,) = (folder / "autograder").glob("*-autograder_*.zip")
        jobs.append(
            (f"{name}/solution", folder / "autograder" / f"{name}.ipynb", zip_path)
        )
        jobs.append((f"{name}/blank", folder / "student" / f"{name}.ipynb", zip_path))
    # right-shaped wrong answers (they pass the public tests): the hidden ones must refuse them
    name = "02_toroidal_autoencoder"
    wrong = nbtools.read(root / "course" / name / "student" / f"{name}.ipynb")
    answers = {
        "copies = ...": "copies = (torch.rand(128, 3, dtype=torch.float64) * 2 - 1) * math.pi",
        "p_not_linear = ...": "p_not_linear = 0.5",
    }
    for cell in wrong["cells"]:
        for blank, answer in answers.items():
            cell["source"] = nbtools.source(cell).replace(blank, answer)
    (root / "wrong").mkdir()
    nbtools.write(root / "wrong" / f"{name}.ipynb", wrong)
    (zip_path,) = (root / "course" / name / "autograder").glob("*-autograder_*.zip")
    jobs.append((f"{name}/wrong", root / "wrong" / f"{name}.ipynb", zip_path))
    return _grade_in_workers(jobs, root)


@pytest.mark.parametrize("name", CHAPTERS)
@pytest.mark.slow  # several seconds: left out of make test-fast
def test_the_autograder_passes_the_solution_and_fails_the_blanks(built, grades, name):
    _, questions = built
    solution, blank = grades[f"{name}/solution"], grades[f"{name}/blank"]
    assert sorted(solution) == sorted(questions[name]) == sorted(blank)
    for q in questions[name]:
        score, possible = solution[q]
        assert possible > 0 and score == possible, (
            f"{q}: solution got {score}/{possible}"
        )
        assert blank[q][0] == 0, f"{q}: a blank answer scored {blank[q][0]}"


@pytest.mark.slow  # the grading fixture: about 80 s, left out of make test-fast
def test_right_shaped_wrong_answers_score_nothing(grades):
    wrong = grades["02_toroidal_autoencoder/wrong"]
    assert wrong == {"q02_1": (0, 1.0), "q02_2": (0, 1.0)}


def test_the_assignment_and_its_results_name_each_other(built):
    root, _ = built
    for name in CHAPTERS:
        nb = nbtools.read(root / "course" / name / "student" / f"{name}.ipynb")
        assert nb["metadata"]["otter"]["assignment_name"] == name
        config = json.loads(
            (root / "course" / name / "autograder" / "otter_config.json").read_text()
        )
        assert config["assignment_name"] == name


# ---------------------------------------------------------------- what a chapter costs


def _record(tmp_path, chapters):
    record = {
        "date": "2026-11-28",
        "machine": "x86_64, 2 CPU cores",
        "torch": "2.9.0",
        "torch_threads": 2,
        "chapters": chapters,
    }
    path = tmp_path / "run_times.json"
    path.write_text(json.dumps(record))
    return path


def test_glue_run_times_formats_what_a_reader_plans_with(tmp_path):
    from lib.notebook import glue_run_times

    entry = {"read_minutes": 24.6, "quick_cpu_seconds": 45.2, "full_cpu_seconds": 3900}
    values = glue_run_times("04_x", _record(tmp_path, {"04_x": entry}))
    assert values["read_minutes"] == "25"
    assert values["run_quick"] == "45 s"
    assert values["run_full"] == "1 h 5 min"
    assert "2 torch threads" in values["run_machine"]
    entry["full_cpu_seconds"] = 300
    assert (
        glue_run_times("04_x", _record(tmp_path, {"04_x": entry}))["run_full"]
        == "5 min"
    )


def test_glue_run_times_refuses_a_missing_chapter_or_record(tmp_path):
    from lib.errors import DataError, ParameterError
    from lib.notebook import glue_run_times

    with pytest.raises(ParameterError, match="'05_y' is not in"):
        glue_run_times("05_y", _record(tmp_path, {}))
    with pytest.raises(ParameterError, match="chapter must be"):
        glue_run_times(5, _record(tmp_path, {}))
    with pytest.raises(ParameterError, match="record must be a path"):
        glue_run_times("05_y", 3.0)
    with pytest.raises(DataError, match="no run-time record"):
        glue_run_times("05_y", tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="not a JSON run-time record"):
        glue_run_times("05_y", tmp_path / "bad.json")


def test_the_shipped_run_times_cover_every_chapter():
    from lib.checkpoint import pretrained_path
    from lib.notebook import RUN_TIMES_RECORD

    record = json.loads(pretrained_path(RUN_TIMES_RECORD).read_text())
    assert set(record["chapters"]) == set(CHAPTERS)
    for name, entry in record["chapters"].items():
        assert entry["quick_cpu_seconds"] > 0 and entry["full_cpu_seconds"] > 0, name
        assert entry["read_minutes"] > 0, name


# ------------------------------------------------------- nothing a user has is lost


def _digests(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    """A one-chapter course built by otter: ``(chapter path, student dir, course dir)``."""
    root = tmp_path_factory.mktemp("small")
    chapter, nb = root / "99_x.ipynb", _chapter(*SECTION)
    nb["metadata"]["kernelspec"] = {"name": "python3", "language": "python"}
    nbtools.write(chapter, nb)
    course.build(
        root / "student", root / "course", [chapter], readers_dir=root / "readers"
    )
    return chapter, root / "student", root / "course"


def test_a_folder_the_build_did_not_make_is_refused_before_anything_is_written(
    tmp_path,
):
    mine = tmp_path / "student" / "tests" / "test_mine.py"
    mine.parent.mkdir(parents=True)
    mine.write_text("def test_mine(): pass\n")
    with pytest.raises(ValueError, match="did not write .*tests/test_mine.py"):
        course.build(tmp_path / "student", tmp_path / "out")
    assert mine.read_text() == "def test_mine(): pass\n"
    assert not (tmp_path / "out").exists()


def test_the_command_refuses_the_repository_as_student_folder(tmp_path, capsys):
    before = _digests(nbtools.ROOT / "tests")
    code = course.main(
        ["build", "--student-dir", str(nbtools.ROOT), "--course-dir", str(tmp_path)]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m lib.course: --student-dir") and "\n" not in err
    assert _digests(nbtools.ROOT / "tests") == before


def test_nested_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match="separate folders"):
        course.build(tmp_path / "a", tmp_path / "a" / "course")
    with pytest.raises(ValueError, match="--readers-dir .* must be separate folders"):
        course.build(tmp_path / "a", tmp_path / "b", readers_dir=tmp_path / "b" / "r")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_one_chapter_build_writes_its_reader_copy(small_build):
    chapter, student, _ = small_build
    readers = student.parent / "readers"
    copy = nbtools.read(readers / "notebooks" / chapter.name)
    assert copy == nbtools.reader_copy(nbtools.read(chapter), chapter.name)
    manifest = json.loads((readers / course.MANIFEST).read_text())
    assert list(manifest["files"]) == [f"notebooks/{chapter.name}"]


def test_a_corrupt_chapter_leaves_both_folders_as_they_were(small_build, tmp_path):
    chapter, student, course_dir = small_build
    readers = student.parent / "readers"
    before = _digests(student), _digests(course_dir), _digests(readers)
    corrupt = tmp_path / "00_bad.ipynb"
    corrupt.write_text('{"cells": [')
    with pytest.raises(ValueError, match="00_bad.ipynb cannot be built"):
        course.build(student, course_dir, [corrupt, chapter], readers_dir=readers)
    assert (_digests(student), _digests(course_dir), _digests(readers)) == before
    assert (student / "tests" / "q99_1.py").is_file()


def test_a_rebuild_replaces_only_the_builds_own_unchanged_files(small_build, tmp_path):
    chapter, student, course_dir = small_build
    before = _digests(student)
    (student / "__pycache__").mkdir(exist_ok=True)  # caches a run leaves are ignored
    (student / "__pycache__" / "x.pyc").write_bytes(b"cache")
    course.build(student, course_dir, chapters=[chapter])
    after = _digests(student)
    assert after.pop("__pycache__/x.pyc") == b"cache" and after == before
    # the build's own file it no longer makes goes; a user's file or edit stops the build
    stale = student / "tests" / "q99_0.py"
    stale.write_text("old")
    manifest = json.loads((student / course.MANIFEST).read_text())
    manifest["files"]["tests/q99_0.py"] = course.file_digest(stale)
    (student / course.MANIFEST).write_text(json.dumps(manifest))
    course.build(student, course_dir, chapters=[chapter])
    assert not stale.exists()
    edited = student / "99_x.ipynb"
    edited.write_text(edited.read_text() + " ")
    with pytest.raises(ValueError, match="99_x.ipynb changed since"):
        course.build(student, course_dir, chapters=[chapter])
    assert edited.read_text().endswith(" ")
