"""Grading one submitted notebook: student code in the sandbox, tests in this process.

The grader reads the notebook as data (``autograder.submission``, ``autograder.cells``), sends
the code of its cells to the student process (``autograder.grading.runner``) and runs every graded
test of its assignment here, with a ``RemoteStudent`` (``autograder.grading.remote_student``) whose
methods call the student's functions over the wire; a hidden test's record is stripped of
what the student chose (``autograder.hidden_record``).
Test cells in the submission are never run (the registry's tests are the truth), demo
cells are skipped, and locked given cells are restored from the release.
"""

import contextlib
import hashlib
import json
import shutil
import tempfile
import os
import time
from typing import TYPE_CHECKING, Any
from pathlib import Path

from autograder import config, hidden
from autograder.cells import answer_cells_present, code_cells, release_notebook
from autograder.graded import GradedTest
from autograder.grading import hints
from autograder.grading.remote_student import RemoteStudent, StudentCodeError, UNREADABLE, UnreadableReply
from autograder.grading.runner import GraderError, StudentDied, StudentOutOfMemory, StudentProcess, StudentTimeout
from autograder.hidden_record import hidden_record
from autograder.records import Record, RowStatus, TestStatus, row_status, score_of
from autograder.sandbox.launch import Limits, isolation_mode
from autograder.submission import check_path, copy_submission_files, read_notebook

if TYPE_CHECKING:
    from autograder.course import Assignment
from nnlab.testing import MissingFunction, PublicFailure, hiding_values


def suite_fingerprint() -> str:
    """Hash of everything that decides a grade: tests, reference, worker, helpers."""
    digest = hashlib.sha256()
    for folder in ("autograder", "solutions", "nnlab"):
        for path in sorted((config.ROOT / folder).rglob("*.py")):
            digest.update(path.relative_to(config.ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def empty_tests(assignment: "Assignment | None", status: TestStatus, message: str) -> list[Record]:
    """A record per test of ``assignment`` (none when it is None), all ``status``."""
    return [{"grade_id": test.grade_id, "points": 0.0, "max_points": test.points,
             "hidden": test.hidden, "summary": test.summary, "status": status,
             "message": message} for test in (assignment.tests if assignment else ())]


def grade_notebook(path: str | os.PathLike[str], assignment: "Assignment",
                   limits: Limits = Limits(), isolation: str = "auto", release_path: str | os.PathLike[str] | None = None,
                   timing: dict[str, Any] | None = None) -> Record:
    """Grade one notebook file of ``assignment`` (``autograder.course.Assignment``);
    returns a JSON-ready dict (no row identity fields).

    ``isolation``: "auto" (bubblewrap when it works here), "bubblewrap" or "rlimits".
    ``timing``: a dict to fill with wall seconds per phase, for benchmarks: "start" (the
    student process, until ready), "cells", "tests" ({grade_id: seconds, without the
    start and cells a test triggered}) and "close"; the result is the same without it.

    Every visible test runs before any hidden one (records come back in the registry's
    order). Hidden tests draw their inputs from the course secret and this notebook's bytes
    (``autograder.hidden``), and their records keep nothing the student's code chose
    (``hidden_record``). The cells' records are those made before the first hidden test.
    """
    started = time.monotonic()
    isolation = isolation_mode(isolation)
    release = release_notebook(release_path or assignment.release_notebook)
    try:
        notebook = read_notebook(path)
        present = answer_cells_present(notebook)
    except (ValueError, OSError, AttributeError, TypeError) as exc:
        return refused(assignment, isolation, exc, started)
    result: Record = {"isolation": isolation, "cells": {}, "missing_answer_cells": []}
    expected_answers = {f"answer_{assignment.target_of(test)}" for test in assignment.tests}
    result["missing_answer_cells"] = sorted(expected_answers - present)
    try:
        cells = code_cells(notebook, release)
    except (AttributeError, TypeError, KeyError) as exc:
        result.update(status=RowStatus.INVALID_NOTEBOOK, message=f"the notebook's cells are malformed ({exc})",
                      tests=empty_tests(assignment, TestStatus.NOT_RUN,
                                        "not run: the notebook's cells are malformed"))
        return finish(result, started, assignment)
    try:
        submission_hash = hidden.content_hash(check_path(path).read_bytes())
        secret = hidden.ensure_secret()
    except (OSError, ValueError) as exc:  # the course secret: the grader's problem
        result.update(status=RowStatus.GRADER_ERROR, message=f"no hidden inputs: {exc}",
                      tests=empty_tests(assignment, TestStatus.GRADER_ERROR,
                                        f"not run: the course secret could not be read ({exc})"))
        return finish(result, started, assignment)
    scratch = Path(tempfile.mkdtemp(prefix="grade-")) / "scratch"
    process = StudentProcess(cells, scratch, limits, isolation)
    timing = {} if timing is None else timing
    records = {}
    try:
        scratch.mkdir()
        copy_submission_files(Path(path).parent, scratch, Path(path).name)
        # Every visible test before any hidden one: nothing a hidden test sends into the
        # student process can come back out through a visible test's message.
        for test in assignment.tests:
            if not test.hidden:
                records[test.grade_id] = _timed_test(timing, test, process, limits, started,
                                                     assignment)
        # The cells' records as they were before any hidden input entered the process (a
        # restart during a hidden test runs the cells again, in a process that may have
        # left files behind: what they print or how they fail is not shown).
        with contextlib.suppress(StudentTimeout, StudentDied, GraderError):
            if any(test.hidden for test in assignment.tests):
                process.ensure_started()
        cell_results, not_kept = dict(process.cell_results), dict(process.not_kept)
        with hidden.submission(submission_hash, secret):
            for test in assignment.tests:
                if test.hidden:
                    records[test.grade_id] = _timed_test(timing, test, process, limits,
                                                         started, assignment)
        result["tests"] = [records[test.grade_id] for test in assignment.tests]  # registry order
    finally:
        closing = time.perf_counter()
        process.close()
        shutil.rmtree(scratch.parent, ignore_errors=True)
        timing.update(process.seconds, close=time.perf_counter() - closing)
    result["cells"] = {str(k): v for k, v in sorted(cell_results.items())}
    result["cells_not_kept"] = {"ok": sum(not_kept.values()),
                                "failed": sum(not ok for ok in not_kept.values())}
    result["restarts"] = max(0, process.starts - 1)
    result["status"] = row_status(t["status"] for t in result["tests"])
    return finish(result, started, assignment)


def _timed_test(timing: dict[str, Any], test: GradedTest, process: StudentProcess, limits: Limits,
                started: float, assignment: "Assignment") -> Record:
    """``run_one``; its seconds, less the start and cells it set off, go to timing["tests"]."""
    before, setup = time.perf_counter(), sum(process.seconds.values())
    record = run_one(test, process, limits, started, assignment)
    spent = time.perf_counter() - before - (sum(process.seconds.values()) - setup)
    timing.setdefault("tests", {})[test.grade_id] = spent
    return record


def refused(assignment: "Assignment", isolation: str, reason: object,
            started: float | None = None) -> Record:
    """The result of a notebook that cannot be read (``reason``: why, an exception or text)."""
    result = {"isolation": isolation, "cells": {}, "missing_answer_cells": [],
              "status": RowStatus.INVALID_NOTEBOOK, "message": str(reason),
              "tests": empty_tests(assignment, TestStatus.NOT_RUN, f"not run: {reason}")}
    return finish(result, time.monotonic() if started is None else started, assignment)


def finish(result: Record, started: float, assignment: "Assignment | None") -> Record:
    result["score"] = score_of(t["points"] for t in result["tests"])
    result["max_score"] = assignment.max_score if assignment else 0.0
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


# A student exception's kind (from the worker) -> the test's status; any other: ERROR.
_KIND_STATUS: dict[str | None, TestStatus] = {"memory": TestStatus.MEMORY_LIMIT,
                                              "not_implemented": TestStatus.NOT_IMPLEMENTED}


def run_one(test: GradedTest, process: StudentProcess, limits: Limits, started: float,
            assignment: "Assignment") -> Record:
    """Run one test of ``assignment``; never raises. Returns its record."""
    record: Record = {"grade_id": test.grade_id, "points": 0.0, "max_points": test.points,
              "hidden": test.hidden, "summary": test.summary}
    if time.monotonic() - started > limits.notebook_seconds:
        return dict(record, status=TestStatus.TIMEOUT,
                    message=f"not run: the notebook used up its {limits.notebook_seconds:g} s")
    student = RemoteStudent(process, limits.call_seconds if test.timeout is None else test.timeout)
    try:
        # a hidden test: per-run inputs, and helper messages without the student's values
        with hidden.test(test.grade_id), \
                (hiding_values() if test.hidden else contextlib.nullcontext()):
            test.function(student)
    except UnreadableReply as exc:  # its text names a type: a hidden test says less
        record.update(status=TestStatus.FAILED, message=str(exc), public=False)
        if test.hidden:
            record.update(message=f"{exc.function}: {UNREADABLE}", public=True)
    except AssertionError as exc:  # PublicFailure: a hidden test may show its message
        record.update(status=TestStatus.FAILED, message=str(exc), public=isinstance(exc, PublicFailure))
    except MissingFunction as exc:
        record.update(status=TestStatus.MISSING_FUNCTION, message=str(exc))
    except StudentCodeError as exc:
        status = _KIND_STATUS.get(exc.kind, TestStatus.ERROR)
        message = str(exc)
        if status == TestStatus.NOT_IMPLEMENTED:
            message = (f"`{assignment.target_of(test)}` (or a function it calls) still raises "
                       f"NotImplementedError: replace the stub with your code")
        elif status == TestStatus.MEMORY_LIMIT:
            message = f"your code ran out of memory (limit {limits.memory_bytes >> 20} MiB): {exc}"
        record.update(status=status, message=message, where=exc.where)
    except StudentTimeout as exc:
        record.update(status=TestStatus.TIMEOUT, message=f"your code did not finish: {exc}")
    except StudentOutOfMemory as exc:  # a subclass of StudentDied: before it
        record.update(status=TestStatus.MEMORY_LIMIT, message=f"your code ran out of memory: {exc}")
    except StudentDied as exc:
        record.update(status=TestStatus.KERNEL_DIED, message=f"your code ended the Python process: {exc}")
    except GraderError as exc:  # not the student's doing: flagged for the instructor
        record.update(status=TestStatus.GRADER_ERROR, message=str(exc))
    except Exception as exc:  # the student's return value broke the test's own code
        record.update(status=TestStatus.FAILED, message=(
            f"the test could not use what your function returned "
            f"({type(exc).__name__}: {str(exc)[:300]})"))
    else:
        record.update(status=TestStatus.PASSED, points=test.points, message="passed")
    if record["status"] in (TestStatus.FAILED, TestStatus.ERROR):  # check()'s hint for that function's mistake
        try:
            found = hints.hint(assignment.name, assignment.target_of(test), process,
                                   student._timeout, started + limits.notebook_seconds)
        except Exception:  # a hint is a bonus: a failure to make one costs the row nothing
            found = ""
        if found:
            record["hint"] = found  # shown for hidden tests too (see feedback_results.public_message)
            if not test.hidden:
                record["message"] += "\n" + found
    if student.output:
        record["output"] = "".join(student.output)[:5000]
    return hidden_record(record, test.source()) if test.hidden else record


def to_json(result: Record) -> str:
    return json.dumps(result, indent=1, sort_keys=True, default=str)
