"""Graded tests as data: a plain function plus its points and visibility.

A graded test is a function ``name(student)`` decorated with ``@graded(...)``. Its
name is its nbgrader grade_id and starts with the student function it tests
(``softmax_handout_vector`` tests ``softmax``). Visible tests go into the student's
notebook; hidden ones only into the instructor's source notebook (inside
``### BEGIN HIDDEN TESTS``), and may import the reference from ``solutions``.
"""

import dataclasses
import inspect
import textwrap
import types
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

TestFunction = TypeVar("TestFunction", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True)
class GradedTest:
    function: Callable[..., Any]
    points: float
    hidden: bool
    timeout: float | None  # seconds per call to a student function; None: the grader's default

    @property
    def grade_id(self) -> str:
        return self.function.__name__

    @property
    def summary(self) -> str:
        """The docstring's first paragraph, its lines joined into one: what the test checks,
        in the student's terms."""
        paragraph = (inspect.getdoc(self.function) or "").strip().split("\n\n")[0]
        return " ".join(line.strip() for line in paragraph.splitlines() if line.strip())

    def source(self) -> str:
        """The function's source without its decorator, as pasted into a notebook cell."""
        lines = textwrap.dedent(inspect.getsource(self.function)).splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("def "))
        return "\n".join(lines[start:])


def graded(points: float, hidden: bool = False,
       timeout: float | None = None) -> Callable[[TestFunction], TestFunction]:
    """Mark a function as a graded test; the grader collects it from its module.

    ``timeout`` (seconds per call of a student function) overrides the grader's
    ``--call-timeout`` for tests that need longer, such as training.
    """
    def mark(function: TestFunction) -> TestFunction:
        function.graded = GradedTest(  # type: ignore[attr-defined]  # the mark on the function
            function, float(points), bool(hidden), None if timeout is None else float(timeout))
        return function
    return mark


def collect(modules: Iterable[types.ModuleType]) -> list[GradedTest]:
    """The graded tests of ``modules``, in module order then definition order."""
    tests = []
    for module in modules:
        found = [value.graded for value in vars(module).values() if hasattr(value, "graded")]
        found.sort(key=lambda test: test.function.__code__.co_firstlineno)
        tests.extend(found)
    return tests
