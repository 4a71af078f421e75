"""Helpers the course's tests are written with.

A test is a plain function ``test(student)`` that raises AssertionError (with a
message that has the numbers) when the student's code is wrong. ``student`` gives
access to the student's functions:

- ``student.softmax(x)`` calls the student's ``softmax``;
- ``student.track("softmax", x)`` returns ``(result, after)`` where ``after`` is the
  tuple of arguments as the function left them, to check for mutation;
- ``student.attempt("softmax", x)`` returns the result, or None when the function raised
  (for a second opinion after a failure: is a value what the student's own softmax gives?);
- ``student.record({"sgd_momentum_step": "all"}, "train", X, Y, ...)`` calls ``train``
  and returns ``(result, recording)``: the calls ``train`` made to the notebook's
  ``sgd_momentum_step``, with copies of their arguments and results (see ``CallRecorder``).

In a notebook ``student`` wraps the notebook's globals (``LocalStudent``); the
grader gives tests an object with the same methods that calls into a separate,
sandboxed process.

A hidden test's failure message is not shown to the student unless the test raises
``PublicFailure`` (``assert_public``, or ``assert_close(..., hide_values=True)``): use it
only for messages that reveal none of the test's inputs or expected values, and nothing of
the student's value either (no shape, count, index or number computed from it: the
student's code chooses those, and could write the test's inputs into them). The grader runs
hidden tests inside ``hiding_values()``, where the helpers below leave all of these out.
"""

import contextlib
import contextvars
import copy
import reprlib
from collections.abc import Iterator
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

# numerical_gradient and relative_error live in nnlab.finite_differences; tests import them here
from nnlab.finite_differences import numerical_gradient as numerical_gradient
from nnlab.finite_differences import relative_error as relative_error
from nnlab.recording import CallRecorder


class MissingFunction(NameError):
    """The notebook does not define a function a test needs."""


class PublicFailure(AssertionError):
    """A failure whose message reveals no hidden input or expected value.

    A hidden test that raises it shows the student its message (other failures of a
    hidden test show only what the test checks).
    """


_HIDING = contextvars.ContextVar("nnlab_hiding_values", default=False)


@contextlib.contextmanager
def hiding_values() -> Iterator[None]:
    """While inside (the grader, during a hidden test), the helpers' messages name what
    is wrong but leave out everything taken from the value checked: its shape, how many
    entries are off or changed, where, the relative error. ``hide_values`` is then on for
    ``assert_close`` and ``assert_gradient`` wherever their message is public."""
    token = _HIDING.set(True)
    try:
        yield
    finally:
        _HIDING.reset(token)


def hiding() -> bool:
    """True inside ``hiding_values()``."""
    return _HIDING.get()


def assert_public(condition: object, message: str) -> None:
    """``assert condition, message`` whose message the student may see even in a hidden test."""
    if not condition:
        raise PublicFailure(message)


class Student(Protocol):
    """What a test's ``student`` offers: ``LocalStudent`` in a notebook, an object with the
    same methods that calls into the student's process in the grader (see above)."""

    def __getattr__(self, name: str) -> Callable[..., Any]: ...

    def track(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]: ...

    def attempt(self, name: str, *args: Any, after: bool = False) -> Any: ...

    def record(self, watch: Mapping[str, object], name: str, *args: Any,
               **kwargs: Any) -> tuple[Any, dict[str, Any]]: ...


class LocalStudent:
    """The student's functions, looked up in a namespace such as ``globals()``."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> Callable[..., Any]:
        function = self._namespace.get(name)
        if not callable(function):
            raise MissingFunction(
                f"`{name}` is not defined: run the cell that defines it, and keep "
                f"its name and signature exactly as given")
        return function

    def track(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, tuple[Any, ...]]:
        """Call ``name`` on deep copies of the arguments; return (result, positional args after)."""
        copies, settings = copy.deepcopy(args), copy.deepcopy(kwargs)
        result = getattr(self, name)(*copies, **settings)
        return result, copies

    def attempt(self, name: str, *args: Any, after: bool = False) -> Any:
        """``name(*args)`` on copies of args, or None when the function is missing or raises.

        With ``after``: ``(result, args after the call)`` (as ``track``), or None.
        """
        function = self._namespace.get(name)
        if not callable(function):
            return None
        copies = copy.deepcopy(args)
        try:
            result = function(*copies)
        except Exception:  # the student's error: that function's own tests report it
            return None
        return (result, copies) if after else result

    def record(self, watch: Mapping[str, object], name: str, *args: Any,
               **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Call ``name`` and record the calls it makes to the functions in ``watch``.

        Inputs:
        - watch: {function name: "all" or n}, keep all its calls or the last n
        - name, args, kwargs: the function to call and its arguments

        Returns:
        - (result, recording): recording is {"calls": [{"name", "index", "args",
          "kwargs", "result"}, ...] in the order the calls returned, "counts": {name:
          number of calls}, "truncated": True when calls were left out for lack of room}

        The names are looked up where the function looks them up (its module's
        globals: the notebook's for notebook code).
        """
        function = getattr(self, name)
        scope = getattr(function, "__globals__", None)
        recorder = CallRecorder(scope if isinstance(scope, dict) else self._namespace,
                                {"record": dict(watch)})
        with recorder:
            result = function(*args, **kwargs)
        return result, recorder.recording()


def run_test(test: Callable[[Any], object], namespace: dict[str, Any],
             hint: Callable[[str, dict[str, Any]], str] | None = None) -> None:
    """Run one test against the functions in ``namespace``; print a verdict.

    Inputs:
    - test: a test function taking a student object
    - namespace: usually ``globals()`` of the notebook
    - hint: optional ``hint(test_name, namespace)`` giving the hint for a failed test ("" for
      none). Each assignment's ``run_test`` (e.g. ``nnlab.two_layer_net.checks.run_test``)
      passes its check()'s hints; without it, a failure has no hint

    A failed test raises TestFailed, shown as a few short lines without a traceback: what
    came out and what was expected, or where the student's code raised what (its own cells
    only, see ``nnlab.checking.failures``), then the hint.
    """
    from nnlab.checking.failures import run
    run(test, LocalStudent(namespace), lambda: hint(test.__name__, namespace) if hint else "")


class TestFailed(AssertionError):
    """A failed test: its name, its message and check()'s hint, shown as a few short lines
    (IPython shows ``lines()``, not a traceback); ``error``: what the student's code raised."""

    WIDTH = 80  # nbgrader validate cuts lines at 87 characters (4 of them its indent)
    __test__ = False  # not a pytest test class

    def __init__(self, name: str, message: str, hint: str = "",
                 error: BaseException | None = None) -> None:
        super().__init__(f"{name}: {message}" + (f"\n{hint}" if hint else ""))
        self.name, self.message, self.hint, self.error = name, message, hint, error

    def lines(self) -> list[str]:
        """FAILED and the name, the message and the whole hint in lines of at most WIDTH
        columns, broken between words."""
        from nnlab.checking.failures import wrap
        lines = [f"FAILED {self.name}"]
        for part in (self.message, self.hint):
            if part:
                lines += wrap(part, self.WIDTH)
        return lines

    def _render_traceback_(self) -> list[str]:
        """What IPython (the notebook, nbgrader validate) shows instead of a traceback."""
        return self.lines()


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = 4


def describe(value: object) -> str:
    """A short description of a value for messages: type, shape, dtype.

    Cheap for any value: a list of a million items is not turned into text in full.
    """
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {_SHORT.repr(value)}"


def matches(actual: object, expected: object, rtol: float = 1e-6, atol: float = 1e-12,
            finite: bool = False) -> bool:
    """True if ``actual`` is numbers of ``expected``'s shape, each within ``atol + rtol *
    |expected|`` of it (``np.allclose``); with ``finite``, also no NaN or inf in ``actual``.

    The one comparison behind ``nnlab.two_layer_net.composition.agrees`` and the checks'
    ``nnlab.checking.is_close``. A value of another type or shape does not match; an
    ``expected`` that is not numbers may raise TypeError or ValueError.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape or actual.dtype.kind not in "fiub":
        return False
    actual = actual.astype(np.float64)
    if finite and not np.isfinite(actual).all():
        return False
    return bool(np.allclose(actual, expected, rtol=rtol, atol=atol))


def as_float_array(value: object, name: str) -> np.ndarray:
    """Check ``value`` is a real numeric array (or scalar) and return it as ndarray."""
    assert value is not None, (
        f"{name} returned None: did you forget the `return` statement?")
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    assert array.dtype.kind in "fiub", (
        f"{name} should return numbers" if hiding() else
        f"{name} should return numbers, got {describe(value)}")
    return array


def assert_shape(value: object, shape: Sequence[int], name: str) -> np.ndarray:
    """Assert an array has exactly ``shape``."""
    array = as_float_array(value, name)
    if array.shape != tuple(shape):
        raise PublicFailure(f"{name} has the wrong shape" if hiding() else
                            f"{name} returned shape {array.shape}, expected {tuple(shape)}")
    return array


def assert_params(value: object, shapes: Mapping[str, Sequence[int]],
                  name: str) -> dict[str, np.ndarray]:
    """Assert ``value`` is a dict holding an array of each given shape; return them as float64.

    Inputs:
    - value: what the student's code gave, e.g. the params returned by train
    - shapes: {key: shape}, e.g. {"W1": (784, 30), "b1": (30,), ...}
    - name: how messages call the dict, e.g. "the params returned by train"

    Returns:
    - {key: float64 array} for the keys of ``shapes`` (other keys are ignored)

    Shapes are checked before anything is computed with the arrays.
    """
    assert isinstance(value, dict), (
        f"{name} should be a dict with the keys {', '.join(shapes)}, got {describe(value)}")
    arrays = {}
    for key, shape in shapes.items():
        assert_public(key in value, f"{name} lacks the key {key!r}")
        item = value[key]
        array = item if isinstance(item, np.ndarray) else np.asarray(item)
        assert array.dtype.kind in "fiub", (
            f"{key!r} of {name} should be an array of numbers" if hiding() else
            f"{key!r} of {name} should be an array of numbers, got {describe(item)}")
        if array.shape != tuple(shape):
            raise PublicFailure(f"{key!r} of {name} has the wrong shape" if hiding() else
                                f"{key!r} of {name} has shape {array.shape}, expected "
                                f"{tuple(shape)}")
        arrays[key] = array.astype(np.float64, copy=False)
    return arrays


def recorded_arguments(call: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The arguments of a recorded call (see ``LocalStudent.record``) by parameter name.

    Inputs:
    - call: one entry of a recording's "calls"
    - names: the function's parameter names in order, e.g. ("params", "grads",
      "velocity", "lr", "momentum")

    Returns:
    - {name: value}, whether the value was passed by position or by keyword
    """
    args, kwargs = call["args"], call["kwargs"]
    bound = dict(zip(names, args))
    unknown = sorted(set(kwargs) - set(names[len(args):])) if len(args) <= len(names) \
        else [f"more than {len(names)} positional arguments"]
    bound.update((key, value) for key, value in kwargs.items() if key in names)
    missing = [key for key in names if key not in bound]
    assert_public(not unknown and not missing,
                  f"{call['name']} was called with arguments other than ({', '.join(names)})")
    return bound


def assert_close(actual: object, expected: object, name: str, rtol: float = 1e-6, atol: float = 0.0,
                 hide_values: bool = False) -> None:
    """Assert ``actual`` matches ``expected`` elementwise; name the worst entry if not.

    With ``hide_values`` (hidden tests) the message names the entry but not the numbers,
    and is a PublicFailure: the student sees it. Inside ``hiding_values()`` no message says
    where, or how many: a NaN or an off value says only that there is one (a failure
    without ``hide_values`` stays private, for the instructor).
    """
    expected = np.asarray(expected, dtype=np.float64)
    actual = assert_shape(actual, expected.shape, name)
    finite = np.isfinite(actual)
    if not finite.all():
        if hiding():
            raise PublicFailure(f"{name} contains NaN or infinite values")
        raise PublicFailure(f"{name} contains {np.size(actual) - finite.sum()} NaN or "
                            f"infinite value(s), first at index "
                            f"{tuple(int(i) for i in np.argwhere(~finite)[0])}")
    error = np.abs(actual.astype(np.float64) - expected)
    tolerance = atol + rtol * np.abs(expected)
    if (error <= tolerance).all():
        return
    if hide_values and hiding():
        raise PublicFailure(f"{name} is off (entries outside rtol={rtol:g}"
                            + (f", atol={atol:g})" if atol else ")"))
    worst = np.unravel_index(np.argmax(error - tolerance), error.shape) if error.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
    if hide_values:
        raise PublicFailure(f"{name} is off{where} ({int((error > tolerance).sum())} of "
                            f"{error.size} entries outside rtol={rtol:g})")
    raise AssertionError(
        f"{name} is off{where}: got {float(actual[worst]):.8g}, expected "
        f"{float(expected[worst]):.8g} (|difference| {float(error[worst]):.3g}, "
        f"{int((error > tolerance).sum())} of {error.size} entries outside rtol={rtol:g})")


def assert_unchanged(before: object, after: object, name: str) -> None:
    """Assert an argument (array or dict of arrays) was not modified in place."""
    if isinstance(before, dict):
        assert isinstance(after, dict) and set(after) == set(before), (
            f"your function changed the keys of its argument {name}: "
            f"{sorted(before)} became {sorted(after) if isinstance(after, dict) else after!r}")
        for key in before:
            assert_unchanged(before[key], after[key], f"{name}[{key!r}]")
        return
    before, after = np.asarray(before), np.asarray(after)
    changed = int(np.sum(before != after)) if before.shape == after.shape else before.size
    assert_public(changed == 0, (
        f"{name} was modified in place"
        + ("" if hiding() else f" ({changed} entries changed)") + ", by your function or by "
        f"one it calls; compute new arrays instead of writing into an argument "
        f"(e.g. np.maximum(x, 0) rather than x[x < 0] = 0, P - T rather than P -= T)"))


GRADIENT_THRESHOLD = 1e-6


def assert_gradient(analytic: object, numeric: np.ndarray, name: str,
                    threshold: float = GRADIENT_THRESHOLD, worst: int = 3,
                    hide_values: bool = False) -> None:
    """Assert an analytic gradient matches finite differences (relative error).

    With ``hide_values`` the message gives the relative error but no entries (PublicFailure).
    """
    analytic = assert_shape(analytic, numeric.shape, f"the gradient {name}")
    error = relative_error(analytic, numeric)
    if error < threshold:
        return
    if hide_values and hiding():
        raise PublicFailure(f"gradient {name} fails the finite-difference check: relative "
                            f"error not below {threshold:.0e}")
    if hide_values:
        raise PublicFailure(f"gradient {name} fails the finite-difference check: relative "
                            f"error {error:.2e} (must be < {threshold:.0e})")
    diff = np.abs(analytic.astype(np.float64) - numeric).ravel()
    rows = []
    for flat in np.argsort(diff)[::-1][:worst]:
        index = tuple(int(i) for i in np.unravel_index(flat, numeric.shape))
        rows.append(f"{name}{list(index)}: yours {float(analytic.ravel()[flat]):.6g}, "
                    f"finite differences {float(numeric.ravel()[flat]):.6g}")
    raise AssertionError(
        f"gradient {name} fails the finite-difference check: relative error "
        f"{error:.2e} (must be < {threshold:.0e}). Worst entries: " + "; ".join(rows))
