"""Grading one submitted notebook: student code in the sandbox, tests in this process.

The grader reads the notebook as data, sends the code of its cells to the student
process (``autograder.runner``) and runs every graded test of its assignment here,
with a ``RemoteStudent`` whose methods call the student's functions over the wire.
Test cells in the submission are never run (the registry's tests are the truth), demo
cells are skipped, and locked given cells are restored from the release.
"""

import builtins
import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from autograder import config, diagnosis, hidden
from autograder.records import RowStatus, TestStatus, row_status
from autograder.runner import GraderError, StudentDied, StudentProcess, StudentTimeout
from autograder.runner import StudentOutOfMemory
from autograder.sandbox import Limits, isolation_mode
from nnlab.testing import MissingFunction, PublicFailure, hiding_values

MAX_NOTEBOOK_BYTES = 50 << 20


class StudentCodeError(Exception):
    """The student's function raised an exception (its text is the student's own).

    ``where`` is the exception's type and the student's line that raised it, without the
    text: all a hidden test shows, since the text can carry the test's inputs.
    """

    def __init__(self, kind, message, where=""):
        super().__init__(message)
        self.kind = kind
        self.where = where or "an exception"


class UnreadableReply(AssertionError):
    """The student's function returned what cannot cross the wire (not plain data)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.function = name


UNREADABLE = "your function returned something that is not plain numbers, arrays, lists or dicts"


class RemoteStudent:
    """The interface tests use (see nnlab.testing), backed by the student process."""

    def __init__(self, process, timeout):
        self._process = process
        self._timeout = timeout
        self.output = []

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._call(name, args, kwargs, False)["result"]

    def track(self, name, *args, **kwargs):
        reply = self._call(name, args, kwargs, True)
        return reply["result"], reply["args_after"]

    def attempt(self, name, *args, after=False):
        """``name(*args)``, or None when the student's function raises, is missing or
        returns what cannot cross the wire (as ``nnlab.testing.LocalStudent.attempt``);
        with ``after``, ``(result, positional args after the call)``."""
        try:
            reply = self._call(name, args, {}, bool(after))
        except (StudentCodeError, MissingFunction, AssertionError):
            return None
        return (reply["result"], reply["args_after"]) if after else reply["result"]

    def record(self, watch, name, *args, **kwargs):
        """Call ``name`` and record its calls of the notebook's functions in ``watch``.

        ``watch`` maps a function name to "all" or n (keep its last n calls). Returns
        ``(result, recording)`` as ``nnlab.testing.LocalStudent.record`` does; the
        recording comes from the student process, so its form is checked here.
        """
        track = {"record": {str(key): keep for key, keep in dict(watch).items()}}
        reply = self._call(name, args, kwargs, track)
        recording = reply.get("recording")
        calls = recording.get("calls") if isinstance(recording, dict) else None
        counts = recording.get("counts") if isinstance(recording, dict) else None
        well_formed = isinstance(calls, list) and isinstance(counts, dict) \
            and isinstance(recording.get("truncated"), bool) \
            and all(isinstance(counts.get(key), int) for key in track["record"]) \
            and all(isinstance(call, dict) and call.get("name") in track["record"]
                    and isinstance(call.get("index"), int)
                    and isinstance(call.get("args"), tuple)
                    and isinstance(call.get("kwargs"), dict) and "result" in call
                    for call in calls)
        if not well_formed:
            raise AssertionError(f"{name}: the record of the functions it called came back "
                                 f"malformed (was the notebook's worker process modified?)")
        return reply["result"], recording

    def _call(self, name, args, kwargs, track):
        reply = self._process.call(name, args, kwargs, track, self._timeout)
        if reply.get("output"):
            self.output.append(reply["output"])
        if reply["ok"]:
            return reply
        kind, message = reply.get("kind"), reply.get("message") or ""
        if kind == "missing":
            raise MissingFunction(f"`{name}` is not defined in your notebook: was its cell "
                                  f"deleted, or the function renamed?")
        if kind == "unreadable":
            raise UnreadableReply(name, message)
        raise StudentCodeError(kind, message, reply.get("where"))


def nbgrader_meta(cell):
    """A cell's nbgrader metadata as a dict (empty when absent or malformed)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id_of(cell):
    grade_id = nbgrader_meta(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def cell_source(cell):
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return source if isinstance(source, str) else ""


def code_cells(notebook, release):
    """(index, source) of the cells to run: test cells and demos out, locked cells restored."""
    given = {grade_id_of(cell): cell.source for cell in release.cells
             if nbgrader_meta(cell).get("locked")}
    cells = []
    for index, cell in enumerate(notebook.cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        grading = nbgrader_meta(cell)
        if grading.get("grade") and not grading.get("solution"):
            continue  # a test cell: the grader runs its own copy of the test
        extra = cell.get("metadata", {}).get("nnlab") if isinstance(cell.get("metadata"), dict) else None
        if isinstance(extra, dict) and extra.get("demo"):
            continue
        source = cell_source(cell)
        if grading.get("locked") and grade_id_of(cell) in given:
            source = given[grade_id_of(cell)]
        cells.append((index, source))
    return cells


def answer_cells_present(notebook):
    return {grade_id_of(cell) for cell in notebook.cells} - {None}


def suite_fingerprint():
    """Hash of everything that decides a grade: tests, reference, worker, helpers."""
    digest = hashlib.sha256()
    for folder in ("autograder", "solutions", "nnlab"):
        for path in sorted((config.ROOT / folder).rglob("*.py")):
            digest.update(path.relative_to(config.ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def read_quietly(path):
    """A submitted notebook read with nbformat, without its warnings on stderr (a copied
    cell's duplicate id, a missing id: the student's notebook, not the grader's business)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nbformat.read(str(path), as_version=4)


def check_path(path):
    """``path`` as a Path, or raise ValueError when the grader must not read it: a link in
    ``<student>/<assignment>/<notebook>.ipynb`` (it could point at the instructor's source
    notebook or at another student's work), not a regular file, or over the size limit."""
    path = Path(path)
    if any(part.is_symlink() for part in (path, path.parent, path.parent.parent)):
        raise ValueError("the submission contains a symbolic link (the notebook or its folder): "
                         "submit the notebook itself")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("the notebook is not a regular file: submit the notebook itself")
    if info.st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the notebook is {info.st_size / 2**20:.0f} MiB, over the limit of "
                         f"{MAX_NOTEBOOK_BYTES >> 20} MiB (clear large outputs and resubmit)")
    return path


_RELEASES = {}  # {path: ((mtime_ns, size, inode), notebook)}: this process's releases, read once


def release_notebook(path):
    """The release notebook at ``path``, read once per process and read again when the
    file changes (a rebuilt release). Callers only read it."""
    info = os.stat(path)
    version = (info.st_mtime_ns, info.st_size, info.st_ino)
    cached = _RELEASES.get(str(path))
    if cached is None or cached[0] != version:
        cached = _RELEASES[str(path)] = (version, nbformat.read(str(path), as_version=4))
    return cached[1]


def read_notebook(path):
    """The notebook, or raise ValueError with a message a person can act on."""
    path = check_path(path)
    try:
        notebook = read_quietly(path)
    except Exception as exc:  # nbformat raises several types for broken files
        raise ValueError(f"the file is not a readable Jupyter notebook: "
                         f"{type(exc).__name__}: {str(exc)[:300]}") from None
    if not isinstance(notebook.get("cells"), list):
        raise ValueError("the notebook has no list of cells")
    return notebook


def empty_tests(assignment, status, message):
    """A record per test of ``assignment`` (none when it is None), all ``status``."""
    return [{"grade_id": test.grade_id, "points": 0.0, "max_points": test.points,
             "hidden": test.hidden, "summary": test.summary, "status": status,
             "message": message} for test in (assignment.tests if assignment else ())]


def grade_notebook(path, assignment, limits=Limits(), isolation="auto", release_path=None,
                   timing=None):
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
    result = {"isolation": isolation, "cells": {}, "missing_answer_cells": []}
    expected_answers = {f"answer_{assignment.target_of(test)}" for test in assignment.tests}
    result["missing_answer_cells"] = sorted(expected_answers - present)
    try:
        cells = code_cells(notebook, release)
    except (AttributeError, TypeError, KeyError) as exc:
        result.update(status=RowStatus.INVALID_NOTEBOOK, message=f"the notebook's cells are malformed ({exc})",
                      tests=empty_tests(assignment, "not_run",
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


def _timed_test(timing, test, process, limits, started, assignment):
    """``run_one``; its seconds, less the start and cells it set off, go to timing["tests"]."""
    before, setup = time.perf_counter(), sum(process.seconds.values())
    record = run_one(test, process, limits, started, assignment)
    spent = time.perf_counter() - before - (sum(process.seconds.values()) - setup)
    timing.setdefault("tests", {})[test.grade_id] = spent
    return record


def refused(assignment, isolation, reason, started=None):
    """The result of a notebook that cannot be read (``reason``: why, an exception or text)."""
    result = {"isolation": isolation, "cells": {}, "missing_answer_cells": [],
              "status": RowStatus.INVALID_NOTEBOOK, "message": str(reason),
              "tests": empty_tests(assignment, TestStatus.NOT_RUN, f"not run: {reason}")}
    return finish(result, time.monotonic() if started is None else started, assignment)


def finish(result, started, assignment):
    result["score"] = round(sum(t["points"] for t in result["tests"]), 6)
    result["max_score"] = assignment.max_score if assignment else 0.0
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def submission_files(folder, notebook_name, limit=20 << 20, count=100):
    """The student's extra files (data their code reads): at most ``count``, ``limit`` bytes.

    The folder is walked without recursion, at most MAX_DEPTH folders deep and
    MAX_ENTRIES entries in all (a submission of 1,100 nested folders or a million files
    costs a bounded walk); links are never followed.
    """
    chosen, total = [], 0
    for item in walk_files(Path(folder)):
        if item.name == notebook_name or ".ipynb_checkpoints" in item.parts:
            continue
        total += item.lstat().st_size
        if total > limit or len(chosen) >= count:
            break
        chosen.append(item)
    return chosen


MAX_DEPTH = 16
MAX_ENTRIES = 10_000


def walk_files(top, max_depth=MAX_DEPTH, max_entries=MAX_ENTRIES):
    """Regular files below ``top`` (not links), sorted folder by folder, within bounds."""
    pending, seen, found = [(Path(top), 0)], 0, []
    while pending:
        folder, depth = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)[:max_entries - seen]
        except OSError:  # unreadable folder: its files are not the student's data
            continue
        seen += len(listed)
        subfolders = []
        for entry in listed:
            if entry.is_symlink():
                continue
            if entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
            elif entry.is_dir(follow_symlinks=False) and depth < max_depth:
                subfolders.append((Path(entry.path), depth + 1))
        pending.extend(reversed(subfolders))
        if seen >= max_entries:
            break
    return sorted(found)


def copy_submission_files(folder, scratch, notebook_name):
    """Copy the submission's extra files into scratch."""
    for item in submission_files(folder, notebook_name):
        target = scratch / item.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(item, target)


def run_one(test, process, limits, started, assignment):
    """Run one test of ``assignment``; never raises. Returns its record."""
    record = {"grade_id": test.grade_id, "points": 0.0, "max_points": test.points,
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
        status = {"memory": TestStatus.MEMORY_LIMIT,
                  "not_implemented": TestStatus.NOT_IMPLEMENTED}.get(exc.kind, TestStatus.ERROR)
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
            found = diagnosis.hint(assignment.name, assignment.target_of(test), process,
                                   student._timeout, started + limits.notebook_seconds)
        except Exception:  # a hint is a bonus: a failure to make one costs the row nothing
            found = ""
        if found:
            record["hint"] = found  # shown for hidden tests too (see feedback.public_message)
            if not test.hidden:
                record["message"] += "\n" + found
    if student.output:
        record["output"] = "".join(student.output)[:5000]
    return hidden_record(record, test.source()) if test.hidden else record


HIDDEN_DIED = "your code ended the Python process"
HIDDEN_FAILED = ("failed (the test's own message, with its inputs, is in `detail`, for the "
                 "instructor)")
CUSTOM_EXCEPTION = "an exception of a class defined in your code"


def shown_exception(where: str | None) -> str:
    """What a hidden test may say of the student's exception: the name of its type when
    that is a built-in exception type (``ValueError``), else ``CUSTOM_EXCEPTION``; never
    its text, its class name of the student's choosing, or the line that raised it (a
    student picks the line as freely as the name)."""
    name = (where or "").split(" ", 1)[0]
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, BaseException):
        return name
    return CUSTOM_EXCEPTION


_SIZES = re.compile(r"\(\s*-?\d+\s*(?:,\s*-?\d+\s*)*,?\s*\)")  # (6, 5), (7,)


def without_sizes(message: str, source: str) -> str:
    """``message`` with every tuple of integers (a shape, an index) that the test's
    ``source`` does not itself contain replaced by "(...)": a last guard against a public
    message that prints a shape or index of the student's value."""
    allowed = {found.replace(" ", "") for found in _SIZES.findall(source)}
    return _SIZES.sub(lambda found: found.group(0) if found.group(0).replace(" ", "") in allowed
                      else "(...)", message)


def hidden_record(record: dict, source: str = "") -> dict:
    """A hidden test's record with nothing the student's code chose in its shown fields.

    Hidden inputs reach the student's functions, which may write them into anything they
    control: an exception's text or class name, the line that raises, printed output, the
    exit code or signal of the process, a memory error's text. So a hidden record keeps:
    ``message``, a fixed text per status (the test's own message only when it is a
    ``PublicFailure``, whose helpers leave out the student's values while hiding, see
    ``nnlab.testing.hiding_values``); ``where``, a built-in exception type's name or
    ``CUSTOM_EXCEPTION``; no ``output``. A failure message that is not public moves to
    ``detail`` (for the instructor only: never shown to students). ``source``: the test's
    code; a public message keeps only the tuples of integers written in it (``without_sizes``).
    """
    record = dict(record)
    record.pop("output", None)
    status = record["status"]
    if status == TestStatus.ERROR:
        shown = shown_exception(record.get("where"))
        record.update(where=shown, message=f"your code raised {shown} during this hidden test")
    elif status == TestStatus.MEMORY_LIMIT:
        record["message"] = "your code ran out of memory during this hidden test"
        if "where" in record:
            record["where"] = shown_exception(record["where"])
    elif status == TestStatus.NOT_IMPLEMENTED:
        record["where"] = "NotImplementedError"
    elif status == TestStatus.KERNEL_DIED:
        record["message"] = HIDDEN_DIED
    elif status == TestStatus.FAILED and not record.get("public"):
        record.update(detail=record["message"], message=HIDDEN_FAILED)
    elif status == TestStatus.FAILED:
        record["message"] = without_sizes(record["message"], source)[:500]
    return record


def to_json(result):
    return json.dumps(result, indent=1, sort_keys=True, default=str)
