"""Student copies of the chapters without solutions and outputs (their sync: test_course.py)."""

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


def _glued(name, plain):
    cell = _code(f"glue({name!r}, {plain})")
    cell["outputs"] = [
        {
            "output_type": "display_data",
            "metadata": {"scrapbook": {"name": name, "mime_prefix": ""}},
            "data": {"text/plain": plain},
        }
    ]
    return cell


def test_student_copy_removes_solutions_and_outputs_but_keeps_exercises():
    nb = {
        "cells": [
            _markdown("# Title\n\nThe error is {glue:text}`err:.3f` and {glue}`fig`."),
            _code("x = 1"),
            _glued("err", "0.12345"),
            _glued("fig", "7"),
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
        "code",
        "code",
        "markdown",
    ]
    assert student["cells"][0]["source"] == nbtools.STUDENT_NOTE.strip()
    # the numbers the book pastes in are the notebook's own, formatted as the book does
    assert student["cells"][1]["source"] == "# Title\n\nThe error is 0.123† and 7†."
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
