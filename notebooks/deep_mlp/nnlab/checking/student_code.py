"""What the check engine reads of the student's code: stubs, the names a function uses,
missing or renamed functions, and where an exception came from and which hint it calls for.
"""

import ast
import difflib
import inspect
import os
import textwrap
import traceback

from nnlab.testing import describe


def is_stub(function):
    """True if the function's body is only `raise NotImplementedError` (the release's stub)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except Exception:  # no source (e.g. made with exec): judge by the names it uses
        code = getattr(function, "__code__", None)
        return code is not None and code.co_names == ("NotImplementedError",)
    if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = [node for node in tree.body[0].body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def names_called(function):
    """Global names a function's code refers to (nested functions included)."""
    names, stack = set(), [getattr(function, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        names.update(code.co_names)
        stack.extend(const for const in code.co_consts if inspect.iscode(const))
    return names


def missing_message(name, namespace):
    """Why ``name`` cannot be checked: not a function, or not defined (renamed?)."""
    found = [key for key, value in namespace.items()
             if callable(value) and not key.startswith("_")]
    squash = {key.lower().replace("_", ""): key for key in found}
    close = [squash[name.lower().replace("_", "")]] if name.lower().replace("_", "") in squash \
        else difflib.get_close_matches(name, found, n=1, cutoff=0.7)
    renamed = (f" There is a function `{close[0]}`: did you rename it? Keep the name "
               f"`{name}` exactly as given." if close else "")
    if name in namespace:
        return f"not a function (`{name}` holds {describe(namespace[name])})."
    return (f"not defined: run the cell that defines `{name}` (keep its name and arguments "
            f"as given).{renamed}")


def unknown_name_message(name, functions):
    """What check(name) prints for a name that is not one of the assignment's functions."""
    close = difflib.get_close_matches(str(name), functions, n=1)
    suggestion = f" Did you mean {close[0]!r}?" if close else ""
    return (f"check: there is no function {name!r} in this assignment.{suggestion} "
            f"Choose one of: {', '.join(functions)} (or call check() for all).")


def message(error):
    """The first line of an exception's text (at most 200 characters)."""
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "(no message)"


def _student_frames(error, own_files):
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        path = os.path.abspath(frame.filename)
        if path in own_files or f"{os.sep}numpy{os.sep}" in path or "site-packages" in path:
            continue
        frames.append(frame)
    return frames


def location(error, own_files):
    """" (in f, line n: `code`)" for the innermost frame of the student's code that raised
    ``error`` (frames of ``own_files``, NumPy and installed packages are skipped), or ""."""
    shown = getattr(error, "nnlab_location", None)  # raised in another process (the grader's)
    if isinstance(shown, str):
        return shown
    frames = _student_frames(error, own_files)
    if not frames:
        return ""
    frame = frames[-1]
    line = f": `{frame.line.strip()}`" if frame.line else ""
    return f" (in {frame.name}, line {frame.lineno}{line})"


def raised_in(error, functions, default):
    """The innermost of ``functions`` in the traceback of ``error``, else ``default``."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.name in functions:
            return frame.name
    return default


def exception_hints(table, name, error):
    """The hint keys for an exception that the student's ``name`` raised: the table's own
    for that function first, then the engine's by the kind of exception."""
    text = str(error)
    shapes = isinstance(error, ValueError) and (
        "broadcast" in text or "matmul" in text or "shapes" in text
        or "aligned" in text or "dimension" in text)
    own = table.exception_hints.get(name)
    found = own(error, shapes) if own else None
    if found:
        return tuple(found)
    if shapes:
        return ("shape_error",)
    if isinstance(error, KeyError):
        return ("key_error",)
    if isinstance(error, NameError):
        return ("name_error",)
    if isinstance(error, TypeError):
        return ("type_error",)
    return ("exception",)
