"""Putting the sandboxed grades into nbgrader's gradebook, so nbgrader's own tools work.

After ``grade``, ``OUT/nbgrader/`` is an nbgrader course directory: formgrader serves it
for manual grading of the written derivations, ``nbgrader export`` exports it, and
``nbgrader generate_feedback`` / ``release_feedback`` work as usual.

How (the pipeline, in order):

1. ``generate_assignment`` registers the assignment (its cells and points) in the course's
   gradebook, from the instructor's source notebook.
2. Each graded submission is copied to ``submitted/<student>/<assignment>/`` in a form
   nbgrader always takes (``autograder.gradebook_notebook``: repeated or malformed nbgrader
   cells become plain cells; a notebook that lost cells, or does not validate, is rebuilt
   from the release with the student's answers), so the gradebook has every cell. A student
   id nbgrader cannot hold (``unsafe_id_reason``) is not copied: its result says why.
3. ``nbgrader autograde`` runs with its ``Execute`` preprocessor replaced by
   ``InjectResults``: instead of running student code in-kernel, it writes our results into
   the test cells (an error output for a lost test, with the student-facing message) and puts
   back the student's own outputs (plots) in the other cells. nbgrader's sanitising step
   clears outputs, so step 2 also keeps the submitted notebook, outputs included, and its
   results under ``outputs/``; InjectResults copies outputs from it cell by cell (same
   notebook, same indices, even when it was rebuilt from the release). nbgrader's ``SaveAutoGrades``
   then records the scores. It must come first: the later preprocessors read its outputs.
4. ``generate_feedback`` is configured to run ``ClearHiddenTests`` so released feedback never
   shows hidden tests (nbgrader issue #917).
5. A submission counts as recorded once the gradebook holds the grader's score for it. The
   ones that are not after the batched ``autograde`` are retried (``record``), so one
   submission nbgrader cannot take costs only itself; each result's ``gradebook`` field
   says whether it was recorded, and why not.
"""

import collections
import hashlib
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from autograder import config
from autograder import course as courses
from autograder.build import copy_student_package, nbgrader_env
from autograder.feedback import public_message
from autograder.gradebook_notebook import read_or_none, submission_for_gradebook
from autograder.text import clean_text, display_name

EXIT_NOT_RECORDED = 3  # exit code of `grade` when the gradebook disagrees with grades.csv
MAX_AUTOGRADE_RUNS = 25  # per sync: the batched run plus retries that isolate failures
GLOB_CHARACTERS = "*?["  # nbgrader finds submissions with glob patterns built from ids
RECORDED = "recorded"
NOT_RECORDED = "not recorded: "
FAILED = "failed "  # a marker "failed <stamp>": that result could not be recorded
NOT_RETRIED = (f"not retried: the {MAX_AUTOGRADE_RUNS} nbgrader runs of this pass were spent on "
               f"other failures; rerun to continue")
COURSE_CONFIG = '''\
# nbgrader configuration of the course directory that `python -m autograder grade` keeps.
c = get_config()  # noqa: F821 (provided by traitlets)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
c.Autograde.autograde_preprocessors = [
    "autograder.gradebook.InjectResults",  # first: writes the sandboxed results into the cells
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


class InjectResults(NbGraderPreprocessor):
    """Write the grader's per-test results into the test cells' outputs (an error, so no
    points, for a test cell the results do not have), and the student's outputs into the
    other code cells."""

    outputs_dir = Unicode("", help="the submitted notebooks, with their outputs, and their "
                                   "results, as sync wrote them").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        relative = Path(info["student"]) / info["assignment"] / info["notebook"]
        result = json.loads((Path(self.outputs_dir) / relative).with_suffix(".json").read_text())
        records = {t["grade_id"]: t for t in result["tests"]}
        submitted = read_or_none((Path(self.outputs_dir) / relative).with_suffix(".ipynb"))
        for index, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            if meta.get("grade") and not meta.get("solution"):  # a test: no record, no points
                cell.outputs = [_output_for(records.get(meta.get("grade_id"), {
                    "grade_id": meta.get("grade_id"), "status": "not_run", "hidden": False,
                    "message": "not graded: the grader has no such test"}))]
            elif submitted is not None and index < len(submitted.cells) \
                    and submitted.cells[index].get("cell_type") == "code":
                cell.outputs = submitted.cells[index].get("outputs", [])
        return nb, resources


def _output_for(record):
    if record["status"] == "passed":
        return nbformat.v4.new_output("stream", name="stdout", text=f"passed: {record['grade_id']}\n")
    message = clean_text(public_message(record) or "")  # nbgrader writes it as UTF-8
    return nbformat.v4.new_output("error", ename=record["status"], evalue=message,
                                  traceback=[f"{record['grade_id']}: {record['status']}", message])


def run_nbgrader(course, *args):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=nbgrader_env(),
                          capture_output=True, text=True, encoding="utf-8", errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def source_fingerprint(assignment):
    """Hash of what an assignment's source folder is made from: its notebook and nnlab/."""
    digest = hashlib.sha256(assignment.source_notebook.read_bytes())
    for path in sorted(config.STUDENT_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(config.STUDENT_PACKAGE).as_posix().encode() + b"\0"
                      + path.read_bytes())
    return digest.hexdigest()


def prepare_course(course, assignment):
    """Make ``course`` an nbgrader course directory with ``assignment`` registered (again
    when its source changed); returns its source fingerprint."""
    (course / "source" / assignment.name).mkdir(parents=True, exist_ok=True)
    (course / "submitted").mkdir(exist_ok=True)
    _unpark(course / "submitted", course / ".parked")  # after a run that was killed while parked
    for folder in (course / "submitted").iterdir():  # left by an older grader: nbgrader would stop
        if unsafe_id_reason(folder.name) and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        elif unsafe_id_reason(folder.name):
            folder.unlink()
    (course / "nbgrader_config.py").write_text(COURSE_CONFIG.format(
        root=str(course), outputs=str(course / "outputs"),
        course_id=courses.current().course_id))
    source = course / "source" / assignment.name / f"{assignment.notebook}.ipynb"
    stamp = course / f".source_fingerprint-{assignment.name}"
    fingerprint = source_fingerprint(assignment)
    if not stamp.exists() or stamp.read_text() != fingerprint:
        shutil.copy(assignment.source_notebook, source)
        shutil.rmtree(course / "source" / assignment.name / "nnlab", ignore_errors=True)
        copy_student_package(course / "source" / assignment.name, assignment)
        run_nbgrader(course, "generate_assignment", assignment.name, "--force")
        stamp.write_text(fingerprint)
    return fingerprint


def sync(out, results):
    """Record ``results`` (from batch.grade_all) in OUT/nbgrader's gradebook, one course
    directory for every assignment of the course.

    Returns (path of gradebook.db, warnings), one warning per submission that is not
    recorded, its student's name made printable. Each result gets a ``gradebook`` field:
    "recorded", "not recorded: <why>", or "skipped: ..." (a row that is not an assignment's
    notebook). Once nbgrader's gradebook holds the grader's score for a submission, a
    marker beside its copy in ``outputs/`` gets the digest of its result, so reruns
    autograde only results that changed (or were not recorded before). A result nbgrader
    failed on gets the marker "failed <digest>": unchanged, it is retried after the others,
    so submissions that keep failing cannot spend the runs that record the rest.
    """
    course = Path(out).resolve() / "nbgrader"
    (course / "autograde.log").unlink(missing_ok=True)  # this pass's failures only
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


def _sync_assignment(course, assignment, results):
    """``sync`` for the results of one assignment's notebook."""
    fingerprint = prepare_course(course, assignment)
    release = nbformat.read(str(assignment.release_notebook), as_version=4)
    name, notebook_name = assignment.name, assignment.notebook
    pending = {}
    for result in results:
        student = result["student_id"]
        reason = unsafe_id_reason(student)
        if reason:
            result["gradebook"] = f"{NOT_RECORDED}{reason}; rename the folder to record it"
            continue
        folder = course / "outputs" / student / name
        marker = folder / f"{notebook_name}.synced"
        stamp_text = f"{result_digest(result)}:{fingerprint}"
        previous = marker.read_text() if marker.exists() else ""
        if previous == stamp_text:
            result["gradebook"] = RECORDED
            continue
        try:
            notebook = submission_for_gradebook(result, release)
            for top in (course / "submitted", course / "outputs"):
                (top / student / name).mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, str(top / student / name / f"{notebook_name}.ipynb"))
            (folder / f"{notebook_name}.json").write_text(json.dumps(result))
            marker.unlink(missing_ok=True)
        except Exception as exc:  # one odd submission must not keep the others out
            _withdraw(course, student, name)
            result["gradebook"] = f"{NOT_RECORDED}its copy for nbgrader could not be written " \
                                  f"({type(exc).__name__}: {exc})"
            continue
        pending[student] = (result, marker, stamp_text, previous == FAILED + stamp_text)
    failed, runs = {}, 0
    for known_failures in (False, True):
        expected = {s: entry[0]["score"] for s, entry in pending.items() if entry[3] == known_failures}
        more, used = record(course, assignment, expected, MAX_AUTOGRADE_RUNS - runs,
                            keep_log=True)
        failed, runs = failed | more, runs + used
    for student, (result, marker, stamp_text, known) in pending.items():
        if student not in failed:
            marker.write_text(stamp_text)
            result["gradebook"] = RECORDED
            continue
        result["gradebook"] = NOT_RECORDED + failed[student]
        if known or failed[student] != NOT_RETRIED:  # known to fail: next time after the others
            marker.write_text(FAILED + stamp_text)
        _withdraw(course, student, name)  # keeps nbgrader's own runs going


def _withdraw(course, student, assignment_name):
    """Take one student's copy of one assignment out of ``submitted/``."""
    shutil.rmtree(course / "submitted" / student / assignment_name, ignore_errors=True)
    try:
        (course / "submitted" / student).rmdir()  # only when no other assignment is there
    except OSError:
        pass


def unsafe_id_reason(student):
    """Why nbgrader's gradebook cannot hold ``student`` as an id (None when it can). nbgrader
    matches submission paths with ``.*`` (no newline) and glob patterns, skips hidden
    folders, keeps ids as UTF-8 text and prints them raw; ids come from folder names."""
    if not isinstance(student, str) or not student:
        return "the student id is empty or not text"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in student):
        return "the folder name is not valid UTF-8"
    controls = [ch for ch in student if unicodedata.category(ch) == "Cc"]
    if controls:
        return f"the folder name contains a control character ({display_name(controls[0])})"
    wildcards = [ch for ch in student if ch in GLOB_CHARACTERS]
    if wildcards:
        return f"the folder name contains '{wildcards[0]}', a wildcard in nbgrader's file patterns"
    if student.startswith("."):
        return "the folder name starts with a dot (nbgrader skips hidden folders)"
    if "/" in student or len(student.encode("utf-8")) > 255:
        return "the student id cannot be a folder name"
    return None


def record(course, assignment, expected, budget=MAX_AUTOGRADE_RUNS, keep_log=False):
    """Autograde the submissions of ``expected`` ({student: the grader's score}, copies
    already in ``submitted/``) until nbgrader's gradebook holds each score, in at most
    ``budget`` nbgrader runs. Returns ({student: why not} for those it does not hold, runs).

    nbgrader goes through students in order; some errors (a malformed metadata schema) stop
    it for every student after the failing one, others only skip that one. So the
    students still unrecorded after a failed run are retried, the first of them alone (the
    likely cause) and the rest together, until each failure is a run of its own: one
    submission nbgrader cannot take costs only itself. After a run that succeeded, a score
    that differs is final (a rerun would give the same). nbgrader's output of failed runs
    goes to ``autograde.log`` (started afresh unless ``keep_log``).
    """
    log = course / "autograde.log"
    if not keep_log:
        log.unlink(missing_ok=True)
    failed, groups, runs = {}, collections.deque([sorted(expected)] if expected else []), 0
    while groups:
        group = groups.popleft()
        if runs >= budget:
            failed.update(dict.fromkeys(group, NOT_RETRIED))
            continue
        runs += 1
        error = autograde(course, assignment, group, log)
        scores = recorded_scores(course, assignment, group)
        left = [s for s in group if scores[s] is None or abs(scores[s] - expected[s]) > 1e-6]
        if error and len(group) > 1:  # another's failure may have kept them out: retry
            groups.extend([left[:1], left[1:]] if len(left) > 1 else [left] if left else [])
            continue
        for student in left:
            failed[student] = (f"nbgrader's autograde failed on it ({error_summary(error)}); "
                               f"details in {log}" if error else
                               f"the gradebook has {scores[student]} autograded points, "
                               f"the grader {expected[student]}")
    return failed, runs


def autograde(course, assignment, students, log):
    """Run nbgrader's autograde on ``students`` only (the others are parked meanwhile).
    Returns None when it succeeded, else its output, which is appended to ``log``."""
    submitted = course / "submitted"
    _park(submitted, course / ".parked", keep=set(students))
    try:
        done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment.name,
                               "--force", "--create"], cwd=course, env=nbgrader_env(),
                              capture_output=True, text=True, encoding="utf-8", errors="replace")
    finally:
        _unpark(submitted, course / ".parked")
    if done.returncode == 0:
        return None
    output = clean_text(f"{done.stdout}\n{done.stderr}")
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"==== nbgrader autograde {assignment.name} of "
                     f"{', '.join(map(display_name, students))}: "
                     f"exit code {done.returncode}\n{output}\n")
    return output


def error_summary(output):
    """The line of nbgrader's output that says what went wrong, shortened: the last
    exception raised, else the first error logged (without its log prefix)."""
    lines = [line.strip() for line in output.splitlines()]
    raised = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", line)]
    logged = [re.sub(r"^\[\w+ \| ERROR\]\s*", "", line) for line in lines if "| ERROR]" in line]
    return (raised[-1] if raised else logged[0] if logged else "no message")[:200]


def result_digest(result):
    """What the gradebook must reflect of a result: its scores and messages (not its
    timing or whether it was reused), so a regrade with other outcomes is recorded."""
    graded = {"status": result.get("status"), "score": result.get("score"),
              "tests": [(t.get("grade_id"), t.get("points"), t.get("status"), t.get("message"))
                        for t in result.get("tests", [])]}
    return hashlib.sha256(json.dumps(graded, sort_keys=True, default=str).encode()).hexdigest()[:32]


def recorded_scores(course, assignment, students):
    """{student: autograded points of ``assignment`` in nbgrader's gradebook, or None when
    not recorded}."""
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", courses.current().course_id) as book:
        for student in students:
            try:
                notebook = book.find_submission_notebook(assignment.notebook, assignment.name,
                                                         student)
                scores[student] = float(notebook.code_score)
            except MissingEntry:
                scores[student] = None
    return scores


def _park(submitted, parked, keep):
    """Move every student folder of ``submitted`` except ``keep`` into ``parked``."""
    parked.mkdir(exist_ok=True)
    for folder in submitted.iterdir():
        if folder.name not in keep and not (parked / folder.name).exists():
            folder.rename(parked / folder.name)


def _unpark(submitted, parked):
    if not parked.exists():
        return
    for folder in parked.iterdir():
        if not (submitted / folder.name).exists():
            folder.rename(submitted / folder.name)
        elif folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)  # a newer copy was written since
        else:
            folder.unlink()
    parked.rmdir()
