"""Grading a function on its own work when a function it calls breaks: stand-ins.

A caller (forward, backprop, mlp_forward, ...) runs the student's own helpers (compute_layer,
relu, affine_forward, ...). When a helper raises, returns a value of the wrong shape or
modifies its input, the caller's code cannot run past it: its tests would fail for the
helper's mistake. ``call_on_own_work`` probes each helper first (on inputs of its own, one
call each); the helpers that break are then *stood in* while the caller runs: the name is
bound, in the caller's namespace and for that call only, to the formula the notebook states
for it (``STAND_IN``, see ``nnlab.recording.CallRecorder``). The helper loses points in its
own tests; the caller is graded on what it makes of its helpers.

Each assignment that has callers lists its stand-ins in its ``composition`` module:
``STAND_INS = {name: (formula, probe)}``, ``formula(*args)`` the notebook's formula and
``probe(rng)`` the arguments of one probing call (distinct sizes, so that a transposed or
mis-broadcast result shows, and holding the special points the caller's tests reach, such
as a residual exactly 0 at the kink of |r|, so that a helper giving NaN only there is stood
in too). No solution code beyond those formulas.
"""

import copy
import importlib
import pkgutil
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

if TYPE_CHECKING:  # (nnlab.testing imports this module, through nnlab.recording)
    from nnlab.testing import Student

STAND_IN = "stand_in"  # the keep value of CallRecorder's watch that stands a name in


def _table() -> dict[str, tuple[Callable[..., Any], Callable[..., tuple]]]:
    """{name: (formula, probe)} of every assignment's ``composition.STAND_INS`` here."""
    import nnlab
    table: dict[str, tuple[Callable[..., Any], Callable[..., tuple]]] = {}
    for module in pkgutil.iter_modules(nnlab.__path__):
        if not module.ispkg:
            continue
        try:
            composition = importlib.import_module(f"nnlab.{module.name}.composition")
        except ImportError:  # an assignment without a composition module
            continue
        table.update(getattr(composition, "STAND_INS", {}))
    return table


def stand_in(name: str) -> Callable[..., Any] | None:
    """The notebook's formula for ``name`` (from an assignment's ``composition.STAND_INS``),
    or None."""
    return _table().get(name, (None, None))[0]


def _shapes(value: object) -> tuple:
    """The nested structure of shapes of a value (arrays, tuples, lists and dicts of them)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(key), _shapes(item)) for key, item in value.items())))
    if isinstance(value, (tuple, list)):
        return ("sequence", tuple(_shapes(item) for item in value))
    try:
        array = np.asarray(value)
    except Exception:  # the student's object: not an array
        return ("other",)
    return ("array", array.shape) if array.dtype.kind in "fiub" else ("other",)


def _finite(value: object) -> bool:
    """No NaN or inf in the arrays of a value (whose shapes are the formula's)."""
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, (tuple, list)):
        return all(_finite(item) for item in value)
    return bool(np.isfinite(np.asarray(value, dtype=np.float64)).all())


def _unchanged(before: object, after: object) -> bool:
    if isinstance(before, dict):
        return isinstance(after, dict) and set(before) == set(after) and all(
            _unchanged(before[key], after[key]) for key in before)
    try:
        return bool(np.array_equal(np.asarray(before), np.asarray(after)))
    except Exception:  # not comparable: changed
        return False


def broken_helpers(student: "Student", names: Iterable[str],
                   rng: np.random.Generator | None = None) -> list[str]:
    """The helpers among ``names`` that raise, return a value whose shapes differ from the
    formula's or that holds NaN or inf, or modify their input, on one probing call each (the
    student object of a test: notebook or grader)."""
    rng = np.random.default_rng(4049) if rng is None else rng
    table, broken = _table(), []
    for name in names:
        formula, probe = table[name]
        args = probe(rng)
        tracked = student.attempt(name, *args, after=True)
        if tracked is None or _shapes(tracked[0]) != _shapes(formula(*args)) \
                or not _finite(tracked[0]) \
                or not all(_unchanged(a, b) for a, b in zip(args, tracked[1])):
            broken.append(name)
    return broken


def call_on_own_work(student: "Student", name: str, *args: Any, helpers: Iterable[str] = (),
                     watch: dict[str, object] | None = None, **kwargs: Any) -> Any:
    """``name(*args)`` for a test, with the helpers (among ``helpers``) that break stood in.

    The call runs first as it is, counting its calls of ``helpers``; only the helpers it
    called (all of them, if it raised) are probed (``broken_helpers``), so a helper the
    caller does not use is never run for it. If one of them breaks, the call runs again
    with it stood in; if none does, the first call's result (or its exception) stands.

    Inputs:
    - student: the test's student object
    - name, args, kwargs: the caller and its arguments (before a rerun with stand-ins, the
      arrays, dicts and lists among them are put back as they were before the first call)
    - helpers: the student functions ``name`` calls that have stand-ins
    - watch: optional ``record`` watch (e.g. {"sgd_momentum_step": "all"}): then
      ``(result, recording)`` is returned, as ``student.record`` does

    Returns:
    - the result (or ``(result, recording)`` with ``watch``)
    """
    helpers, watched = tuple(helpers), dict(watch or {})
    pristine = copy.deepcopy((args, kwargs)) if helpers else (args, kwargs)
    error: Exception | None = None
    try:
        result, recording, used = _first_run(student, name, args, kwargs, helpers, watched)
    except Exception as raised:  # the student's code raised: perhaps in a broken helper
        error, used = raised, helpers
    broken = broken_helpers(student, used)
    if not broken:
        if error is not None:
            raise error
        return (result, recording) if watch is not None else result
    for given, saved in zip((*args, *kwargs.values()), (*pristine[0], *pristine[1].values())):
        _restore(given, saved)  # (the first call may have changed them)
    result, recording = student.record(
        dict(watch or {}, **{helper: STAND_IN for helper in broken}), name, *args, **kwargs)
    return (result, recording) if watch is not None else result


def track_on_own_work(student: "Student", name: str, *args: Any, helpers: Iterable[str] = (),
                      **kwargs: Any) -> tuple[Any, tuple | None]:
    """``(name(*args), its arguments after the call)`` as ``student.track`` gives them; when
    one of the helpers it calls breaks (see ``call_on_own_work``), the call runs with it
    stood in and the arguments after the call are not known: ``(result, None)``."""
    helpers = tuple(helpers)
    error: Exception | None = None
    try:
        used = _first_run(student, name, *copy.deepcopy((args, kwargs)), helpers, {})[2]
    except Exception as raised:  # the student's code raised: perhaps in a broken helper
        error, used = raised, helpers
    if broken_helpers(student, used):
        return call_on_own_work(student, name, *args, helpers=helpers, **kwargs), None
    if error is not None:
        raise error  # (its own: not called again)
    return student.track(name, *args, **kwargs)


def _first_run(student: "Student", name: str, args: tuple, kwargs: dict[str, Any],
               helpers: tuple[str, ...], watch: dict[str, object]
               ) -> tuple[Any, dict[str, Any], tuple[str, ...]]:
    """``name(*args, **kwargs)`` as it is (the test's own arguments, as a call without
    stand-ins gets them), with ``watch`` recorded and its calls of ``helpers`` counted:
    (result, the recording of ``watch`` alone, the helpers it called). Raises what the
    student's code raised."""
    counting: dict[str, object] = {helper: 1 for helper in helpers}  # (1: the last call kept)
    counting.update(watch)
    result, recording = student.record(counting, name, *args, **kwargs)
    used = tuple(helper for helper in helpers if recording["counts"].get(helper, 0) > 0)
    own = dict(recording, calls=[call for call in recording["calls"] if call["name"] in watch],
               counts={key: count for key, count in recording["counts"].items()
                       if key in watch})
    return result, own, used


def _restore(given: Any, saved: Any) -> None:
    """Put an argument (an array, dict or list) back in place as ``saved``, its copy."""
    if isinstance(given, np.ndarray) and isinstance(saved, np.ndarray) \
            and given.shape == saved.shape and given.flags.writeable:
        given[...] = saved
    elif isinstance(given, dict) and isinstance(saved, dict):
        given.clear()
        given.update(saved)
    elif isinstance(given, list) and isinstance(saved, list):
        given[:] = saved
