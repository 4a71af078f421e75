"""What happens to one submission, wherever it is graded (a local pool process, a Dask
worker, Gradescope's container): grade it under the guard (``grade_guarded``: the raw
result, which is all a grading process returns). Then, on the process that publishes
(``executor.run``, the service), complete its record (identity, the TAs' written grades,
total) and render its feedback page (``complete``), and write both under OUT
(``write_outputs``; ``save_result`` does the three).
"""

import contextlib
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from autograder import course
from autograder.discovery import Submission, notebook_role
from autograder.grading import written_grades as manual
from autograder.grading.notebook_grader import empty_tests, finish, grade_notebook, refused, to_json
from autograder.outputs import feedback, visibility
from autograder.outputs.storage import feedback_path, result_path, write_atomic
from autograder.records import Record, RowStatus, TestStatus
from autograder.sandbox.launch import Limits
from autograder.submission import check_path
from autograder.text import clean_text, display_name

if TYPE_CHECKING:
    from autograder.grading.written_grades import WrittenGrade

GUARD_MARGIN = 120.0  # seconds past the notebook limit before the grader gives up on itself
RENDER_SECONDS = 60.0  # to make one feedback page; past it, a page of scores only


class GuardTimeout(BaseException):
    """Grading one submission overran its notebook limit plus GUARD_MARGIN (a grader bug).

    A BaseException, so that the ``except Exception`` around each test cannot swallow it.
    """


class RenderTimeout(BaseException):
    """Making one feedback page took longer than RENDER_SECONDS."""


@contextlib.contextmanager
def time_limit(seconds: float, error: Callable[[str], BaseException]) -> Iterator[None]:
    """Raise ``error`` in this block after ``seconds`` (SIGALRM; main thread only, where
    pool processes run their tasks; elsewhere, e.g. in a test's thread, no limit applies)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> NoReturn:
        raise error(f"over its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def grade_guarded(item: Submission, limits: Limits, isolation: str,
                  execute: bool = True) -> Record:
    """Grade ``item`` (a ``discovery.Submission``); never raises for anything one
    submission can cause: a grader bug or hang costs this row a grader_error status.
    Without ``execute``, only what is settled before student code would run (no
    notebook, an unknown assignment or notebook, a path the grader refuses)."""
    # Last line of defence against a hang in the grader itself: every wait on the student
    # has its own deadline, but one stuck submission must never stall a class's batch.
    try:
        with time_limit(limits.notebook_seconds + GUARD_MARGIN, GuardTimeout):
            return _grade(item, limits, isolation, execute)
    except (Exception, GuardTimeout):  # a grader bug costs one row a clear status, not the batch
        return grader_error(item, clean_text(traceback.format_exc(limit=5)))


def _grade(item: Submission, limits: Limits, isolation: str, execute: bool) -> Record:
    student, name, notebook, path = item
    assignment = course.current().get(name)
    where = f"{display_name(student)}/{display_name(name)}/"
    if assignment is None:
        return not_graded(RowStatus.UNKNOWN_ASSIGNMENT, f"'{display_name(name)}' is not an assignment "
                          f"of this course ({', '.join(course.current().names)})",
                          "not run: unknown assignment", None)
    if path is None:
        return not_graded(RowStatus.MISSING_NOTEBOOK, f"no {display_name(notebook)}.ipynb in {where}",
                          "not run: no notebook submitted", assignment)
    if notebook_role(assignment, path) == "unexpected":
        return not_graded(RowStatus.UNEXPECTED_NOTEBOOK, f"{display_name(path.name)} is not graded: "
                          f"this assignment's notebook is {assignment.notebook}.ipynb",
                          "not run: not the assignment's notebook", assignment)
    if execute:
        result = grade_notebook(path, assignment, limits, isolation)
    else:
        result = _refusal(path, assignment, isolation)
    if notebook != assignment.notebook:
        result["graded_as"] = assignment.notebook
        note = f"graded as {assignment.notebook}.ipynb: it is the only notebook in {where}"
        result["message"] = f"{note}; {result['message']}" if result.get("message") else note
    return result


def _refusal(path: Path, assignment: course.Assignment, isolation: str) -> Record:
    """What grading ``path`` gives when the grader refuses to read it; else a grader_error
    (it was readable after all: it changed while being checked)."""
    try:
        check_path(path)
    except (OSError, ValueError) as exc:
        return refused(assignment, isolation, exc)
    return not_graded(RowStatus.GRADER_ERROR, "the notebook changed while it was being sent to "
                      "be graded: rerun to grade it", "not run: the notebook changed", assignment)


def grader_error(item: Submission, message: str,
                 test_message: str = "not run: the grader failed") -> Record:
    """The result of ``item`` when the grader, not the student, failed on it."""
    return not_graded(RowStatus.GRADER_ERROR, message, test_message,
                      course.current().get(item.assignment))


def not_graded(status: RowStatus, message: str, test_message: str,
               assignment: course.Assignment | None) -> Record:
    """A result whose tests did not run (``assignment`` None: an unknown assignment)."""
    return finish({"status": status, "message": message,
                   "tests": empty_tests(assignment, TestStatus.NOT_RUN, test_message)},
                  time.monotonic(), assignment)


def complete(item: Submission, key: str, result: Record, written: Sequence["WrittenGrade"],
             withhold: bool) -> str:
    """Add the row's identity, the TAs' grades of its written answers (``written``, from
    ``autograder.grading.written_grades``) and its total to ``result``; return its feedback page (hidden
    tests' results left out when ``withhold``), made from the notebook at ``item.path``. A
    page that cannot be made in RENDER_SECONDS, or at all, becomes a page of scores only."""
    student, assignment, _, path = item
    result.update(student_id=student, assignment=assignment, notebook=item.notebook,
                  path=str(path) if path else None, key=key)
    for stale in ("feedback_error", "write_errors"):  # from an earlier save of this result
        result.pop(stale, None)
    manual.add_totals(result, written)
    try:
        with time_limit(RENDER_SECONDS, RenderTimeout):
            return feedback.render(student, assignment, result, path,
                                   course.current().get(assignment), withhold_hidden=withhold)
    except (Exception, RenderTimeout) as exc:  # the row and its JSON must survive its page
        result["feedback_error"] = clean_text(f"{type(exc).__name__}: {exc}")[:500]
        return feedback.minimal_page(student, assignment, result, withhold_hidden=withhold)


def write_outputs(out: str | Path, item: Submission, result: Record, page: str) -> Record:
    """Write the feedback page and the JSON of a completed ``result`` under ``out``; a
    file that cannot be written (a full disk, a name too long) is noted in the result's
    ``write_errors``, never raised. Returns ``result``."""
    result.pop("write_errors", None)
    for target, text in ((feedback_path(out, item), lambda: page),
                         (result_path(out, item), lambda: to_json(result))):
        try:
            write_atomic(target, text())
        except (OSError, ValueError) as exc:
            result.setdefault("write_errors", []).append(
                clean_text(f"{display_name(Path(target).name)}: {exc}")[:300])
    return result


def save_result(out: str | Path, item: Submission, key: str, result: Record,
                written: Sequence["WrittenGrade"] = ()) -> Record:
    """``complete`` then ``write_outputs``, hidden results withheld as OUT/release.json says."""
    page = complete(item, key, result, written, not visibility.hidden_released(out))
    return write_outputs(out, item, result, page)
