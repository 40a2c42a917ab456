"""The course kit (lib/course.py): assignments built and graded by otter-grader.

The session fixture builds every chapter's student copy, reader copy and assignment once, in
a temporary folder, with the same command as ``make student``; the committed ``student/`` and
``book/readers/`` (the reader copies, tests/test_readers.py) must equal it, and otter's
autograder must give the solutions full marks, the blank handouts none, and every typical
wrong answer in ``instructor/assignments/*.mistakes.toml`` none for its question.
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
ASSIGNED = [p.stem for p in course.assignments()]
ROOT = Path(__file__).resolve().parents[1]
MIN_AUTOGRADED = 25  # in all (issue 46), each chapter but 00 at least 4, 00 at least 1


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


def _chapter():
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
            _markdown("## Summary"),
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


QUESTIONS = [
    _raw("# BEGIN QUESTION\nname: q99_1\npoints: 1\nall_or_nothing: true"),
    _markdown("**Graded 1 (`q99_1`).** Double `data`; call it `answer`."),
    _raw("# BEGIN SOLUTION"),
    _code("answer = 2 * data  # SOLUTION"),
    _raw("# END SOLUTION"),
    _raw("# BEGIN TESTS"),
    _code(
        '""" # BEGIN TEST CONFIG\nfailure_message: answer must be a number\n'
        '"""  # END TEST CONFIG\nassert isinstance(answer, int)'
    ),
    _code(
        '""" # BEGIN TEST CONFIG\nhidden: true\n"""  # END TEST CONFIG\nassert answer == 4'
    ),
    _raw("# END TESTS"),
    _raw("# END QUESTION"),
    _raw("# BEGIN QUESTION\nname: q99_w1\nmanual: true\npoints: 2"),
    _markdown("**Written (`q99_w1`).** Why double?"),
    _raw("# BEGIN SOLUTION"),
    _markdown("Because the question says so, unmistakably and twice over."),
    _markdown("**Rubric (2 points).** 1 point: the question; 1 point: twice."),
    _raw("# END SOLUTION"),
    _raw("# END QUESTION"),
]


def _master():
    return {
        "cells": [
            _markdown("# A chapter: graded assignment\n\nRead the chapter."),
            _code("data = 2"),
            *QUESTIONS,
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


def test_question_names_in_order_and_a_nameless_question_is_an_error():
    assert course.question_names(_master()) == ["q99_1", "q99_w1"]
    assert course.manual_questions(_master()) == {"q99_w1"}
    bad = _master()
    bad["cells"].append(_raw("# BEGIN QUESTION\npoints: 1"))
    with pytest.raises(ValueError, match="without a name"):
        course.question_names(bad)


def test_assignment_master_sets_up_the_grader_after_the_title():
    chapter = _chapter()
    master = course.assignment_master(_master(), chapter, "99_x")
    sources = [nbtools.source(c) for c in master["cells"]]
    assert sources[0].startswith("# ASSIGNMENT CONFIG\nname: 99_x\nrequirements:\n")
    assert sources[1].startswith("# A chapter: graded assignment")
    assert course.STUDENT_SECTION in sources[1]
    assert "latent-geometry-book[course] @ git+" in sources[2]
    assert "[course]" not in nbtools.source(chapter["cells"][2])
    # in Colab, the copy fetches its public tests when they were not uploaded beside it
    assert 'shutil.copytree("/tmp/book/student/tests", "tests")' in sources[2]
    compile(sources[2], "colab", "exec")
    assert "grader = otter.Notebook(" in sources[3]
    assert sources[4:] == [nbtools.source(c) for c in _master()["cells"][1:]]


def test_a_master_needs_a_title_and_a_question():
    untitled = _master()
    untitled["cells"][0] = _markdown("Read the chapter.")
    with pytest.raises(ValueError, match="not a title"):
        course.assignment_master(untitled, _chapter(), "99_x")
    empty = _master()
    empty["cells"] = empty["cells"][:2]
    with pytest.raises(ValueError, match="no question"):
        course.assignment_master(empty, _chapter(), "99_x")


def test_rubrics_are_read_with_their_question_and_listed_for_the_instructor():
    found = course.rubrics(_master())
    assert found == [
        ("q99_w1", "**Rubric (2 points).** 1 point: the question; 1 point: twice.")
    ]
    page = course.rubrics_page({"99_x": found})
    assert "## 99_x: `q99_w1`" in page and found[0][1] in page
    stray = _master()
    stray["cells"].insert(1, _markdown("**Rubric.** stray"))
    with pytest.raises(ValueError, match="outside a question"):
        course.rubrics(stray)


def test_mistakes_files_are_checked_at_the_door(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[[q99_1]]\nwhy = "off by one"\nanswer = "answer = 5"\n')
    assert course.read_mistakes(path, ["q99_1"]) == {
        "q99_1": [{"why": "off by one", "answer": "answer = 5"}]
    }
    with pytest.raises(ValueError, match="no question named 'q99_1'"):
        course.read_mistakes(path, ["q99_2"])
    path.write_text('[[q99_1]]\nwhy = "off by one"\n')
    with pytest.raises(ValueError, match="needs a why and an answer"):
        course.read_mistakes(path, ["q99_1"])
    path.write_text("[[q99_1]\n")
    with pytest.raises(ValueError, match="m.toml"):
        course.read_mistakes(path, ["q99_1"])
    with pytest.raises(ValueError, match="absent.toml"):
        course.read_mistakes(tmp_path / "absent.toml", ["q99_1"])


def test_a_wrong_answer_replaces_only_its_questions_answer_cells():
    solution = {
        "cells": [
            _code("data = 2"),
            {**_code("answer = 4"), "metadata": {"tags": [course.SOLUTION_TAG]}},
            {**_code("extra = 1"), "metadata": {"tags": [course.SOLUTION_TAG]}},
            _code('grader.check("q99_1")'),
            {**_code("other = 3"), "metadata": {"tags": [course.SOLUTION_TAG]}},
            _code('grader.check("q99_2")'),
        ]
    }
    assert course.answer_cells(solution) == {"q99_1": [1, 2], "q99_2": [4]}
    wrong = course.with_wrong_answers(solution, {"q99_1": "\nanswer = 5\n"})
    assert [nbtools.source(c) for c in wrong["cells"]] == [
        "data = 2",
        "answer = 5",
        "",
        'grader.check("q99_1")',
        "other = 3",
        'grader.check("q99_2")',
    ]
    with pytest.raises(ValueError, match="no answer cell of q99_3"):
        course.with_wrong_answers(solution, {"q99_3": "x = 1"})


def test_the_verdicts_catch_each_way_a_question_can_grade_wrongly():
    mistakes = {"q99_1": [{"why": "off by one", "answer": "answer = 5"}]}
    good = {
        "99_x/solution": {"q99_1": (1.0, 1.0), "q99_2": (1.0, 1.0)},
        "99_x/blank": {"q99_1": (0.0, 1.0), "q99_2": (0.0, 1.0)},
        "99_x/wrong-1": {"q99_1": (0.0, 1.0), "q99_2": (1.0, 1.0)},
    }
    names = ["q99_1", "q99_2", "q99_w1"]
    mistakes["q99_2"] = [{"why": "x", "answer": "y"}]
    good["99_x/wrong-1"]["q99_2"] = (0.0, 1.0)
    assert course.verdicts("99_x", names, {"q99_w1"}, mistakes, good) == []
    bad = json.loads(json.dumps(good))
    bad["99_x/wrong-1"]["q99_1"] = (1.0, 1.0)
    bad["99_x/blank"]["q99_2"] = (1.0, 1.0)
    bad["99_x/solution"]["q99_2"] = (0.0, 1.0)
    problems = course.verdicts("99_x", names, {"q99_w1"}, mistakes, bad)
    assert any("'off by one' scored 1.0" in p for p in problems)
    assert any("q99_2: the blank handout scored" in p for p in problems)
    assert any("q99_2: the solution scored" in p for p in problems)
    assert course.verdicts("99_x", names, {"q99_w1"}, {}, good) == [
        "q99_1: no typical wrong answer in the mistakes file",
        "q99_2: no typical wrong answer in the mistakes file",
    ]


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


def _manual(name: str) -> set[str]:
    return course.manual_questions(
        nbtools.read(course.ASSIGNMENTS_DIR / f"{name}.ipynb")
    )


def test_every_chapter_has_its_assignment_and_enough_questions(built):
    _, questions = built
    assert set(questions) == set(CHAPTERS) and set(ASSIGNED) == set(CHAPTERS)
    autograded = 0
    for name, names in questions.items():
        manual = _manual(name)
        graded = [q for q in names if q not in manual]
        autograded += len(graded)
        assert len(graded) >= (1 if name.startswith("00_") else 4), name
        assert name.startswith("00_") or len(manual) >= 1, (
            f"{name}: no written question"
        )
        assert all(re.fullmatch(rf"q{name[:2]}_\d+", q) for q in graded), names
        assert all(re.fullmatch(rf"q{name[:2]}_w\d+", q) for q in manual), names
    assert autograded >= MIN_AUTOGRADED
    everything = [q for names in questions.values() for q in names]
    assert len(everything) == len(set(everything)), "names are shared by student/tests"


def test_the_instructor_pack_holds_solutions_rubrics_and_syllabus(built):
    root, questions = built
    pack = root / "course" / "instructor"
    syllabus = (pack / "syllabus.md").read_text()
    assert syllabus.startswith((course.INSTRUCTOR_DIR / "syllabus.md").read_text())
    for name in CHAPTERS:  # the measured times pasted in
        assert re.search(rf"\| {name} \| \d+ min \| \d+ s \| [\d.]+ min \|", syllabus)
    rubrics = (pack / "rubrics.md").read_text()
    for name in CHAPTERS:
        solution = nbtools.read(pack / f"{name}.ipynb")
        text = "\n".join(nbtools.source(c) for c in solution["cells"])
        assert "grader.check" in text
        for q in _manual(name):
            assert f"## {name}: `{q}`" in rubrics
            assert "**Rubric" in text  # beside its question, too


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
        for q in (q for q in names if q not in _manual(name)):
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
    chapter = nbtools.read(nbtools.STUDENT_DIR / f"{name}.ipynb")
    handout = nbtools.read(root / "course" / name / "student" / f"{name}.ipynb")
    for nb in (chapter, handout):
        text = "\n".join(nbtools.source(c) for c in nb["cells"])
        assert not nbtools.GLUE_ROLE.search(text), "a raw glue role is left"
        assert "▢" not in text
        assert "SOLUTION" not in text and "TEST CONFIG" not in text
        assert "{admonition} Solution" not in text and "**Rubric" not in text
        assert all(
            not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"
        )
    text = "\n".join(nbtools.source(c) for c in handout["cells"])
    for q in questions[name]:
        if q not in _manual(name):
            assert f'grader.check("{q}")' in text
    first = nbtools.source(chapter["cells"][1])  # after the student note
    assert re.search(
        rf"about\s+\d+{nbtools.MEASURED_MARK}\s+minutes\s+to\s+read", first
    )


def test_no_graded_solution_shows_where_students_and_readers_look(built):
    """The graded answers live in instructor/ only: no line of a solution or rubric that
    the handouts do not show is in a chapter, its reader copy (what Colab opens) or its
    student copy; the built HTML book is checked by tests/test_book_build.py."""
    root, _ = built
    handouts = {
        n: nbtools.read(root / "course" / n / "student" / f"{n}.ipynb")
        for n in ASSIGNED
    }
    lines = course.solution_lines(handouts=handouts)
    assert len(lines) > 50
    places = [*nbtools.notebooks()]
    places += [nbtools.READERS_DIR / "notebooks" / f"{n}.ipynb" for n in CHAPTERS]
    places += [nbtools.STUDENT_DIR / f"{n}.ipynb" for n in CHAPTERS]
    for path in places:
        text = "\n".join(nbtools.source(c) for c in nbtools.read(path)["cells"])
        shown = [line for line in lines if line in text]
        assert not shown, f"{path}: a graded solution shows: {shown[0]!r}"


# ---------------------------------------------------------------- graded by otter


@pytest.fixture(scope="session")
def grades(built, tmp_path_factory):
    """Every assignment graded: its solution by otter's autograder zip as ``otter run``
    grades (two side by side, one thread each; each starts a kernel that imports otter and
    torch, most of its time), the first chapter's blank handout the same way, and every
    blank handout and typical wrong answer in this process by otter's test runner
    (:func:`lib.course.scores_in_process`): ``(scores, plans, blank graded by otter)``."""
    root, _ = built
    folder = tmp_path_factory.mktemp("grading")
    jobs = course.solution_jobs(root / "course", CHAPTERS)
    first = CHAPTERS[0]
    handout = root / "course" / first / "student" / f"{first}.ipynb"
    jobs.append((f"{first}/blank by otter", handout, jobs[0][2]))
    scores = course.grade(jobs, folder)
    plans = {}
    for name in CHAPTERS:
        master = nbtools.read(course.ASSIGNMENTS_DIR / f"{name}.ipynb")
        names = course.question_names(master)
        mistakes = course.read_mistakes(
            course.mistakes_path(course.ASSIGNMENTS_DIR / f"{name}.ipynb"), names
        )
        plans[name] = (names, course.manual_questions(master), mistakes)
        scores.update(course.scores_in_process(root / "course", name, mistakes))
    return scores, plans


@pytest.mark.parametrize("name", CHAPTERS)
@pytest.mark.slow  # the grading fixture: about a minute, left out of make test-fast
def test_the_autograder_passes_the_solution_and_fails_blanks_and_mistakes(grades, name):
    scores, plans = grades
    names, manual, mistakes = plans[name]
    assert course.verdicts(name, names, manual, mistakes, scores) == []
    assert sorted(scores[f"{name}/solution"]) == sorted(set(names) - manual)


@pytest.mark.slow
def test_otter_and_the_test_runner_agree_on_a_blank_handout(grades):
    scores, _ = grades
    first = CHAPTERS[0]
    by_otter = scores[f"{first}/blank by otter"]
    assert by_otter == scores[f"{first}/blank"]
    assert by_otter and all(score == 0 for score, _ in by_otter.values())


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
    chapter, nb = root / "99_x.ipynb", _chapter()
    nb["metadata"]["kernelspec"] = {"name": "python3", "language": "python"}
    nbtools.write(chapter, nb)
    (root / "assignments").mkdir()
    nbtools.write(root / "assignments" / "99_x.ipynb", _master())
    course.build(
        root / "student",
        root / "course",
        [chapter],
        readers_dir=root / "readers",
        assignments_dir=root / "assignments",
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
        course.build(
            student,
            course_dir,
            [corrupt, chapter],
            readers_dir=readers,
            assignments_dir=chapter.parent / "assignments",
        )
    assert (_digests(student), _digests(course_dir), _digests(readers)) == before
    assert (student / "tests" / "q99_1.py").is_file()


def test_a_rebuild_replaces_only_the_builds_own_unchanged_files(small_build, tmp_path):
    chapter, student, course_dir = small_build
    before = _digests(student)
    (student / "__pycache__").mkdir(exist_ok=True)  # caches a run leaves are ignored
    (student / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assignments = chapter.parent / "assignments"
    course.build(student, course_dir, [chapter], assignments_dir=assignments)
    after = _digests(student)
    assert after.pop("__pycache__/x.pyc") == b"cache" and after == before
    # the build's own file it no longer makes goes; a user's file or edit stops the build
    stale = student / "tests" / "q99_0.py"
    stale.write_text("old")
    manifest = json.loads((student / course.MANIFEST).read_text())
    manifest["files"]["tests/q99_0.py"] = course.file_digest(stale)
    (student / course.MANIFEST).write_text(json.dumps(manifest))
    course.build(student, course_dir, [chapter], assignments_dir=assignments)
    assert not stale.exists()
    edited = student / "99_x.ipynb"
    edited.write_text(edited.read_text() + " ")
    with pytest.raises(ValueError, match="99_x.ipynb changed since"):
        course.build(student, course_dir, [chapter], assignments_dir=assignments)
    assert edited.read_text().endswith(" ")


def test_written_answers_go_to_a_pdf_through_html_and_chromium(small_build, tmp_path):
    """A TA grades the written questions from a PDF (Gradescope's manual grading): the
    handout's written cells only, printed by the Chromium the browser test uses."""
    import shutil

    chromium = os.environ.get("BOOK_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        pytest.skip("no Chromium on PATH: `make test` installs Debian's chromium")
    _, _, course_dir = small_build
    handout = nbtools.read(course_dir / "99_x" / "student" / "99_x.ipynb")
    for cell in handout["cells"]:
        if "_Type your answer here" in nbtools.source(cell):
            cell["source"] = "Because it says twice, wrote Alice."
    submitted = tmp_path / "alice.ipynb"
    nbtools.write(submitted, handout)
    html = course.written_answers_html(submitted)
    assert "wrote Alice" in html and "Why double?" in html
    assert "answer = " not in html  # the autograded question is left out
    code = course.main(
        ["pdf", str(submitted), "--pdf-dir", str(tmp_path), "--chromium", chromium]
    )
    assert code == 0
    assert (tmp_path / "alice-written.pdf").read_bytes().startswith(b"%PDF")


def test_the_teaching_page_lists_every_question():
    page = (ROOT / "book" / "teaching.md").read_text()
    for name in ASSIGNED:
        master = nbtools.read(course.ASSIGNMENTS_DIR / f"{name}.ipynb")
        for q in course.question_names(master):
            assert f"`{q}`" in page, f"book/teaching.md does not list {q}"
