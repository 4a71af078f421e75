"""Grading that a student function computes without overflow: the RuntimeWarnings a call
raised in the student's process (``nnlab.recording.RUNTIME_WARNINGS``), for a test.

A sigmoid written 1 / (1 + np.exp(-Z)) gives the right values at Z = -1000 (exp overflows to
inf, and 1 / inf is 0) but warns: check() flags it, and so does the grader with these.
"""

from typing import Any

from nnlab.recording import RUNTIME_WARNINGS
from nnlab.testing import assert_public


def warnings_of(student: Any, name: str, *args: Any) -> tuple[Any, int]:
    """(``name(*args)``, the number of RuntimeWarnings the call raised: overflow, invalid
    value or division by zero, each warned whatever the notebook's settings; see
    ``nnlab.recording.RUNTIME_WARNINGS``)."""
    result, recording = student.record({RUNTIME_WARNINGS: "all"}, name, *args)
    return result, recording["counts"].get(RUNTIME_WARNINGS, 0)


def assert_no_warning(student: Any, name: str, *args: Any, what: str) -> Any:
    """``name(*args)``, asserting (publicly) that the call raised no RuntimeWarning: an
    intermediate value overflowed to inf or became NaN, even if the result is right.

    ``what`` names the call in the message, e.g. "sigmoid_forward at large |Z|".
    """
    result, count = warnings_of(student, name, *args)
    assert_public(count == 0, (
        f"{what} raised a RuntimeWarning (overflow, invalid value or division by zero): "
        f"an intermediate value became inf or NaN, e.g. np.exp(-Z) for a large negative Z"))
    return result
