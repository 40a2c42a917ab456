"""Every bad input of ``tests/hostile_*.py`` meets a clear error (see ``tests/hostile.py``)."""

import pytest
from hostile import Case, all_cases, classify

CASES = [
    pytest.param(case, id=f"{module.removeprefix('hostile_')}:{case.id}")
    for module, cases in all_cases().items()
    for case in cases
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_meets_a_clear_error(case: Case):
    outcome, detail = classify(case)
    assert outcome == "clear", detail


def test_the_classifier_can_fail():
    """A silent call, a raw NumPy error and a library error are told apart."""
    import numpy as np

    from lib.errors import ParameterError

    def library():
        raise ParameterError("n must be positive")

    assert classify(Case("silent", lambda: 1))[0] == "silent"
    assert classify(Case("raw", lambda: np.zeros(2).reshape(3)))[0] == "raw"
    assert classify(Case("ours", library, names="n"))[0] == "clear"
    assert classify(Case("unnamed", library, names="seed"))[0] == "raw"
