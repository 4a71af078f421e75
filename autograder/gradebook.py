"""Putting the sandboxed grades into nbgrader's gradebook, so nbgrader's own tools work.

After ``grade``, ``OUT/nbgrader/`` is an nbgrader course directory: formgrader serves it
for manual grading of the written derivations, ``nbgrader export`` exports it, and
``nbgrader generate_feedback`` / ``release_feedback`` work as usual.

How (the pipeline, in order):

1. ``generate_assignment`` registers the assignment (its cells and points) in the course's
   gradebook, from the instructor's source notebook.
2. Each graded submission is copied to ``submitted/<student>/<assignment>/``. A notebook that
   lost test cells, or could not be read, is rebuilt from the release with the student's
   answer cells, so the gradebook has every cell.
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
"""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from autograder import config
from autograder.build import copy_student_package, nbgrader_env
from autograder.feedback import public_message
from autograder.grading import cell_source, grade_id_of, nbgrader_meta

COURSE_ID = "two_layer_net_course"
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
    """Write the grader's per-test results into the test cells' outputs."""

    outputs_dir = Unicode("", help="the submitted notebooks, with their outputs, and their "
                                   "results, as sync wrote them").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        relative = Path(info["student"]) / info["assignment"] / info["notebook"]
        result = json.loads((Path(self.outputs_dir) / relative).with_suffix(".json").read_text())
        records = {t["grade_id"]: t for t in result["tests"]}
        submitted = _read_or_none((Path(self.outputs_dir) / relative).with_suffix(".ipynb"))
        for index, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            if meta.get("grade") and not meta.get("solution") and meta.get("grade_id") in records:
                cell.outputs = [_output_for(records[meta["grade_id"]])]
            elif submitted is not None and index < len(submitted.cells) \
                    and submitted.cells[index].get("cell_type") == "code":
                cell.outputs = submitted.cells[index].get("outputs", [])
        return nb, resources


def _output_for(record):
    if record["status"] == "passed":
        return nbformat.v4.new_output("stream", name="stdout", text=f"passed: {record['grade_id']}\n")
    message = public_message(record)
    return nbformat.v4.new_output("error", ename=record["status"], evalue=message,
                                  traceback=[f"{record['grade_id']}: {record['status']}", message])


def _read_or_none(path):
    try:
        return nbformat.read(str(path), as_version=4) if path else None
    except Exception:  # unreadable submissions are rebuilt from the release instead
        return None


def submission_for_gradebook(result, release):
    """The notebook to submit: the student's, or rebuilt from the release if any nbgrader
    cell (test, answer or given) is gone or lost its metadata. Tolerates any metadata."""
    # An invalid notebook is never read here (it may be a link to the instructor's source).
    notebook = None if result.get("status") == "invalid_notebook" else _read_or_none(result.get("path"))
    wanted = {grade_id_of(c) for c in release.cells} - {None}
    if notebook is not None:
        try:
            if wanted <= {grade_id_of(c) for c in notebook.cells}:
                return notebook
        except (AttributeError, TypeError):  # cells that are not dicts
            notebook = None
    rebuilt = nbformat.from_dict(release)
    if notebook is not None:
        answers = {grade_id_of(c): c for c in notebook.cells
                   if isinstance(c, dict) and nbgrader_meta(c).get("solution")}
        for cell in rebuilt.cells:
            answer = answers.get(grade_id_of(cell))
            if answer is None:
                continue
            cell.source = cell_source(answer)
            if cell.cell_type == "code" and answer.get("cell_type") == "code" \
                    and isinstance(answer.get("outputs"), list):
                cell.outputs = answer["outputs"]
    return rebuilt


def run_nbgrader(course, *args):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          env=nbgrader_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def source_fingerprint():
    """Hash of what the course's source folder is made from: the notebook and nnlab/."""
    digest = hashlib.sha256(config.SOURCE_NOTEBOOK.read_bytes())
    for path in sorted(config.STUDENT_PACKAGE.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def sync(out, results):
    """Record ``results`` (from batch.grade_all) in OUT/nbgrader's gradebook.

    Returns (path of gradebook.db, list of problems). A submission counts as recorded
    once nbgrader's gradebook holds the grader's score for it: then a marker beside its
    copy in ``outputs/`` gets the digest of its result, so reruns autograde only results
    that changed (or were not recorded before). Submissions
    not in this round are parked outside ``submitted/`` while nbgrader runs, so it
    autogrades exactly this round's (no exclusion lists: ids may contain commas).
    """
    out = Path(out).resolve()
    course = out / "nbgrader"
    assignment = config.ASSIGNMENT
    (course / "source" / assignment).mkdir(parents=True, exist_ok=True)
    (course / "submitted").mkdir(exist_ok=True)
    outputs, parked = course / "outputs", course / ".parked"
    _unpark(course / "submitted", parked)  # after a run that was killed while parked
    (course / "nbgrader_config.py").write_text(COURSE_CONFIG.format(
        root=str(course), outputs=str(outputs), course_id=COURSE_ID))
    source = course / "source" / assignment / f"{config.NOTEBOOK}.ipynb"
    stamp = course / ".source_fingerprint"
    fingerprint = source_fingerprint()
    if not stamp.exists() or stamp.read_text() != fingerprint:
        shutil.copy(config.SOURCE_NOTEBOOK, source)
        shutil.rmtree(course / "source" / assignment / "nnlab", ignore_errors=True)
        copy_student_package(course / "source" / assignment)
        run_nbgrader(course, "generate_assignment", assignment, "--force")
        stamp.write_text(fingerprint)
    release = nbformat.read(str(config.RELEASE_NOTEBOOK), as_version=4)
    problems, markers = [], {}
    for result in results:
        graded_as = result.get("graded_as", result["notebook"])
        student = result["student_id"]
        if result["assignment"] != assignment or graded_as != config.NOTEBOOK:
            continue
        folder = outputs / student / assignment
        marker = folder / f"{config.NOTEBOOK}.synced"
        stamp_text = f"{result_digest(result)}:{fingerprint}"
        if marker.exists() and marker.read_text() == stamp_text:
            continue
        try:
            notebook = submission_for_gradebook(result, release)
            for top in (course / "submitted", outputs):
                (top / student / assignment).mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, str(top / student / assignment / f"{config.NOTEBOOK}.ipynb"))
            (folder / f"{config.NOTEBOOK}.json").write_text(json.dumps(result))
            marker.unlink(missing_ok=True)
        except Exception as exc:  # one odd submission must not keep the others out
            problems.append(f"{student}: not recorded ({type(exc).__name__}: {exc})")
            continue
        markers[student] = (marker, stamp_text, result["score"])
    if markers:
        try:
            _park(course / "submitted", parked, keep=set(markers))
            run_nbgrader(course, "autograde", assignment, "--force", "--create")
        except RuntimeError as exc:  # some may have failed: mark those that were recorded
            problems.append(str(exc))
        finally:
            _unpark(course / "submitted", parked)
        recorded = recorded_scores(course, list(markers))
        for student, (marker, stamp_text, expected) in markers.items():
            if recorded.get(student) is not None and abs(recorded[student] - expected) < 1e-6:
                marker.write_text(stamp_text)
            else:
                problems.append(f"{student}: the gradebook has {recorded.get(student)} "
                                f"autograded points, the grader {expected}; rerun to retry")
    return course / "gradebook.db", problems


def result_digest(result):
    """What the gradebook must reflect of a result: its scores and messages (not its
    timing or whether it was reused), so a regrade with other outcomes is recorded."""
    graded = {"status": result.get("status"), "score": result.get("score"),
              "tests": [(t.get("grade_id"), t.get("points"), t.get("status"), t.get("message"))
                        for t in result.get("tests", [])]}
    return hashlib.sha256(json.dumps(graded, sort_keys=True, default=str).encode()).hexdigest()[:32]


def recorded_scores(course, students):
    """{student: autograded points in nbgrader's gradebook, or None when not recorded}."""
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as book:
        for student in students:
            try:
                notebook = book.find_submission_notebook(config.NOTEBOOK, config.ASSIGNMENT, student)
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
