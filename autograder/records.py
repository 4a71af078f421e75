"""What grading produces, declared once: row and test statuses, and the result records.

A result is stored as JSON (``OUT/results/...``) and passed between stages as a plain
dict, so the statuses are ``StrEnum`` values (equal to their strings) and the dict shapes
``TypedDict``s: the CSV, feedback pages, the gradebook, the docs' tables and the tests all
take their statuses from here. ``SubmissionResult`` and ``TestResult`` are the same
records typed (``from_json``/``to_json``), with the totals as properties computed by
``score_of`` and ``total_of``, which grading uses too; reading a saved result goes
through them, so a file of another shape is refused with a reason.
"""

import dataclasses
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
    ``feedback_results.public_message``), ``where`` (type and line of the student's exception),
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


def score_of(points: Iterable[float]) -> float:
    """A row's autograded score: its tests' points, summed (rounded, so that sums of
    fractions compare equal wherever they are made)."""
    return round(sum(points), 6)


def total_of(score: float, written_scores: Iterable[float | None]) -> float:
    """A row's total: its autograded score plus the TAs' grades (ungraded: 0)."""
    return round(score + sum(s or 0.0 for s in written_scores), 6)


def _number(data: typing.Mapping[str, object], key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key!r} is not a number: {value!r}"[:200])
    return float(value)


def _text(data: typing.Mapping[str, object], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{key!r} is not text: {value!r}"[:200])
    return value


@dataclasses.dataclass(frozen=True)
class TestResult:
    """One graded test's outcome, typed; ``to_json`` gives its ``TestRecord`` form.

    ``status`` is a ``TestStatus``; ``points`` what it earned of ``max_points``;
    ``hidden``, ``summary``, ``message``: None when the record has not the key;
    ``extra``: the record's other keys (``where``, ``public``, ``hint``, ``output``,
    ``detail``), kept as they are.
    """

    __test__ = False  # for pytest: not a test class

    grade_id: str
    status: TestStatus
    points: float
    max_points: float
    hidden: bool | None = None
    summary: str | None = None
    message: str | None = None
    extra: typing.Mapping[str, object] = dataclasses.field(default_factory=dict)

    _KEYS: typing.ClassVar[tuple[str, ...]] = ("grade_id", "points", "max_points", "hidden",
                                               "summary", "status", "message")

    @property
    def passed(self) -> bool:
        """True when the test passed."""
        return self.status == TestStatus.PASSED

    @classmethod
    def from_json(cls, data: object) -> "TestResult":
        """The test of a ``TestRecord`` dict; ValueError when it has not that shape."""
        if not isinstance(data, dict):
            raise ValueError(f"a test record is not an object: {type(data).__name__}")
        try:
            status = TestStatus(_text(data, "status"))
        except ValueError as exc:
            raise ValueError(f"a test record's status is not a test status: {exc}") from None
        return cls(_text(data, "grade_id"), status, _number(data, "points"),
                   _number(data, "max_points") if "max_points" in data else 0.0,
                   None if "hidden" not in data else bool(data["hidden"]),
                   _optional_text(data, "summary"),
                   _optional_text(data, "message"),
                   {k: v for k, v in data.items() if k not in cls._KEYS})

    def to_json(self) -> Record:
        """The ``TestRecord`` dict of this test (as saved in a result's JSON)."""
        made: Record = {"grade_id": self.grade_id, "points": self.points,
                        "max_points": self.max_points, "status": self.status}
        made.update({k: v for k, v in (("hidden", self.hidden), ("summary", self.summary),
                                       ("message", self.message)) if v is not None})
        return {**made, **self.extra}


@dataclasses.dataclass(frozen=True)
class SubmissionResult:
    """One row's result, typed; ``to_json`` gives its ``Result`` form (the saved JSON).

    ``status`` is a ``RowStatus``; ``tests`` its ``TestResult`` list; ``max_score`` the
    assignment's autograded points; ``message`` None when the record has none; ``written`` the TAs' grades of its written answers
    (``WrittenGrade.to_dict`` dicts, None before they are added); ``extra``: identity and
    run keys (``student_id``, ``assignment``, ``notebook``, ``path``, ``key``,
    ``isolation``, ``cells``, ``seconds``...), kept as they are. ``score``, ``total`` and
    ``total_max`` are computed, never stored apart from what they are made of.
    """

    status: RowStatus
    tests: tuple[TestResult, ...]
    max_score: float
    message: str | None = None
    written: tuple[typing.Mapping[str, object], ...] | None = None
    extra: typing.Mapping[str, object] = dataclasses.field(default_factory=dict)

    _KEYS: typing.ClassVar[tuple[str, ...]] = ("status", "message", "tests", "score",
                                               "max_score", "written", "total", "total_max")

    @property
    def score(self) -> float:
        """Points earned in the autograded tests."""
        return score_of(t.points for t in self.tests)

    @property
    def total(self) -> float:
        """The score plus the TAs' grades of the written answers (ungraded: 0)."""
        return total_of(self.score, (_optional_number(g.get("score")) for g in self.written or ()))

    @property
    def total_max(self) -> float:
        """The autograded points plus the written answers' points."""
        return self.max_score + sum(_optional_number(g.get("points")) or 0.0
                                    for g in self.written or ())

    @classmethod
    def from_json(cls, data: object) -> "SubmissionResult":
        """The result of a ``Result`` dict (a saved JSON); ValueError when it has not that
        shape (a damaged or foreign file: the row is graded again)."""
        if not isinstance(data, dict):
            raise ValueError(f"a result is not an object: {type(data).__name__}")
        try:
            status = RowStatus(_text(data, "status"))
        except ValueError as exc:
            raise ValueError(f"a result's status is not a row status: {exc}") from None
        tests, written = data.get("tests"), data.get("written")
        if not isinstance(tests, list):
            raise ValueError("a result's tests are not a list")
        if written is not None and not (isinstance(written, list)
                                        and all(isinstance(g, dict) for g in written)):
            raise ValueError("a result's written grades are not a list of objects")
        _number(data, "score")  # stored, and must be a number, though recomputed
        return cls(status, tuple(TestResult.from_json(t) for t in tests),
                   _number(data, "max_score"), _optional_text(data, "message"),
                   None if written is None else tuple(written),
                   {k: v for k, v in data.items() if k not in cls._KEYS})

    def to_json(self) -> Record:
        """The ``Result`` dict of this row, totals included when its written grades are."""
        made: Record = {**self.extra, "status": self.status,
                        "tests": [t.to_json() for t in self.tests], "score": self.score,
                        "max_score": self.max_score}
        if self.message is not None:
            made["message"] = self.message
        if self.written is not None:
            made.update(written=[dict(g) for g in self.written], total=self.total,
                        total_max=self.total_max)
        return made


def _optional_text(data: typing.Mapping[str, object], key: str) -> str | None:
    return _text(data, key) if key in data else None


def _optional_number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
