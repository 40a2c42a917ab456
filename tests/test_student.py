"""`make student`: copies of the chapters without solutions and outputs, kept in sync."""

import pytest

from lib import nbtools


def _markdown(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text, outputs=True):
    return {
        "cell_type": "code",
        "metadata": {},
        "execution_count": 3,
        "outputs": [{"output_type": "stream", "name": "stdout", "text": "42\n"}]
        if outputs
        else [],
        "source": text,
    }


SOLVED = """**1.** Why?

````{admonition} Solution
:class: dropdown
Because.

```python
print("the answer")
```
````

**2.** And then?"""


def test_student_copy_removes_solutions_and_outputs_but_keeps_exercises():
    nb = {
        "cells": [
            _markdown("# Title\n\nThe error is {glue:text}`err:.3f` and {glue}`fig`."),
            _code("x = 1"),
            _markdown("## Exercises\n\n" + SOLVED),
            _markdown("```{admonition} Solution\n:class: dropdown\nOnly this.\n```"),
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    student = nbtools.student_copy(nb)
    text = "\n".join(nbtools.source(c) for c in student["cells"])
    assert "**1.** Why?" in text and "**2.** And then?" in text
    assert (
        "Solution" not in text and "the answer" not in text and "Only this" not in text
    )
    # the note comes first; the solution-only cell is dropped
    assert [c["cell_type"] for c in student["cells"]] == [
        "markdown",
        "markdown",
        "code",
        "markdown",
    ]
    assert student["cells"][0]["source"] == nbtools.STUDENT_NOTE.strip()
    assert student["cells"][1]["source"] == "# Title\n\nThe error is ▢ and ▢."
    code = student["cells"][2]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert nb["cells"][1]["outputs"], "the original is left untouched"


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "```{admonition} Solution\n:class: dropdown\n```python\nx\n```\n```",
            "nested",
        ),
        ("```{admonition} Solution\n:class: dropdown\nno end", "never closed"),
    ],
)
def test_broken_solution_fences_are_errors(text, message):
    with pytest.raises(ValueError, match=message):
        nbtools.solution_blocks(text)


@pytest.mark.parametrize("path", nbtools.notebooks(), ids=lambda p: p.name)
def test_committed_student_copies_are_in_sync(path):
    copy = nbtools.STUDENT_DIR / path.name
    assert copy.is_file(), f"{copy} is missing: run `make student`"
    expected = nbtools.student_copy(nbtools.read(path))
    assert nbtools.read(copy) == expected, f"{copy.name} is stale: run `make student`"
    assert not any(
        nbtools.solution_blocks(nbtools.source(c)) for c in expected["cells"]
    )
