"""What grading produces, declared once: row and test statuses, and the result records.

A result is stored as JSON (``OUT/results/...``) and passed around as a plain dict, so
these are ``StrEnum`` values (equal to their strings) and ``TypedDict`` shapes: the CSV,
feedback pages, the gradebook, the docs' tables and the tests all take their statuses
from here.
"""

import enum
import typing
from collections.abc import Iterable


class RowStatus(enum.StrEnum):
    """A submission's status: one per row of grades.csv (the first that applies, in
    ``ROW_STATUS_ORDER`` for a graded notebook)."""

    OK = "ok"
    INVALID_NOTEBOOK = "invalid_notebook"        # not a readable notebook
    GRADER_ERROR = "grader_error"                # the grader failed: never the student's fault
    MISSING_CELLS = "missing_cells"              # a function a test needs is not defined
    MEMORY_LIMIT = "memory_limit"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"                  # student code ended its process
    MISSING_NOTEBOOK = "missing_notebook"        # no notebook in the folder
    UNKNOWN_ASSIGNMENT = "unknown_assignment"    # a folder that is not one of the course's
    UNEXPECTED_NOTEBOOK = "unexpected_notebook"  # another notebook beside the assignment's


class TestStatus(enum.StrEnum):
    """One graded test's status."""

    __test__ = False  # not a pytest test class

    PASSED = "passed"
    FAILED = "failed"                  # the test's checks did not hold
    ERROR = "error"                    # the student's code raised
    NOT_IMPLEMENTED = "not_implemented"
    MISSING_FUNCTION = "missing_function"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"
    MEMORY_LIMIT = "memory_limit"
    GRADER_ERROR = "grader_error"
    NOT_RUN = "not_run"


class GradescopeStatus(enum.StrEnum):
    """A test's status in Gradescope's ``results.json`` (Gradescope's own two words)."""

    PASSED = "passed"
    FAILED = "failed"


# Row statuses of a graded notebook, most important first: a row shows the first that applies.
ROW_STATUS_ORDER = (RowStatus.INVALID_NOTEBOOK, RowStatus.GRADER_ERROR, RowStatus.MISSING_CELLS,
                    RowStatus.MEMORY_LIMIT, RowStatus.TIMEOUT, RowStatus.KERNEL_DIED, RowStatus.OK)
# The row status a test's status raises the row to (tests not listed leave it ``ok``).
TEST_STATUS_TO_ROW: dict[str, RowStatus] = {
    TestStatus.GRADER_ERROR: RowStatus.GRADER_ERROR,
    TestStatus.MISSING_FUNCTION: RowStatus.MISSING_CELLS,
    TestStatus.MEMORY_LIMIT: RowStatus.MEMORY_LIMIT,
    TestStatus.TIMEOUT: RowStatus.TIMEOUT,
    TestStatus.KERNEL_DIED: RowStatus.KERNEL_DIED}
# Test statuses whose message is about the student's own code, not the test's internals.
OWN_ERROR_STATUSES = frozenset({TestStatus.ERROR, TestStatus.NOT_IMPLEMENTED,
                                TestStatus.MISSING_FUNCTION, TestStatus.TIMEOUT,
                                TestStatus.KERNEL_DIED, TestStatus.MEMORY_LIMIT,
                                TestStatus.NOT_RUN})


def row_status(test_statuses: Iterable[str]) -> RowStatus:
    """The row status of a graded notebook from its tests' statuses."""
    raised = {TEST_STATUS_TO_ROW.get(status) for status in test_statuses}
    return next(s for s in ROW_STATUS_ORDER if s in raised or s == RowStatus.OK)


# A result or test record as the modules pass it around (a plain dict, as saved in JSON).
Record = dict[str, typing.Any]


class TestRecord(typing.TypedDict, total=False):
    """One test's outcome (``result["tests"]``).

    ``grade_id``, ``points`` (earned), ``max_points``, ``hidden``, ``summary`` (what it
    checks), ``status`` (a TestStatus), ``message`` (for the instructor; students see
    ``feedback.public_message``), ``where`` (type and line of the student's exception),
    ``public`` (a hidden test's message reveals nothing hidden), ``hint`` (check()'s hint),
    ``output`` (what the student's code printed during the test), ``detail`` (a hidden
    test's failure message that is not public: for the instructor, never shown to students).

    A hidden test's record holds nothing the student's code chose (``hidden_record.hidden_record``):
    a fixed ``message`` per status (or its ``PublicFailure`` text), ``where`` only a built-in
    exception type's name, no ``output``.
    """

    __test__ = False  # type: ignore[misc]  # for pytest, not a key

    grade_id: str
    points: float
    max_points: float
    hidden: bool
    summary: str
    status: str
    message: str
    where: str
    public: bool
    hint: str
    output: str
    detail: str


class Result(typing.TypedDict, total=False):
    """One row's result, as saved in ``OUT/results/<student>/<assignment>/<notebook>.json``.

    Identity: ``student_id``, ``assignment``, ``notebook``, ``path``, ``key`` (reuse key).
    Grade: ``status`` (a RowStatus), ``message``, ``tests`` (TestRecord list), ``score``,
    ``max_score``, ``written`` (TA grades, ``manual.WrittenGrade.to_dict``), ``total``,
    ``total_max``. Run: ``isolation``, ``cells`` (per notebook cell), ``cells_not_kept``,
    ``missing_answer_cells``, ``restarts``, ``seconds``, ``graded_as``, ``reused``,
    ``gradebook``, ``feedback_error``, ``write_errors``.
    """

    student_id: str
    assignment: str
    notebook: str
    status: str
    message: str
    tests: list[TestRecord]
    score: float
    max_score: float
    total: float
    total_max: float
