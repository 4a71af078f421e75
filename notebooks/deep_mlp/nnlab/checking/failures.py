"""How a failed test reads in the notebook: short lines, wrapped between words, and for an
error of the student's code, the student's own frames (cell, line, code) and the exception,
not the frames of the test's helpers, NumPy or Python (``nnlab.testing.run_test`` and
``TestFailed`` use these; ``check()`` prints through ``wrap`` too)."""

import os
import sys
import sysconfig
import textwrap
import traceback
import warnings

from nnlab.testing import MissingFunction


def wrap(text, width, indent="  "):
    """``text`` as lines of at most ``width`` columns, broken between words only (never
    inside a word or at a hyphen; a word longer than a line stays whole), nothing left out.
    Each line of ``text`` is wrapped on its own; its continuation lines are indented by its
    own indentation plus ``indent``."""
    lines = []
    for paragraph in str(text).splitlines() or [""]:
        lead = paragraph[:len(paragraph) - len(paragraph.lstrip())]
        lines += textwrap.wrap(paragraph, width, subsequent_indent=lead + indent,
                               break_long_words=False, break_on_hyphens=False) or [""]
    return lines


_LIBRARIES = ()  # folders of nnlab, installed packages and Python's library (set once)


def is_library(filename):
    """True for a frame of nnlab, NumPy, an installed package or Python's own library."""
    global _LIBRARIES
    if not _LIBRARIES:
        paths = {sysconfig.get_paths().get(key) for key in ("stdlib", "platstdlib", "purelib",
                                                            "platlib")}
        paths |= {os.path.join(prefix, "lib") for prefix in (sys.prefix, sys.base_prefix)}
        paths.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # nnlab
        _LIBRARIES = tuple(os.path.abspath(path) + os.sep for path in paths if path)
    path = os.path.abspath(filename)
    return path.startswith(_LIBRARIES) or any(
        f"{os.sep}{folder}{os.sep}" in path for folder in ("site-packages", "numpy"))


def cell_name(filename):
    """'Cell In[12]' for code of a notebook cell (as IPython names it), else the file name."""
    try:
        from IPython import get_ipython
        shell = get_ipython()
        named = shell.compile.format_code_name(filename) if shell is not None else None
    except Exception:  # no IPython, or another version of it
        named = None
    return " ".join(named) if named else filename


_FRAMES_SHOWN = 3


def student_frames(error, test):
    """The frames of ``error``'s traceback in the student's code: neither the test's (its
    cell, or its module in the grader) nor nnlab's, NumPy's or Python's."""
    own = getattr(getattr(test, "__code__", None), "co_filename", None)
    return [frame for frame in traceback.extract_tb(error.__traceback__)
            if frame.filename != own and not is_library(frame.filename)]


def raised_by_student(error, test):
    """True when the innermost frame of ``error`` is the student's code."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1] in student_frames(error, test)


def error_message(error, test):
    """What went wrong while ``test`` ran, for TestFailed: which function raised what, and
    where in the student's cells (the test's helpers and NumPy's frames left out)."""
    frames = traceback.extract_tb(error.__traceback__)
    own = getattr(getattr(test, "__code__", None), "co_filename", None)
    student = student_frames(error, test)
    kind = type(error).__name__
    text = str(error).strip()
    if isinstance(error, MissingFunction):
        return text
    if isinstance(error, NotImplementedError):
        if student:
            name = student[-1].name
            via = [frame.name for frame in student[:-1] if frame.name != name]
            called = f" (your {via[-1]} calls it)" if via else ""
            return (f"{name} is not implemented yet{called}: replace `raise "
                    f"NotImplementedError()` with your code and run its cell")
        return "a function is not implemented yet (NotImplementedError)" + (
            f": {text}" if text else "")
    if student:
        lines = [f"your {student[-1].name} raised {kind}:"]
        shown = student[-_FRAMES_SHOWN:]
    else:  # the test stopped on what the student's code returned: show the test's line
        lines = [f"the test stopped with {kind} on what your code returned:"]
        shown = [frame for frame in frames if frame.filename == own][-1:]
    for frame in shown:
        lines.append(f"  {cell_name(frame.filename)}, line {frame.lineno}, in {frame.name}")
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    message = text.splitlines()
    if len(message) > 4:
        message = message[:4] + ["..."]
    lines.append(f"{kind}: " + "\n".join(message) if message else kind)
    return "\n".join(lines)


def run(test, student, hint):
    """Run ``test(student)`` for ``nnlab.testing.run_test``: print "passed: <name>", or raise
    TestFailed with the test's message (or ``error_message``), the first warning the test
    ran into, and ``hint()``'s hint. Warnings of a passing test are shown as usual."""
    from nnlab.testing import TestFailed
    failure = error = None
    with warnings.catch_warnings(record=True) as caught:  # shown after the verdict
        try:
            test(student)
        except AssertionError as raised:  # the test's check failed (or the student's assert)
            failure, error = (None, raised) if raised_by_student(raised, test) else (raised, None)
        except Exception as raised:  # the student's code raised (or a stub, or the test
            error = raised           # on what the student's code returned)
    if failure is None and error is None:
        for warning in caught:  # as they would have been shown
            warnings.showwarning(warning.message, warning.category, warning.filename,
                                 warning.lineno)
        print(f"passed: {test.__name__}")
        return
    message = str(failure) if error is None else error_message(error, test)
    if caught:  # the first warning, one line under the message (the cause of a NaN, often)
        first = caught[0]
        message += (f"\n({first.category.__name__} at {cell_name(first.filename)}, line "
                    f"{first.lineno}: {str(first.message).strip()})")
    raise TestFailed(test.__name__, message, hint(), error=error) from error
