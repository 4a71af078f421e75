"""Small verification helpers for checkers (none of them is a student function).

They compare what the student's code gave with what was expected and raise ``Failure``
with hint keys, or describe the difference for a verdict. The comparison itself is
``nnlab.testing.matches``, shared with the graded tests' helpers.
"""

import warnings

import numpy as np

from nnlab.checking.engine import Failure
from nnlab.testing import describe, matches


def as_numbers(value, allow_bool=False):
    """``value`` as an ndarray of numbers, else a Failure saying what it is."""
    if value is None:
        raise Failure("returned None", ("no_return",))
    try:
        array = np.asarray(value)
    except Exception:  # ragged lists and the like
        raise Failure(f"returned {describe(value)}", ("not_numbers",)) from None
    if array.dtype.kind not in ("fiub" if allow_bool else "fiu"):
        raise Failure(f"returned {describe(value)}", ("not_numbers",))
    return array


def is_close(actual, expected, rtol=1e-6, atol=1e-12):
    """True if ``actual`` is finite numbers of ``expected``'s shape, within the tolerance."""
    return matches(actual, expected, rtol, atol, finite=True)


def worst_entry(actual, expected):
    """'entry (i, j) is a, expected e (n of m entries off)' for the worst entry."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return f"shape {actual.shape}, expected {expected.shape}"
    if actual.ndim == 0:
        return f"got {float(actual):.8g}, expected {float(expected):.8g}"
    with np.errstate(invalid="ignore"):
        difference = np.where(np.isfinite(actual), np.abs(actual - expected), np.inf)
    index = np.unravel_index(np.argmax(difference), difference.shape)
    where = tuple(int(i) for i in index)
    where = where[0] if len(where) == 1 else where
    bad = int((difference > 1e-6 * np.abs(expected) + 1e-12).sum())
    return (f"entry {where} is {actual[index]:.8g}, expected {expected[index]:.8g} "
            f"({bad} of {actual.size} entries off)")


def count_changed(before, after):
    """How many entries changed between two arrays (or dicts of arrays); 0 if none.

    NaN where NaN was counts as unchanged; a value that cannot be read counts as changed.
    """
    if isinstance(before, dict):
        if not isinstance(after, dict):
            return 1
        return sum(count_changed(before[key], after.get(key)) for key in before)
    try:
        before, after = np.asarray(before), np.asarray(after)
    except Exception:  # ragged lists and the like
        return 1
    if before.shape != after.shape:
        return max(before.size, 1)
    return int(np.sum(~((before == after) | (np.isnan(before) & np.isnan(after)))))


def check_unchanged(names, before, after, hint):
    """A Failure naming the first argument that a call modified."""
    for name, old, new in zip(names, before, after):
        count = count_changed(old, new)
        if count:
            raise Failure(f"{name} was changed in place ({count} entries)", (hint,))


def scale_of(analytic, numeric):
    """s with analytic == s * numeric (to 1e-5 relative), or None."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape or not np.isfinite(analytic).all():
        return None
    norm = float(np.sum(numeric * numeric))
    if norm == 0.0:
        return None
    s = float(np.sum(analytic * numeric)) / norm
    residual = np.linalg.norm(analytic - s * numeric)
    if residual > 1e-5 * max(np.linalg.norm(analytic), 1e-300):
        return None
    return s


def is_about(value, target):
    """True if ``value`` (None for no value) is ``target`` to 1e-4 relative."""
    return value is not None and abs(value - target) <= 1e-4 * abs(target)


def quiet_call(function, *args):
    """Call a student function for a diagnosis: its result, or None if it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return function(*args)
    except Exception:  # a diagnosis only: the failure itself is reported already
        return None
