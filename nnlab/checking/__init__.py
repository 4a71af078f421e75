"""The self-check engine every assignment shares: ``check(name)`` with a hint per mistake.

An assignment plugs in with a ``Table`` (its functions in notebook order, a checker for
each, its hint texts, which function calls which, its generic hint keys; see
``engine.Table``) and gets its notebook's ``check`` and ``run_test`` from
``entry.entry_points(TABLE)``. Its checkers are written with ``engine.Run`` (``with run.check(...)``,
``run.call``), ``Failure`` and the helpers of ``compare``.

- ``engine``: Table, Run, Failure, run_check, the verdicts, table_of;
- ``student_code``: stubs, missing functions, where an exception came from, its hints;
- ``compare``: verification helpers for checkers (as_numbers, is_close, worst_entry, ...);
- ``entry``: an assignment's ``check`` and ``run_test``, made from its Table;
- ``hints``: the hint for a failed test (``run_test`` in the notebook, the grader's
  feedback), from the same checks.
"""

from nnlab.checking.compare import (as_numbers, check_unchanged, count_changed, is_about,
                                    is_close, quiet_call, scale_of, worst_entry)
from nnlab.checking.engine import (ENGINE_HINTS, Failure, Table, caller_globals, run_check,
                                   table_of)

__all__ = ["ENGINE_HINTS", "Failure", "Table", "as_numbers", "caller_globals",
           "check_unchanged", "count_changed", "is_about", "is_close", "quiet_call",
           "run_check", "scale_of", "table_of", "worst_entry"]
