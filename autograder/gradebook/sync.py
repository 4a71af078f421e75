"""Putting the sandboxed grades into nbgrader's gradebook, so nbgrader's own tools work.

After ``grade``, ``OUT/nbgrader/`` is an nbgrader course directory: formgrader serves it
for manual grading of the written derivations, ``nbgrader export`` exports it, and
``nbgrader generate_feedback`` / ``release_feedback`` work as usual.

How (the pipeline, in order):

1. nbgrader's ``generate_assignment`` (run in this process) registers the assignment (its
   cells and points) in the course's gradebook, from the instructor's source notebook
   (again only when that source changed).
2. Each graded submission is copied to ``submitted/<student>/<assignment>/`` in a form
   nbgrader always takes (``autograder.gradebook.notebook``: repeated or malformed nbgrader
   cells become plain cells; a notebook that lost cells, or does not validate, is rebuilt
   from the release with the student's answers), so the gradebook has every cell, and with
   the student's content made inert (``autograder.gradebook.inert``: formgrader renders these copies,
   unsanitized, in the TA's logged-in session). A student id nbgrader cannot hold
   (``unsafe_id_reason``) is not copied: its result says why. The copy, outputs included,
   and the result are also kept under ``outputs/``.
3. ``autograder.gradebook.autograde`` does what ``nbgrader autograde`` does with its Execute
   step replaced by ``InjectResults`` (our results written into the test cells, the
   student's own outputs, such as plots, put back in the other cells), in this process, for
   an assignment's changed submissions in one gradebook transaction per RECORD_CHUNK of
   them: the notebooks under ``autograded/``, the submissions, the autograded scores and comments (a TA's
   manual scores and comments are kept). The course's configuration names the same
   ``InjectResults``, so an ``nbgrader autograde`` run by hand, or from formgrader, gives the
   same notebooks and never runs student code.
4. ``generate_feedback`` is configured to run ``ClearHiddenTests`` so released feedback never
   shows hidden tests (nbgrader issue #917).
5. A submission counts as recorded once its notebook is written and the transaction is
   committed with the grader's score as its autograded points; one that fails costs only
   itself (its copy leaves ``submitted/``, so nbgrader's own commands do not stop on it) and
   its result's ``gradebook`` field says why. A marker beside its copy in ``outputs/``
   holds the digest of the result recorded, so an unchanged result is not recorded again
   (a TA's grades are untouched) and a changed one is. Copies recorded before they were made
   inert (a marker without ``INERT_COPIES``) are made inert in place, the gradebook untouched.
"""

import hashlib
import io
import json
import logging
import os
import shutil
from pathlib import Path

import nbformat
from nbgrader.converters import GenerateAssignment, NbGraderException
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from autograder import config, course as courses
from autograder.build import copy_student_package, nbgrader_env
from autograder.gradebook import autograde as gradebook_record
from autograder.gradebook.inert import inert_notebook
from autograder.gradebook.notebook import submission_for_gradebook
from autograder.outputs.out_folder import OutFolder
from autograder.records import Record
from autograder.text import clean_text, display_name, unsafe_id_reason

EXIT_NOT_RECORDED = 3  # exit code of `grade` when the gradebook disagrees with grades.csv
RECORDED = "recorded"
NOT_RECORDED = "not recorded: "
RECORD_CHUNK = 50  # submissions recorded per transaction (their notebooks are held in memory)
INERT_COPIES = "inert1"  # in the marker: the copies are made inert (``autograder.gradebook.inert``)
COURSE_CONFIG = '''\
# nbgrader configuration of the course directory that `python -m autograder grade` keeps.
c = get_config()  # noqa: F821 (provided by traitlets)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
c.Autograde.autograde_preprocessors = [
    "autograder.gradebook.autograde.InjectResults",  # first: the sandboxed results, nothing run
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.InjectResults.outputs_dir = {outputs!r}
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.ClearHiddenTests.enforce_metadata = False
'''


def generate_assignment(course: Path, assignment: courses.Assignment) -> None:
    """nbgrader's ``generate_assignment ASSIGNMENT --force`` in ``course``, run in this process
    (the command costs an interpreter start) with the course's configuration file."""
    settings = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    settings.CourseDirectory.assignment_id = assignment.name
    settings.GenerateAssignment.force = True
    log = logging.getLogger("autograder.generate_assignment")
    log.propagate = False  # nbgrader's progress lines: only the errors, kept for the message
    errors = io.StringIO()
    handler = logging.StreamHandler(errors)
    handler.setLevel(logging.ERROR)
    log.addHandler(handler)
    path = os.environ.get("PATH")
    os.environ["PATH"] = nbgrader_env()["PATH"]  # nbgrader runs alembic when it makes the gradebook
    try:
        GenerateAssignment(coursedir=CourseDirectory(config=settings), config=settings, log=log).start()
    except NbGraderException as exc:
        raise RuntimeError(f"nbgrader generate_assignment {assignment.name} failed: {exc}\n"
                           f"{errors.getvalue()[-3000:]}") from exc
    finally:
        if path is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = path
        log.removeHandler(handler)


def source_fingerprint(assignment: courses.Assignment) -> str:
    """Hash of what an assignment's source folder is made from: its notebook and nnlab/."""
    digest = hashlib.sha256(assignment.source_notebook.read_bytes())
    for path in sorted(config.STUDENT_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(config.STUDENT_PACKAGE).as_posix().encode() + b"\0"
                      + path.read_bytes())
    return digest.hexdigest()


def prepare_course(course: Path, assignment: courses.Assignment) -> str:
    """Make ``course`` an nbgrader course directory with ``assignment`` registered (again
    when its source changed); returns its source fingerprint."""
    (course / "source" / assignment.name).mkdir(parents=True, exist_ok=True)
    (course / "submitted").mkdir(exist_ok=True)
    for folder in (course / "submitted").iterdir():  # left by an older grader: nbgrader would stop
        if unsafe_id_reason(folder.name) and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        elif unsafe_id_reason(folder.name):
            folder.unlink()
    (course / "nbgrader_config.py").write_text(COURSE_CONFIG.format(
        root=str(course), outputs=str(course / "outputs"),
        course_id=courses.current().course_id))
    create_gradebook(course / "gradebook.db")
    source = course / "source" / assignment.name / f"{assignment.notebook}.ipynb"
    stamp = course / f".source_fingerprint-{assignment.name}"
    fingerprint = source_fingerprint(assignment)
    if not stamp.exists() or stamp.read_text() != fingerprint:
        shutil.copy(assignment.source_notebook, source)
        shutil.rmtree(course / "source" / assignment.name / "nnlab", ignore_errors=True)
        copy_student_package(course / "source" / assignment.name, assignment)
        generate_assignment(course, assignment)
        stamp.write_text(fingerprint)
    return fingerprint


def create_gradebook(database: Path) -> None:
    """Create an empty gradebook at ``database`` (when there is none) as nbgrader's
    ``Gradebook`` does (its tables, and the alembic revision it is at), except that the
    revision is read here instead of by an ``alembic heads`` subprocess (~2 s)."""
    if database.exists():
        return
    from alembic.script import ScriptDirectory
    from nbgrader import api
    from sqlalchemy import create_engine, text
    head = ScriptDirectory(str(Path(api.__file__).parent / "alembic")).get_current_head()
    partial = database.with_name(f".partial-{database.name}")
    partial.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{partial}")
    try:
        api.Base.metadata.create_all(bind=engine)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version "
                                    "(version_num VARCHAR(32) NOT NULL)"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                               {"head": head})
    finally:
        engine.dispose()
    partial.replace(database)  # a gradebook is there whole, or not at all


def sync(out: str | os.PathLike[str], results: list[Record]) -> tuple[Path, list[str]]:
    """Record ``results`` (from batch.grade_all) in OUT/nbgrader's gradebook, one course
    directory for every assignment of the course.

    Returns (path of gradebook.db, warnings), one warning per submission that is not
    recorded, its student's name made printable. Each result gets a ``gradebook`` field:
    "recorded", "not recorded: <why>", or "skipped: ..." (a row that is not an assignment's
    notebook). Results recorded before and unchanged since (their marker in ``outputs/``)
    are not recorded again; the others are, one transaction per RECORD_CHUNK of them.
    """
    course = OutFolder(Path(out).resolve()).nbgrader
    for result in results:
        result["gradebook"] = "skipped: not an assignment's notebook"
    for assignment in courses.current().assignments:
        mine = [r for r in results if r["assignment"] == assignment.name
                and r.get("graded_as", r["notebook"]) == assignment.notebook]
        if mine:
            _sync_assignment(course, assignment, mine)
    warnings = [f"{display_name(r['student_id'])}/{display_name(r['assignment'])}: "
                f"{clean_text(r['gradebook'])}"
                for r in results if r.get("gradebook", "").startswith(NOT_RECORDED)]
    return course / "gradebook.db", warnings


def _sync_assignment(course: Path, assignment: courses.Assignment,
                     results: list[Record]) -> None:
    """``sync`` for the results of one assignment's notebook."""
    fingerprint = prepare_course(course, assignment)
    release = nbformat.read(str(assignment.release_notebook), as_version=4)
    name, notebook_name = assignment.name, assignment.notebook
    pending: dict[str, tuple[Record, str, Path, str]] = {}
    for result in results:
        student = result["student_id"]
        reason = unsafe_id_reason(student)
        if reason:
            result["gradebook"] = f"{NOT_RECORDED}{reason}; rename the folder to record it"
            continue
        folder = course / "outputs" / student / name
        marker = folder / f"{notebook_name}.synced"
        stamp_text = f"{result_digest(result)}:{fingerprint}:{INERT_COPIES}"
        stamp = marker.read_text() if marker.exists() else None
        if stamp == stamp_text or (stamp == stamp_text.rsplit(":", 1)[0]
                                   and _made_inert(course, student, assignment, release)):
            marker.write_text(stamp_text)
            result["gradebook"] = RECORDED
            continue
        try:
            text = nbformat.writes(submission_for_gradebook(result, release))
            text = text if text.endswith("\n") else text + "\n"  # as nbformat.write leaves it
            for top in (course / "submitted", course / "outputs"):
                (top / student / name).mkdir(parents=True, exist_ok=True)
                (top / student / name / f"{notebook_name}.ipynb").write_text(text, encoding="utf-8")
            (folder / f"{notebook_name}.json").write_text(json.dumps(result))
            marker.unlink(missing_ok=True)
        except Exception as exc:  # one odd submission must not keep the others out
            _withdraw(course, student, name)
            result["gradebook"] = f"{NOT_RECORDED}its copy for nbgrader could not be written " \
                                  f"({type(exc).__name__}: {exc})"
            continue
        pending[student] = (result, text, marker, stamp_text)
        if len(pending) >= RECORD_CHUNK:  # their notebooks' texts are held until recorded
            _record_pending(course, assignment, pending)
            pending = {}
    if pending:
        _record_pending(course, assignment, pending)


def _made_inert(course: Path, student: str, assignment: courses.Assignment,
                release: nbformat.NotebookNode) -> bool:
    """Make the copies of a submission recorded by a grader older than ``autograder.gradebook.inert``
    (its ``submitted/``, ``outputs/`` and ``autograded/`` notebooks) inert in place, without
    touching the gradebook (a TA's grades stay as they are). False when one cannot be read
    or written: the submission is then recorded again."""
    relative = Path(student) / assignment.name / f"{assignment.notebook}.ipynb"
    try:
        for top in ("submitted", "outputs", "autograded"):
            path = course / top / relative
            notebook = nbformat.read(str(path), as_version=4)
            text = nbformat.writes(inert_notebook(notebook, release))
            mode = path.stat().st_mode
            path.chmod(mode | 0o200)
            path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
            path.chmod(mode)
    except Exception:  # unreadable, invalid or unwritable: record it again instead
        return False
    return True


def _record_pending(course: Path, assignment: courses.Assignment,
                    pending: dict[str, tuple[Record, str, Path, str]]) -> None:
    """Record ``pending`` ({student: (result, notebook text, marker, stamp)}) in one
    transaction; mark each recorded result, withdraw the others."""
    failed = gradebook_record.record(course, assignment,
                                     {s: entry[:2] for s, entry in pending.items()})
    for student, (result, _, marker, stamp_text) in pending.items():
        if student in failed:
            result["gradebook"] = NOT_RECORDED + failed[student]
            _withdraw(course, student, assignment.name)  # keeps nbgrader's own commands going
        else:
            marker.write_text(stamp_text)
            result["gradebook"] = RECORDED


def _withdraw(course: Path, student: str, assignment_name: str) -> None:
    """Take one student's copy of one assignment out of ``submitted/`` and ``autograded/``."""
    for top in (course / "submitted", course / "autograded"):
        shutil.rmtree(top / student / assignment_name, ignore_errors=True)
        try:
            (top / student).rmdir()  # only when no other assignment is there
        except OSError:
            pass


def result_digest(result: Record) -> str:
    """What the gradebook must reflect of a result: its scores and messages (not its
    timing or whether it was reused), so a regrade with other outcomes is recorded."""
    graded = {"status": result.get("status"), "score": result.get("score"),
              "tests": [(t.get("grade_id"), t.get("points"), t.get("status"), t.get("message"))
                        for t in result.get("tests", [])]}
    return hashlib.sha256(json.dumps(graded, sort_keys=True, default=str).encode()).hexdigest()[:32]
