"""Helpers the course's tests are written with.

A test is a plain function ``test(student)`` that raises AssertionError (with a
message that has the numbers) when the student's code is wrong. ``student`` gives
access to the student's functions:

- ``student.softmax(x)`` calls the student's ``softmax``;
- ``student.track("softmax", x)`` returns ``(result, after)`` where ``after`` is the
  tuple of arguments as the function left them, to check for mutation.

In a notebook ``student`` wraps the notebook's globals (``LocalStudent``); the
grader gives tests an object with the same two methods that calls into a separate,
sandboxed process.
"""

import copy

import numpy as np


class MissingFunction(NameError):
    """The notebook does not define a function a test needs."""


class LocalStudent:
    """The student's functions, looked up in a namespace such as ``globals()``."""

    def __init__(self, namespace):
        self._namespace = namespace

    def __getattr__(self, name):
        function = self._namespace.get(name)
        if not callable(function):
            raise MissingFunction(
                f"`{name}` is not defined: run the cell that defines it, and keep "
                f"its name and signature exactly as given")
        return function

    def track(self, name, *args):
        """Call ``name`` on deep copies of args; return (result, args after the call)."""
        copies = copy.deepcopy(args)
        result = getattr(self, name)(*copies)
        return result, copies


def run_test(test, namespace):
    """Run one test against the functions in ``namespace``; print a verdict.

    Inputs:
    - test: a test function taking a student object
    - namespace: usually ``globals()`` of the notebook
    """
    test(LocalStudent(namespace))
    print(f"passed: {test.__name__}")


def describe(value):
    """A short description of a value for messages: type, shape, dtype."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r:.80}"


def as_float_array(value, name):
    """Check ``value`` is a real numeric array (or scalar) and return it as ndarray."""
    assert value is not None, (
        f"{name} returned None: did you forget the `return` statement?")
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    assert array.dtype.kind in "fiub", f"{name} should return numbers, got {describe(value)}"
    return array


def assert_shape(value, shape, name):
    """Assert an array has exactly ``shape``."""
    array = as_float_array(value, name)
    assert array.shape == tuple(shape), (
        f"{name} returned shape {array.shape}, expected {tuple(shape)}")
    return array


def assert_close(actual, expected, name, rtol=1e-6, atol=0.0):
    """Assert ``actual`` matches ``expected`` elementwise; name the worst entry if not."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = assert_shape(actual, expected.shape, name)
    finite = np.isfinite(actual)
    assert finite.all(), (
        f"{name} contains {np.size(actual) - finite.sum()} NaN or infinite value(s), "
        f"first at index {tuple(int(i) for i in np.argwhere(~finite)[0])}")
    error = np.abs(actual.astype(np.float64) - expected)
    tolerance = atol + rtol * np.abs(expected)
    if (error <= tolerance).all():
        return
    worst = np.unravel_index(np.argmax(error - tolerance), error.shape) if error.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
    raise AssertionError(
        f"{name} is off{where}: got {float(actual[worst]):.8g}, expected "
        f"{float(expected[worst]):.8g} (|difference| {float(error[worst]):.3g}, "
        f"{int((error > tolerance).sum())} of {error.size} entries outside rtol={rtol:g})")


def assert_unchanged(before, after, name):
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
    assert changed == 0, (
        f"{name} was modified in place ({changed} entries changed), by your function or by "
        f"one it calls; compute new arrays instead of writing into an argument "
        f"(e.g. np.maximum(x, 0) rather than x[x < 0] = 0, P - T rather than P -= T)")


def numerical_gradient(f, x, h=1e-5):
    """Centred finite differences of a scalar function f at x (float64).

    Inputs:
    - f: function of one array returning a float
    - x: float64 array; it is perturbed in place and restored

    Returns:
    - array of x's shape: (f(x + h e_i) - f(x - h e_i)) / (2 h) for every entry i
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        upper = f(x)
        x[index] = saved - h
        lower = f(x)
        x[index] = saved
        grad[index] = (upper - lower) / (2 * h)
    return grad


def relative_error(analytic, numeric):
    """||a - n|| / max(||a|| + ||n||, 1e-12); GRADIENT_THRESHOLD is the pass mark.

    In float64 with centred differences a correct gradient gives about 1e-8 or less;
    a wrong one usually gives 1e-2 or more.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    denominator = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12)
    return float(np.linalg.norm(analytic - numeric) / denominator)


GRADIENT_THRESHOLD = 1e-6


def assert_gradient(analytic, numeric, name, threshold=GRADIENT_THRESHOLD, worst=3):
    """Assert an analytic gradient matches finite differences (relative error)."""
    analytic = assert_shape(analytic, numeric.shape, f"the gradient {name}")
    error = relative_error(analytic, numeric)
    if error < threshold:
        return
    diff = np.abs(analytic.astype(np.float64) - numeric).ravel()
    rows = []
    for flat in np.argsort(diff)[::-1][:worst]:
        index = tuple(int(i) for i in np.unravel_index(flat, numeric.shape))
        rows.append(f"{name}{list(index)}: yours {float(analytic.ravel()[flat]):.6g}, "
                    f"finite differences {float(numeric.ravel()[flat]):.6g}")
    raise AssertionError(
        f"gradient {name} fails the finite-difference check: relative error "
        f"{error:.2e} (must be < {threshold:.0e}). Worst entries: " + "; ".join(rows))
