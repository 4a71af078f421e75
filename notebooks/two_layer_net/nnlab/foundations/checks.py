"""Self-checks for the foundations notebook, with a hint for each common mistake.

In the notebook, once a function is written, run for example::

    from nnlab.foundations.checks import check
    check("graph_backward")   # one function
    check()                   # every function of the assignment

``check`` finds your functions in the notebook's globals and runs quick checks that need
no reference solution: the notebook's worked values, properties (each row of a softmax
Jacobian sums to 0, the subgradient is 0 at a perfect fit), finite differences of your
own functions, and that no argument is modified. It prints one verdict per function;
when a check fails it says what was checked, what came out and, for the mistakes
students often make, which mistake it is. Passing is a good sign, not a guarantee: the
graded tests use other inputs as well.

The checks run on the engine of ``nnlab.check`` (``_Context``, ``_Run``, ``_Failure``,
``_NotImplemented``, ``_Result`` and a few helpers).
Until that engine can dispatch to an assignment's own checkers, this module is a small
local runner over this assignment's tables: FUNCTION_NAMES, CHECKERS, HINTS, USES and
GENERIC (see ``check`` and ``_Context``).
"""

import contextlib
import difflib
import inspect
import io
import traceback

from nnlab import check as engine
from nnlab.foundations import check_calculus, check_graph, check_sizes, check_universal

FUNCTION_NAMES = ("graph_forward", "graph_backward", "count_parameters", "conv_output_size",
                  "softmax_jacobian", "l1_loss", "l1_subgradient", "fit_l1", "box_network",
                  "staircase_network")

# Student functions that a function usually calls: when it fails, a failing one of these
# is pointed out ("fix that first").
USES = {
    "graph_backward": ("graph_forward",),
    "fit_l1": ("l1_loss", "l1_subgradient"),
    "staircase_network": ("box_network",),
}

CHECKERS = dict(check_graph.CHECKERS, **check_sizes.CHECKERS, **check_calculus.CHECKERS,
                **check_universal.CHECKERS)

# Hints about any function: the engine's, except the two whose text is about the
# two-layer network's arrays.
COMMON_HINTS = {key: engine.HINTS[key] for key in (
    "no_return", "not_numbers", "name_error", "type_error", "exception", "runtime_warning",
    "unexpected_output")}
COMMON_HINTS.update({
    "shape_error": "the shapes of two arrays in that line do not fit together: print their "
                   ".shape. Conventions: X (N, D), y (N,), w (D,); a batch of softmax "
                   "outputs is (N, K); the step networks' W1 (1, H), b1 (H,), W2 (H, 1), "
                   "b2 (1,).",
    "key_error": "a dict key is missing or misspelt: the graph uses 'x0', 'w0', 'b0', 'w1', "
                 "'b1' and the cache 'p0', 's0', 'x1', 'p1', 's1', 'y', 'z'; the networks "
                 "'W1', 'b1', 'W2', 'b2' (case matters).",
})

HINTS = dict(COMMON_HINTS, **check_graph.HINTS, **check_sizes.HINTS, **check_calculus.HINTS,
             **check_universal.HINTS)

# Hints that name no particular mistake: after a specific one, they are not repeated.
GENERIC = {key for key in HINTS if key.endswith("_values")} | {
    "exception", "unexpected_output", "graph_backward_fd"}
_GENERIC = GENERIC  # the name nnlab.check and nnlab.hints use for theirs


def check(name=None, namespace=None):
    """Check one of your functions (or all of them) and print a verdict with hints.

    Inputs:
    - name: the function's name as a string, e.g. "graph_backward" (the function itself
      works too); None checks every function of the assignment in the notebook's order
    - namespace: where to look the functions up; default: the globals of the caller
      (in a notebook, the notebook's functions)

    Returns:
    - True when every check passed, False otherwise (failed, not implemented yet, not
      defined, or not checkable yet because a function it relies on fails)
    """
    if namespace is None:
        frame = inspect.currentframe()
        try:
            namespace = frame.f_back.f_globals
        finally:
            del frame
    if callable(name) and getattr(name, "__name__", None) in FUNCTION_NAMES:
        name = name.__name__
    if name is None:
        names = FUNCTION_NAMES
    elif name in FUNCTION_NAMES:
        names = (name,)
    else:
        close = difflib.get_close_matches(str(name), FUNCTION_NAMES, n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        print(f"check: there is no function {name!r} in this assignment.{suggestion} "
              f"Choose one of: {', '.join(FUNCTION_NAMES)} (or call check() for all).")
        return False
    context = _Context(namespace)
    all_passed = True
    for function_name in names:
        result = context.result(function_name)
        for line in _verdict(result):
            print(line)
        all_passed = all_passed and result.status == "passed"
    return all_passed


class _Context(engine._Context):
    """The engine's context (each function's result computed once, ``passes``) with this
    assignment's checkers, dependencies and function names."""

    def _run(self, name):
        function = self.lookup(name)
        if function is None:
            return engine._Result(name, "missing",
                                  message=engine._missing_message(name, self.namespace))
        if engine._is_stub(function):
            return engine._Result(name, "not_implemented")
        run = engine._Run(self, name)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the student's debug prints
                CHECKERS[name](run, function)
        except engine._NotImplemented as error:
            where = _raised_in(error.__context__, name)
            if where == name:
                return engine._Result(name, "not_implemented")
            return engine._Result(name, "blocked",
                                  message=f"it calls {where}, which is not implemented yet")
        except Exception as error:  # student code outside a check, or a bug of the check
            run.failures.append(("running the checks", f"stopped with "
                                 f"{type(error).__name__}: {engine._message(error)}",
                                 ("unexpected_output",)))
        if not run.failures:
            return engine._Result(name, "passed", run.passed, notes=run.notes)
        notes = list(run.notes)
        called = engine._names_called(function)
        for dependency in USES.get(name, ()):
            if dependency in called and self.lookup(dependency) is not None \
                    and not self.passes(dependency):
                notes.append(f"your {name} calls {dependency}, which does not pass its own "
                             f"check: fix it first (check({dependency!r}))")
        return engine._Result(name, "failed", run.passed, run.failures, notes)


def _raised_in(error, default):
    """The innermost function of this assignment in the traceback of ``error``."""
    if error is None:
        return default
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.name in FUNCTION_NAMES:
            return frame.name
    return default


def _verdict(result):
    """The lines printed for one function (the engine's format, this module's hints)."""
    name = result.name
    if result.status == "passed":
        return [f"{name}: all {result.passed} checks passed"
                + "".join(f" ({note})" for note in result.notes)]
    if result.status == "not_implemented":
        return [f"{name}: not implemented yet (replace `raise NotImplementedError()` with "
                f"your code and run the cell)"]
    if result.status in ("missing", "blocked"):
        prefix = "" if result.status == "missing" else "cannot be checked yet: "
        return [f"{name}: {prefix}{result.message}"]
    lines, seen, seen_got = [], set(), set()
    for what, got, hints in result.failures:
        new = [key for key in dict.fromkeys(hints) if key not in seen]
        if lines and (not new or got in seen_got or all(key in GENERIC for key in new)):
            continue  # the same mistake again, or most likely a consequence of it
        seen.update(new)
        seen_got.add(got)
        hint = " Also: ".join(_hint(key) for key in new) if new else _hint(hints[0])
        prefix = "FAILED" if not lines else "also FAILED"
        lines.append(f"{name}: {prefix} {what}: {got}. Hint: {hint}")
    lines += [f"{name}: note: {note}" for note in result.notes]
    return lines


def _hint(key):
    """This assignment's text for a hint key, else the engine's (a key added there later)."""
    return HINTS.get(key) or engine.HINTS.get(key) or HINTS["unexpected_output"]
