"""The contract checker itself must catch what it claims to catch."""

import json

import pytest

from lib import nbtools

BEFORE = (
    f"{nbtools.BEFORE_MARKER} none. *Time:* {{glue:text}}`read_minutes` minutes, "
    "{glue:text}`run_quick` and {glue:text}`run_full` on {glue:text}`run_machine`."
)
OPENER = (
    f"# Title\n\n{nbtools.CLAIM_MARKER} A claim.\n\n{nbtools.OBJECTIVES_MARKER}\n\n- x"
    f"\n\n{BEFORE}"
)
EXERCISES = "## Exercises\n\n**1.** Why?\n\n```{admonition} Solution\n:class: dropdown\nBecause.\n```"


def _markdown(src):
    return {"cell_type": "markdown", "source": src, "metadata": {}}


def _notebook(tmp_path, cells, kernel="python3", opener=OPENER, exercises=EXERCISES):
    """A chapter: an opener, the code ``cells``, and an exercises section."""
    nb = {
        "cells": [_markdown(opener), *cells, _markdown(exercises)],
        "metadata": {"kernelspec": {"name": kernel}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _code(src, count, tags=(), outputs=()):
    return {
        "cell_type": "code",
        "source": src,
        "execution_count": count,
        "metadata": {"tags": list(tags)},
        "outputs": list(outputs),
    }


GOOD = [
    _code(
        'device = "auto"\nseed = 0\nquick = False\ntrain = "auto"',
        1,
        tags=["parameters"],
    ),
    _code(f"{nbtools.COLAB_MARKER} `lib`\nimport sys", 2),
    _code("x = 1", 3),
]


def test_a_good_notebook_passes(tmp_path):
    assert nbtools.contract_problems(_notebook(tmp_path, GOOD)) == []


def test_each_violation_is_reported(tmp_path):
    cases = {
        "tagged 'parameters'": [_code("x = 1", 1), *GOOD[1:]],
        "does not set 'train'": [
            _code('device = "auto"\nseed = 0\nquick = False', 1, tags=["parameters"]),
            *GOOD[1:],
        ],
        "Colab": [GOOD[0], _code("import sys", 2), GOOD[2]],
        "execution counts": [GOOD[0], GOOD[1], _code("x = 1", 5)],
        "error output": [
            *GOOD[:2],
            _code(
                "1/0",
                3,
                outputs=[{"output_type": "error", "ename": "ZeroDivisionError"}],
            ),
        ],
        "machine-local path": [*GOOD[:2], _code("open('/home/alice/data.npz')", 3)],
        "line 2 has 89 characters": [*GOOD[:2], _code("x = 1\n" + "y" * 89, 3)],
    }
    for expected, cells in cases.items():
        problems = nbtools.contract_problems(_notebook(tmp_path, cells))
        assert any(expected in p for p in problems), (expected, problems)
    assert any(
        "kernelspec" in p
        for p in nbtools.contract_problems(_notebook(tmp_path, GOOD, kernel="py"))
    )
    teaching = {
        "In this chapter you will": {"opener": "# Title\n\nText."},
        "The claim this chapter tests": {
            "opener": f"# T\n\n{nbtools.OBJECTIVES_MARKER}"
        },
        "Before you start": {"opener": OPENER.replace(BEFORE, "")},
        "does not paste the run times ['run_full']": {
            "opener": OPENER.replace("{glue:text}`run_full`", "3 min")
        },
        "no '## Exercises' section": {"exercises": "## Summary"},
        "no collapsed solution": {"exercises": "## Exercises\n\n**1.** Why?"},
        "nested in a solution": {
            "exercises": EXERCISES.replace("Because.", "```python")
        },
    }
    for expected, kwargs in teaching.items():
        problems = nbtools.contract_problems(_notebook(tmp_path, GOOD, **kwargs))
        assert any(expected in p for p in problems), (expected, problems)


def test_clean_strips_run_metadata(tmp_path):
    cells = [
        dict(
            GOOD[0],
            metadata={
                "tags": ["parameters"],
                "papermill": {"duration": 1.0},
                "execution": {"iopub.status.idle": "now"},
            },
        )
    ]
    path = _notebook(tmp_path, cells)
    nb = json.loads(path.read_text())
    nb["metadata"]["papermill"] = {"start_time": "now"}
    path.write_text(json.dumps(nb))
    nbtools.clean(path)
    nb = json.loads(path.read_text())
    assert "papermill" not in nb["metadata"] and nb["cells"][1]["metadata"] == {
        "tags": ["parameters"]
    }


def test_the_repository_line_may_be_long_and_sync_colab_rewrites_it(
    tmp_path, monkeypatch
):
    url = "https://example.org/" + "a" * 80
    colab = (
        f'{nbtools.COLAB_MARKER} `lib`\nREPOSITORY = "https://old.example"\nimport sys'
    )
    path = _notebook(tmp_path, [GOOD[0], _code(colab, 2), GOOD[2]])
    monkeypatch.setattr(nbtools, "repository_url", lambda: url)
    assert nbtools.sync_colab([path]) == [path]
    assert f'REPOSITORY = "{url}"' in nbtools.source(nbtools.read(path)["cells"][2])
    assert nbtools.contract_problems(path) == []


@pytest.mark.parametrize("command", ["check", "clean", "sync-colab"])
@pytest.mark.parametrize(
    "content, why",
    [
        (None, "no such file"),
        ("{}", "not a Jupyter notebook"),
        ('{"cells": [', "not a readable JSON notebook"),
        ('{"a": 1}', "not a Jupyter notebook"),
    ],
)
def test_the_command_refuses_what_is_not_a_notebook_and_writes_nothing(
    tmp_path, capsys, command, content, why
):
    path = tmp_path / "x.ipynb"
    if content is not None:
        path.write_text(content)
    assert nbtools.main([command, str(path)]) == 2
    err = capsys.readouterr().err
    assert why in err and err.count("\n") == 1
    if content is not None:
        assert path.read_text() == content


def test_the_readers_refuse_what_is_not_a_notebook_in_one_error(tmp_path, capsys):
    from lib import nbtools
    from lib.errors import ParameterError

    for text, says in [("{", "not a readable JSON"), ("{}", "not a Jupyter notebook")]:
        (tmp_path / "nb.ipynb").write_text(text)
        with pytest.raises(ParameterError, match=says):
            nbtools.read(tmp_path / "nb.ipynb")
    with pytest.raises(ParameterError, match="a folder"):
        nbtools.read(tmp_path)
    for call in (lambda: nbtools.glue_values({}), lambda: nbtools.student_copy([])):
        with pytest.raises(ParameterError, match="nb must be a Jupyter notebook"):
            call()
    assert nbtools.main(["tidy"]) == 2
    assert "unknown command 'tidy'" in capsys.readouterr().err
