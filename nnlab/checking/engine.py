"""The check engine: runs an assignment's checkers on the student's functions, prints verdicts.

An assignment describes its checks with a ``Table`` and its ``check(name)`` calls
``run_check(TABLE, name, namespace)``. A checker is ``checker(run, function)``::

    def check_relu(run, relu):
        with run.check("relu(handout 5x3 table)"):         # one check: passes unless it raises
            result = as_numbers(run.call(relu, x.copy()))  # student code runs through run.call
            if not is_close(result, expected):
                raise Failure(worst_entry(result, expected), ("relu_values",))

``run.call`` turns the student's exceptions into failures (with the hints for that
exception), NotImplementedError into "not implemented yet", and keeps RuntimeWarnings;
``Failure(got, hint keys)`` records what came out and the keys of the table's hints that
explain it. ``run.context`` gives the other functions (``lookup``) and whether they pass
their own check (``passes``); ``run.notes`` collects notes printed under the verdict.
"""

import contextlib
import glob
import importlib
import inspect
import io
import os
import warnings

import numpy as np

from nnlab.checking import student_code
from nnlab.checking.failures import wrap

# The hints the engine itself gives, for any function of any assignment.
ENGINE_HINTS = {
    "no_return": "your function returned None: did you forget the `return` statement?",
    "not_numbers": "return a NumPy array of floats (see the docstring for the shape), "
                   "not a list of arrays, a string or a dict.",
    "name_error": "your code uses a name that is not defined: run the cells above it "
                  "(imports, the functions it calls), check the spelling, and use the "
                  "function's arguments rather than variables of other cells.",
    "type_error": "check the call: keep the function's name, its arguments and their order "
                  "exactly as given, and return what its docstring says.",
    "exception": "read the error message and the line it points to; try your function on a "
                 "small input in a new cell and print the shapes of the arrays involved.",
    "runtime_warning": "a RuntimeWarning (overflow, division by zero or invalid value) came "
                       "up: some intermediate value was inf or NaN.",
    "unexpected_output": "the check could not make sense of what your function returned: "
                         "see its docstring for the expected type and shape.",
}
# Every table's hints hold these: the engine's, and two whose texts name the assignment's
# own arrays and keys (a shape mismatch, a missing dict key).
REQUIRED_HINTS = (*ENGINE_HINTS, "shape_error", "key_error")
ENGINE_FILES = frozenset(os.path.abspath(path) for path in
                         glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                "*.py")))


class Table:
    """One assignment's checks, as the engine needs them.

    Inputs:
    - name: the assignment, e.g. "two_layer_net"
    - functions: the student functions' names in notebook order (check() goes in this order)
    - checkers: {function name: checker(run, function)}, one for each function
    - hints: {key: text}, every hint a checker can name, REQUIRED_HINTS included (usually
      ``dict(ENGINE_HINTS, shape_error=..., key_error=..., **the assignment's)``)
    - uses: {function name: the student functions it calls}: when it fails, the ones of
      these that fail their own check get a note "fix it first"
    - generic: hint keys that name no particular mistake: after a specific hint they are
      not shown again (default: the keys ending in "_values", "exception" and
      "unexpected_output")
    - value_hints: keys of hints about wrong values, after which a RuntimeWarning that the
      student's code raised is reported too (default: the keys ending in "_values")
    - exception_hints: {function name: hints(error, shapes)}, the hint keys for an
      exception that function raised, or None for the engine's (``shapes``: a ValueError
      about shapes that do not fit)
    """

    def __init__(self, name, functions, checkers, hints, uses=None, generic=None,
                 value_hints=None, exception_hints=None):
        self.name, self.functions = name, tuple(functions)
        self.checkers, self.hints = dict(checkers), dict(hints)
        self.uses = dict(uses or {})
        values = {key for key in self.hints if key.endswith("_values")}
        self.generic = frozenset(values | {"exception", "unexpected_output"}
                                 if generic is None else generic)
        self.value_hints = frozenset(values if value_hints is None else value_hints)
        self.exception_hints = dict(exception_hints or {})
        assert self.functions and set(self.checkers) == set(self.functions), (
            f"{name}: one checker per function is needed: functions {self.functions}, "
            f"checkers {sorted(self.checkers)}")
        missing = [key for key in REQUIRED_HINTS if key not in self.hints]
        assert not missing, f"{name}: the hints lack {missing}"
        unknown = sorted((self.generic | self.value_hints) - set(self.hints))
        assert not unknown, f"{name}: generic or value hints that are not hints: {unknown}"
        called = {dependency for names in self.uses.values() for dependency in names}
        strangers = sorted((set(self.uses) | called | set(self.exception_hints))
                           - set(self.functions))
        assert not strangers, f"{name}: uses or exception_hints name {strangers}"
        # Frames of these files are the checks', not the student's (see student_code).
        self.own_files = ENGINE_FILES | {os.path.abspath(inspect.getfile(checker))
                                         for checker in self.checkers.values()}

    def hint(self, key):
        """The text of a hint key (the fallback hint for a key the table lacks)."""
        return self.hints.get(key) or self.hints["unexpected_output"]

    def __repr__(self):
        return f"Table({self.name!r}, {len(self.functions)} functions)"


class Failure(Exception):
    """A check failed: what came out, and the keys of the hints that apply."""

    def __init__(self, got, hints=("unexpected_output",)):
        super().__init__(got)
        self.got = got
        self.hints = tuple(hints)


class StudentNotImplemented(Exception):
    """A student function raised NotImplementedError; ``where`` names it."""

    def __init__(self, where):
        super().__init__(where)
        self.where = where


class Result:
    """What checking one function gave."""

    def __init__(self, name, status, passed=0, failures=(), notes=(), message=""):
        self.name = name
        self.status = status  # passed, failed, not_implemented, missing, blocked
        self.passed = passed
        self.failures = list(failures)  # (what, got, hint keys)
        self.notes = list(notes)
        self.message = message


class Context:
    """One call of check(): the table, the namespace and the results so far (each function
    checked once)."""

    def __init__(self, table, namespace):
        self.table = table
        self.namespace = namespace
        self.results = {}

    def lookup(self, name):
        function = self.namespace.get(name)
        return function if callable(function) else None

    def result(self, name):
        if name not in self.results:
            self.results[name] = Result(name, "blocked", message="it relies on itself")
            self.results[name] = self._run(name)
        return self.results[name]

    def passes(self, name):
        return self.result(name).status == "passed"

    def _run(self, name):
        function = self.lookup(name)
        if function is None:
            return Result(name, "missing",
                          message=student_code.missing_message(name, self.namespace))
        if student_code.is_stub(function):
            return Result(name, "not_implemented")
        run = Run(self, name)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the student's debug prints
                self.table.checkers[name](run, function)
        except (StudentNotImplemented, NotImplementedError) as error:
            where = error.where if isinstance(error, StudentNotImplemented) else \
                student_code.raised_in(error, self.table.functions, name)
            if where == name:  # (a stub called outside run.call: not a failure either)
                return Result(name, "not_implemented")
            return Result(name, "blocked",
                          message=f"it calls {where}, which is not implemented yet")
        except Exception as error:  # student code outside a check, or a bug of the check
            run.failures.append(("running the checks", f"stopped with {type(error).__name__}: "
                                 f"{student_code.message(error)}", ("unexpected_output",)))
        if not run.failures:
            return Result(name, "passed", run.passed, notes=run.notes)
        notes = list(run.notes)
        called = student_code.names_called(function)
        for dependency in self.table.uses.get(name, ()):
            if dependency in called and self.lookup(dependency) is not None \
                    and not self.passes(dependency):
                notes.append(f"your {name} calls {dependency}, which does not pass its own "
                             f"check: fix it first (check({dependency!r}))")
        return Result(name, "failed", run.passed, run.failures, notes)


class Run:
    """Runs the checks of one function: counts passes, collects failures."""

    def __init__(self, context, name):
        self.context = context
        self.name = name
        self.passed = 0
        self.failures = []
        self.notes = []
        self.caught = []
        self._what = None
        self._warned = []

    def check(self, what):
        """Use as ``with run.check("what is checked"):``; a Failure inside is recorded."""
        self._what = what
        self._warned = []
        return self

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if kind is None:
            self.passed += 1
            return False
        if issubclass(kind, StudentNotImplemented) or not issubclass(kind, Exception):
            return False
        if issubclass(kind, NotImplementedError):  # a stub called outside run.call
            raise StudentNotImplemented(student_code.raised_in(
                error, self.context.table.functions, self.name)) from None
        if issubclass(kind, Failure):
            got, hints = error.got, error.hints
            if self._warned and "runtime_warning" not in hints and any(
                    key in self.context.table.value_hints for key in hints):
                got += f" (RuntimeWarning: {self._warned[0].message})"
                hints += ("runtime_warning",)
            self.failures.append((self._what, got, hints))
        else:  # the student's result broke an assumption of the check itself
            self.failures.append((self._what, f"could not be checked ({kind.__name__}: "
                                  f"{error})", ("unexpected_output",)))
        return True

    def call(self, function, *args, hints=()):
        """Call a student function; its exceptions become failures, warnings are kept."""
        table = self.context.table
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", invalid="warn", divide="warn"):
                try:
                    result = function(*args)
                except NotImplementedError as error:
                    raise StudentNotImplemented(
                        student_code.raised_in(error, table.functions, self.name)) from None
                except Exception as error:  # the student's bug: report it, do not raise
                    raise Failure(
                        f"raised {type(error).__name__}: {student_code.message(error)}"
                        f"{student_code.location(error, table.own_files)}",
                        tuple(hints) + student_code.exception_hints(table, self.name, error)
                    ) from None
        self.caught = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        self._warned += self.caught
        return result


def run_check(table, name, namespace):
    """Check one function of ``table``'s assignment (or all of them) and print verdicts.

    Inputs:
    - table: the assignment's Table
    - name: a function's name (or the function itself); None checks every function in
      notebook order
    - namespace: where the student's functions are looked up (the notebook's globals)

    Returns:
    - True when every check passed, False otherwise (an unknown name prints the names
      there are, with a suggestion)
    """
    functions = table.functions
    if callable(name) and getattr(name, "__name__", None) in functions:
        name = name.__name__
    if name is None:
        names = functions
    elif name in functions:
        names = (name,)
    else:
        show([student_code.unknown_name_message(name, functions)])
        return False
    context = Context(table, namespace)
    all_passed = True
    for function_name in names:
        result = context.result(function_name)
        show(verdict(table, result))
        all_passed = all_passed and result.status == "passed"
    return all_passed


WIDTH = 88  # check() prints lines of at most this many columns (a notebook's width)


def show(lines):
    """Print ``lines``, each wrapped to WIDTH columns between words (never inside a word),
    its continuation lines indented."""
    for line in lines:
        for part in wrap(line, WIDTH):
            print(part)


def shown_failures(table, result):
    """The failures worth showing, as (what, got, hint keys to show): the first, then each
    that names a new, specific mistake (the same mistake again, or a generic hint after a
    specific one, is most likely a consequence of it)."""
    shown, seen, seen_got = [], set(), set()
    for what, got, hints in result.failures:
        new = [key for key in dict.fromkeys(hints) if key not in seen]
        if shown and (not new or got in seen_got or all(key in table.generic for key in new)):
            continue
        seen.update(new)
        seen_got.add(got)
        shown.append((what, got, new or list(hints[:1])))
    return shown


def verdict(table, result):
    """The lines check() prints for one function (``show`` wraps each to WIDTH)."""
    name = result.name
    if result.status == "passed":
        notes = "".join(f" ({note})" for note in result.notes)
        return [f"{name}: all {result.passed} checks passed{notes}"]
    if result.status == "not_implemented":
        return [f"{name}: not implemented yet (replace `raise NotImplementedError()` with "
                f"your code and run the cell)"]
    if result.status == "missing":
        return [f"{name}: {result.message}"]
    if result.status == "blocked":
        return [f"{name}: cannot be checked yet: {result.message}"]
    lines = []
    for what, got, keys in shown_failures(table, result):
        hint = " Also: ".join(table.hint(key) for key in keys)
        prefix = "FAILED" if not lines else "also FAILED"
        lines += [f"{name}: {prefix} {what}: {got}.", f"  Hint: {hint}"]
    lines += [f"{name}: note: {note}" for note in result.notes]
    return lines


def caller_globals():
    """The globals of the code that called the function calling this one: for an
    assignment's ``check()`` called in a notebook, the notebook's functions."""
    frame = inspect.currentframe()
    try:
        return frame.f_back.f_back.f_globals
    finally:
        del frame


def table_of(assignment):
    """The Table of an assignment given as a Table, as its checks module (whose ``TABLE``
    it is) or as its name ("two_layer_net": ``nnlab.two_layer_net.checks``)."""
    if isinstance(assignment, Table):
        return assignment
    if isinstance(assignment, str):
        assert assignment.isidentifier(), f"not an assignment's name: {assignment!r}"
        assignment = importlib.import_module(f"nnlab.{assignment}.checks")
    table = getattr(assignment, "TABLE", None)
    if not isinstance(table, Table):
        raise TypeError(f"{assignment!r} is not an assignment's checks (no TABLE)")
    return table
