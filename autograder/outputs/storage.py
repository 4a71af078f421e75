"""What ``grade`` keeps under OUT: result files, their reuse keys, grades.csv, the lock.

- ``results/<student>/<assignment>/<notebook>.json`` and ``feedback/.../<notebook>.html``
  are written atomically (a temporary file renamed into place; readable by the group and
  others as the umask allows, like any file the instructor makes);
- a result is reused on a rerun when its key (hash of the grader and of everything
  grading reads) is unchanged and the file is really a result of ``grade``;
- ``grades.csv`` is rewritten atomically at the end, with the written answers' grades
  and the total; one row per result, sorted by the real names (the file system's);
  names in it are printed one-to-one escaped (``autograder.text.display_name``: two
  folders never print alike) and quoted when a spreadsheet could read them as formulas;
- ``.grade.lock``: one ``grade`` at a time per OUT.
"""

import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Container, Iterable, Iterator
from pathlib import Path

from autograder import course
from autograder.discovery import Submission
from autograder.outputs.out_folder import OutFolder
from autograder.grading import written_grades
from autograder.records import Record, RowStatus, SubmissionResult, TestStatus
from autograder.submission import MAX_NOTEBOOK_BYTES, submission_files
from autograder.text import display_name, formula_like, utf8

ROW_FIELDS = ["student_id", "assignment", "notebook", "score", "max_score", "status"]
TOTAL_FIELDS = ["total", "total_max"]  # autograded + written answers, as nbgrader totals them
HASH_CHUNK = 1 << 20


class OutputLocked(RuntimeError):
    """Another ``grade`` is writing to the same OUT folder."""


class WriteFailed(OSError):
    """A file of OUT could not be written (a full disk, no permission); nothing half
    written is left behind."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()


def write_atomic(path: str | os.PathLike[str], text: str | bytes) -> None:
    """Write ``text`` (str, written as UTF-8 whatever it holds, or bytes) to ``path``."""
    path = Path(path)
    data = text if isinstance(text, bytes) else utf8(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-")  # short: long names fit
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes 0600; these files are for sharing
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _file_digest(path: Path) -> bytes:
    """SHA-256 of a file read in chunks; a file over the notebook limit is keyed by its
    size and time only (it is refused unread, so its content cannot matter)."""
    info = path.stat()
    if info.st_size > MAX_NOTEBOOK_BYTES:
        return f"large:{info.st_size}:{info.st_mtime_ns}".encode()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.digest()


def content_key(path: str | os.PathLike[str] | None, fingerprint: str) -> str:
    """Hash of the grader and of everything grading reads: the notebook and its extra files."""
    digest = hashlib.sha256(fingerprint.encode())
    if path is not None:
        path = Path(path)
        try:
            for item in [path] + submission_files(path.parent, path.name):
                digest.update(os.fsencode(item.relative_to(path.parent)) + b"\0")
                if item.is_symlink():  # never followed: it may lead to /dev/zero or a FIFO
                    digest.update(b"link:" + os.fsencode(os.readlink(item)))
                else:
                    digest.update(_file_digest(item))
        except (OSError, ValueError) as exc:  # unreadable: grading says so; the key must differ
            digest.update(f"unreadable:{type(exc).__name__}:{time.time()}".encode())
    return digest.hexdigest()


def is_result(value: object) -> bool:
    """True when ``value`` has the shape of a saved result (``records.SubmissionResult``
    reads it; anything else is regraded)."""
    try:
        SubmissionResult.from_json(value)
    except ValueError:
        return False
    return True


def result_path(out: str | os.PathLike[str], item: Submission) -> Path:
    return OutFolder(out).result(item)


def feedback_path(out: str | os.PathLike[str], item: Submission) -> Path:
    return OutFolder(out).page(item)


def load_previous(out: str | os.PathLike[str], item: Submission, key: str,
                  regrade: Iterable[str] = ()) -> Record | None:
    """The saved result of ``item`` if it can be reused: same key, its page exists, and its
    row status is not in ``regrade`` (nor grader_error, which is never final)."""
    try:
        result = json.loads(result_path(out, item).read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not is_result(result):
        return None
    if result["status"] in {RowStatus.GRADER_ERROR, *regrade} or any(
            t["status"] == TestStatus.GRADER_ERROR for t in result["tests"]):
        return None
    return result if result.get("key") == key and feedback_path(out, item).exists() else None


def saved_results(out: str | os.PathLike[str], skip: Container[str] = (),
                  warn: Callable[[str], object] | None = None) -> list[Record]:
    """The results saved under OUT/results, without those whose assignment is in ``skip``
    (e.g. the rows of a ``grade --assignment`` run, which come from the run itself).
    A file that is not a result of ``grade`` is left out, and ``warn(text)`` (when given)
    is called with why."""
    found = []
    for path in sorted(OutFolder(out).results.rglob("*.json")):
        try:
            result = json.loads(path.read_bytes())
            if not is_result(result) or not all(isinstance(result.get(key), str)
                                                for key in ("student_id", "assignment",
                                                            "notebook")):
                raise ValueError("not a result file of `grade`")
        except (OSError, ValueError, RecursionError) as exc:
            if warn is not None:
                warn(f"warning: skipped {display_name(str(path))}: {exc}")
            continue
        if result["assignment"] not in skip:
            found.append(result)
    return found


def csv_columns(results: Iterable[Record]) -> list[tuple[str, str, bool]]:
    """The per-test and per-written-answer columns: those of every assignment with a row,
    in course order (each assignment's autograded tests, then its written answers)."""
    present = {result["assignment"] for result in results}
    columns = []
    for assignment in course.current().assignments:
        if assignment.name in present:
            columns += [(assignment.name, test.grade_id, False) for test in assignment.tests]
            columns += [(assignment.name, cell.grade_id, True)
                        for cell in written_grades.written_cells(assignment)]
    return columns


def _cell(result: Record, assignment: str, grade_id: str, written: bool) -> str:
    """One per-test or per-answer cell: blank when it is not the row's assignment's, or a
    written answer not graded yet."""
    if result["assignment"] != assignment:
        return ""
    if written:
        score = {g["grade_id"]: g["score"] for g in result.get("written") or []}.get(grade_id)
        return "" if score is None else f"{score:g}"
    points = {t["grade_id"]: t["points"] for t in result["tests"]}
    return f"{points.get(grade_id, 0):g}"


def spreadsheet_safe(text: str) -> str:
    """``text`` for a CSV cell a spreadsheet opens: a name a spreadsheet would read as a
    formula or a signed number (``=HYPERLINK(...)``, ``-inf`` as a folder name; see
    ``autograder.text.formula_like``) gets a leading quote."""
    return "'" + text if formula_like(text) else text


def csv_text(results: list[Record]) -> str:
    """grades.csv's text: one row per result; its autograded score, per-test points (the
    union of the assignments' tests, blank where a test is not the row's assignment's),
    the TAs' points per written answer (blank until graded) and the total."""
    columns = csv_columns(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ROW_FIELDS + [grade_id for _, grade_id, _ in columns] + TOTAL_FIELDS)
    for result in sorted(results, key=lambda r: (r["student_id"], r["assignment"], r["notebook"])):
        writer.writerow([spreadsheet_safe(display_name(result["student_id"])),
                         spreadsheet_safe(display_name(result["assignment"])),
                         spreadsheet_safe(display_name(result["notebook"])), f"{result['score']:g}",
                         f"{result['max_score']:g}", result["status"]]
                        + [_cell(result, *column) for column in columns]
                        + [f"{result.get('total', result['score']):g}",
                           f"{result.get('total_max', result['max_score']):g}"])
    return buffer.getvalue()


def write_csv(out: str | os.PathLike[str], results: list[Record]) -> Path:
    """Write OUT/grades.csv atomically; raises WriteFailed with a plain message."""
    target = OutFolder(out).grades_csv
    try:
        write_atomic(target, csv_text(results))
    except OSError as exc:
        raise WriteFailed(f"could not write {target}: {exc.strerror or exc}") from exc
    return target


@contextlib.contextmanager
def locked(out: str | os.PathLike[str]) -> Iterator[None]:
    """Hold OUT's lock for one ``grade`` run; raises OutputLocked if another holds it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    handle = open(OutFolder(out).lock, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise OutputLocked(f"another `grade` ({holder}) is writing to {out}; wait for it "
                               f"to finish or use another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock
