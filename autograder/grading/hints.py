"""Hints for failed tests: check()'s diagnosis of a student function, run through the sandbox.

When a test of function f fails, the grader runs the check that ``check(f)`` runs in the
assignment's notebook (``nnlab.<assignment>.checks``, through ``nnlab.checking.hints``),
with stand-ins that call the student's functions in their process: the feedback then gives
the same hint the notebook would. check() uses only its own inputs (it ships with the
release), so a hint reveals nothing of a hidden test.

Cost is bounded: at most one diagnosis per function per submission (kept per student
process), each under DIAGNOSIS_SECONDS, all of a submission's under DIAGNOSIS_TOTAL, never
past the notebook's deadline, and every call under the test's time limit and what is left of
that budget. A timeout, crash or grader problem during a diagnosis ends it without a hint
and is never charged to the student (the test keeps its own status).
"""

import builtins
import time
import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.grading.remote_student import RemoteStudent, StudentCodeError
from nnlab.checking import table_of
from nnlab.checking.hints import hint_text

DIAGNOSIS_SECONDS = 30.0   # one function's diagnosis
DIAGNOSIS_TOTAL = 60.0     # all diagnoses of one submission
# student process -> {"hints": {name: text}, "spent": s}
_STATE: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


class _Abort(BaseException):
    """Ends a diagnosis (check() catches Exception, never this)."""


class RemoteFunction:
    """A student function called in the student's process, for an assignment's check().

    It raises what the student's code raised (rebuilt from its type name and text), writes
    the arguments back as the student's function left them (check() looks for changes made
    in place), and offers ``record`` for check's train, which cannot watch another
    process's calls.
    Anything that is not the student's exception (timeout, crash, grader problem) or a
    call past the deadline ends the diagnosis.
    """

    def __init__(self, process: Any, name: str, timeout: float, deadline: float) -> None:
        self._process, self.__name__ = process, name
        self._timeout, self._deadline = timeout, deadline

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result, after = self._run(lambda student: student.track(self.__name__, *args, **kwargs))
        for local, remote in zip(args, after if isinstance(after, tuple) else ()):
            _write_back(local, remote)
        return result

    def record(self, watch: Any, *args: Any, **kwargs: Any) -> Any:
        result = self._run(lambda student: student.record(watch, self.__name__, *args, **kwargs))
        self(*args, **kwargs)  # again, tracked: a recording does not say what it left of args
        return result

    def _run(self, call: Callable[[RemoteStudent], Any]) -> Any:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise _Abort()
        try:  # a student of its own: its prints stay out of the test's record
            return call(RemoteStudent(self._process, min(self._timeout, left)))
        except StudentCodeError as exc:
            raise rebuilt(exc) from None
        except Exception as exc:  # timeout, crash, missing function, unreadable reply, grader
            raise _Abort() from exc


def _write_back(local: object, remote: object) -> None:
    """Make ``local`` (an argument) what the student's function left of it: ``remote``."""
    if isinstance(local, np.ndarray):
        if isinstance(remote, np.ndarray) and remote.shape == local.shape \
                and remote.dtype.kind in "biuf" and local.flags.writeable:
            local[...] = remote
    elif isinstance(local, dict) and isinstance(remote, dict):
        for key in [key for key in local if key not in remote]:
            del local[key]
        for key, value in remote.items():
            if isinstance(local.get(key), np.ndarray) and np.shape(value) == local[key].shape:
                _write_back(local[key], value)
            else:
                local[key] = value
    elif isinstance(local, list) and isinstance(remote, list):
        local[:] = remote


def rebuilt(exc: StudentCodeError) -> Exception:
    """The student's exception, as check() needs it: its type (by name) and its text."""
    if exc.kind == "not_implemented":
        return NotImplementedError()
    if exc.kind != "error":
        raise _Abort()
    name = exc.where.split(" ", 1)[0]
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
    text = text.split(": ", 1)[1] if text.startswith(name + ":") else text
    kind = getattr(builtins, name, None)
    if name == "AxisError":
        kind = (np.exceptions.AxisError if hasattr(np, "exceptions")
                else np.AxisError)  # type: ignore[attr-defined]  # NumPy < 1.25
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        kind = type(name if name.isidentifier() else "Exception", (Exception,), {})
    try:
        error = kind(text)
    except TypeError:  # an exception type whose constructor takes other arguments
        error = type(name, (Exception,), {})(text)
    where = exc.where.split(" at ", 1)
    error.nnlab_location = f" (at {where[1]})" if len(where) == 2 else ""
    return error


def hint(assignment: str | types.ModuleType | Any, name: str, process: Any, timeout: float,
         not_after: float) -> str:
    """check(name)'s hint for the student in ``process`` (once per process), or "".

    Inputs:
    - assignment: the assignment's name (its checks are ``nnlab.<assignment>.checks``;
      an assignment without them gets no hints), or its checks module or Table
    - name: the student function whose test failed
    - process: the student's process (autograder.grading.runner.StudentProcess or a stand-in)
    - timeout: seconds per call (the failed test's)
    - not_after: time.monotonic() past which nothing runs (the notebook's deadline)
    """
    try:
        table = table_of(assignment)
    except ModuleNotFoundError as exc:  # an assignment without self-checks
        if exc.name not in (f"nnlab.{assignment}", f"nnlab.{assignment}.checks"):
            raise
        return ""
    state = _STATE.setdefault(process, {"hints": {}, "spent": 0.0})
    if name in state["hints"]:
        return state["hints"][name]
    state["hints"][name] = ""  # also when the diagnosis ends early: never tried twice
    started = time.monotonic()
    deadline = min(started + DIAGNOSIS_SECONDS, started + DIAGNOSIS_TOTAL - state["spent"],
                   not_after)
    namespace = {function: RemoteFunction(process, function, timeout, deadline)
                 for function in table.functions}
    try:
        state["hints"][name] = hint_text(table, name, namespace)
    except (_Abort, Exception):  # ended early, or a bug of the check: no hint, no charge
        pass
    finally:
        state["spent"] += time.monotonic() - started
    return state["hints"][name]
