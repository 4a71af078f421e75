"""An assignment's two notebook entry points, ``check`` and ``run_test``, from its Table.

Every assignment's checks module does ``check, run_test = entry_points(TABLE)``: the same
behaviour everywhere, written once.
"""

import functools

from nnlab import testing
from nnlab.checking.engine import caller_globals, run_check
from nnlab.checking.hints import hint_for


def entry_points(table):
    """(check, run_test) for the assignment described by ``table`` (``engine.Table``)."""

    def check(name=None, namespace=None):
        """Check one of your functions (or all of them) and print a verdict with hints.

        Inputs:
        - name: the function's name as a string (the function itself works too); None
          checks every function of the assignment in the notebook's order
        - namespace: where to look the functions up; default: the globals of the caller
          (in a notebook, the notebook's functions)

        Returns:
        - True when every check passed, False otherwise (failed, not implemented yet, not
          defined, or not checkable yet because a function it relies on fails). A
          function is judged on its own work: one built on another of yours passes when
          it uses it rightly, with a note when that one fails its own check
        """
        return run_check(table, name, caller_globals() if namespace is None else namespace)

    def run_test(test, namespace):
        """Run one of the notebook's tests on the functions in ``namespace``; print a verdict.

        Inputs:
        - test: a test function taking a student object (a notebook test cell's)
        - namespace: usually ``globals()`` of the notebook

        Returns:
        - None when the test passes ("passed: <name>" is printed). A failed test raises
          ``nnlab.testing.TestFailed`` with its message and the hint check() gives for
          that function; an error of the student's code keeps its traceback, with the hint
          as a note (see ``nnlab.testing.run_test``)
        """
        testing.run_test(test, namespace, hint=functools.partial(hint_for, table))

    return check, run_test
