"""One table of known mistakes per assignment, driving both test suites (issue 18).

Each assignment's module here (``foundations``, ``two_layer_net``, ``deep_mlp``) exports
``MISTAKES``, a list of :class:`Mistake` records with unique names: a mistake a student makes
in ONE function, what the grader must charge for it (``fails``) and what the student's
``check(function)`` must say about it (``hints``). Two drivers read every table:

- the grader side (``tests/test_one_charge.py``): the reference's notebook with the mistake
  loses exactly ``fails``, all of them tests of ``function``, and passes every other test;
- the check() side (``tests/test_hints.py``): ``check(function)`` returns False and prints
  every hint of ``hints``.

A known miss (a mistake charged to a function other than its own, a check() that gives no
hint) keeps the correct expectation and says so in ``grader_xfail`` or ``check_xfail``: the
driver marks that side ``xfail(strict=True)``, so fixing the miss turns the test red until
the reason is removed.

The helpers below build a mistake's source by editing the reference's (``from_reference``,
``edited``) or take a demo student's (``demo_source``), and run it through the grader
(``graded``) and through check() (``checked``, ``hints_in``).

Adding a mistake: put one record before the line ``# end of MISTAKES`` of the assignment's
module, e.g. ::

    Mistake("relu_is_abs", "relu", "def relu(x):\n    return np.abs(x)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("relu_values",)),
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import io
import textwrap
import warnings
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from autograder.demo import functions_in
from wrapped import squeezed

ASSIGNMENTS = ("foundations", "two_layer_net", "deep_mlp")


@dataclass(frozen=True)
class Mistake:
    """A known mistake in one function of an assignment.

    Fields:
    - name: the test id (unique within the assignment's table)
    - function: the student function the mistake is in
    - source: that function's whole source, with the mistake (a notebook cell's text; it
      may define other functions after it, correct ones calling it)
    - fails: the grade_ids the grader must fail, exactly these, all of them tests of
      ``function`` (every other test passes); () for a result that is right, which the
      grader rightly takes (check() only comments on it); None only where the grader run
      is too slow for the suite (deep_mlp's train_mlp: a minute of training per student)
    - hints: the keys of check()'s HINTS that ``check(function)`` must print
    - student: the demo student whose notebook makes this mistake, if any
    - grader_xfail: why the grader does not charge exactly ``fails`` yet ("" if it does)
    - check_xfail: why check() does not print ``hints`` yet ("" if it does)
    """

    name: str
    function: str
    source: str
    fails: tuple[str, ...] | None
    hints: tuple[str, ...]
    student: str | None = None
    grader_xfail: str = ""
    check_xfail: str = ""

    def __post_init__(self) -> None:
        if self.fails is not None:
            object.__setattr__(self, "fails", tuple(self.fails))
        object.__setattr__(self, "hints", tuple(self.hints))
        object.__setattr__(self, "source", textwrap.dedent(self.source))
        defined = [node.name for node in ast.parse(self.source).body
                   if isinstance(node, ast.FunctionDef)]
        assert self.function in defined, f"{self.name}: the source defines {defined}, " \
            f"not {self.function}"


def check_unique(mistakes: Iterable[Mistake]) -> list[Mistake]:
    """``mistakes`` as a list, after asserting that their names are unique."""
    mistakes = list(mistakes)
    names = [mistake.name for mistake in mistakes]
    twice = sorted({name for name in names if names.count(name) > 1})
    assert not twice, f"mistake names used twice: {twice}"
    return mistakes


def table(assignment: str) -> list[Mistake]:
    """The ``MISTAKES`` of ``assignment`` (a name of ``ASSIGNMENTS``)."""
    return importlib.import_module(f"known_mistakes.{assignment}").MISTAKES


def correct_variants(assignment: str) -> dict[str, str]:
    """{name: source} of the correct functions written otherwise of ``assignment``'s table
    (its ``CORRECT``): the grader and check() must take them as right."""
    return importlib.import_module(f"known_mistakes.{assignment}").CORRECT


# -- building sources ---------------------------------------------------------------------
def edited(source: str, *pairs: str) -> str:
    """``source`` with each ``old`` (occurring exactly once) replaced by its ``new``:
    ``pairs`` is old, new, old, new, ..."""
    assert len(pairs) % 2 == 0, f"an old text without its new one: {pairs[-1]!r}"
    source = textwrap.dedent(source)
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert source.count(old) == 1, f"{old!r} occurs {source.count(old)} times in\n{source}"
        source = source.replace(old, new)
    return source


def reference_source(assignment: Any, name: str) -> str:
    """The source of the reference's function ``name`` of ``assignment`` (a course
    assignment), as a notebook cell."""
    module = importlib.import_module(f"solutions.{assignment.name}")
    return textwrap.dedent(inspect.getsource(getattr(module, name)))


def from_reference(assignment: Any, name: str, *pairs: str) -> str:
    """The reference's source of ``name`` with ``pairs`` (old, new, ...) edited."""
    return edited(reference_source(assignment, name), *pairs)


def demo_source(assignment: Any, student: str, name: str) -> str:
    """The source of ``name`` in demo student ``student``'s notebook of ``assignment``."""
    return functions_in(assignment.demo_dir / "students" / f"{student}.py")[name]


def reference_notebook(assignment: Any, *sources: str) -> dict:
    """The notebook's globals of a student who wrote the reference of ``assignment``: its
    setup cell run, the reference's functions defined in one namespace as a notebook's
    cells define them (each calls whatever the namespace holds), then ``sources`` run in it
    (a mistake: one function's source replaced)."""
    namespace: dict = {"np": np}
    exec(assignment.setup_code, namespace)
    for name in assignment.functions:
        exec(reference_source(assignment, name), namespace)
    for source in sources:
        exec(textwrap.dedent(source), namespace)
    return namespace


# -- running a mistake through the grader and through check() ------------------------------
# functions whose tests train a network (seconds to a minute per student): graded only when
# the mistake is in that function itself (deep_mlp's train_mlp: never, see Mistake.fails)
TRAINING = {"two_layer_net": ("train",), "deep_mlp": ("train_mlp",)}


def failing_tests(assignment: Any, namespace: dict, skip: Iterable[str] = ()) -> dict[str, str]:
    """{grade_id: error} of the tests of ``assignment`` (but those whose function is in
    ``skip``) that fail on ``namespace``'s functions, each hidden test with the inputs one
    grading run would draw (a fixed secret: the same on every run of this repository's tests)."""
    from autograder import hidden
    from nnlab.testing import LocalStudent
    student, lost, skip = LocalStudent(namespace), {}, tuple(skip)
    for test in assignment.tests:
        if assignment.target_of(test) in skip:
            continue
        with hidden.submission("mistake table", bytes(range(32))), \
                hidden.test(test.grade_id), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                test.function(student)
            except Exception as error:  # a failed test, or the student's code raised
                lost[test.grade_id] = f"{type(error).__name__}: {error}"[:300]
    return lost


def graded(assignment: Any, mistake: Mistake) -> dict[str, str]:
    """{grade_id: error} of the tests the reference's notebook with ``mistake`` fails (the
    training tests of other functions left out: ``TRAINING``)."""
    skip = [name for name in TRAINING.get(assignment.name, ()) if name != mistake.function]
    return failing_tests(assignment, reference_notebook(assignment, mistake.source), skip)


def checks_of(assignment: Any) -> Any:
    """The students' self-check module of ``assignment`` (its ``check`` and ``HINTS``)."""
    return importlib.import_module(f"nnlab.{assignment.name}.checks")


def checked(assignment: Any, function: str, namespace: dict) -> tuple[bool, str]:
    """(what ``check(function)`` returns, what it prints) in the notebook ``namespace``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        passed = checks_of(assignment).check(function, namespace)
    return passed, out.getvalue()


def hints_in(assignment: Any, out: str) -> tuple[str, ...]:
    """The keys of ``assignment``'s HINTS whose text ``out`` holds (whitespace squeezed:
    check() wraps its lines)."""
    hints, text = checks_of(assignment).HINTS, squeezed(out)
    return tuple(key for key, hint in hints.items() if squeezed(hint) in text)
