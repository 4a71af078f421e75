"""What ``nbgrader autograde`` does for a submission, done in this process for many at once.

nbgrader's autograde, for each submission in ``submitted/<student>/<assignment>/``: creates
the student and the submission (its timestamp from a ``timestamp.txt`` there, if any) in
the gradebook; copies the folder's other files and the assignment's source files (``nnlab/``)
into ``autograded/<student>/<assignment>/``; passes the notebook through its sanitising
steps (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata)
and its autograding steps (Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
SaveAutoGrades, AssignLatePenalties, CheckCellMetadata), validating the notebook after each;
and writes it there read-only. The course replaces Execute with ``InjectResults`` (our
sandboxed results go into the test cells; nothing runs), so TAs who press formgrader's
"autograde" get the same notebook, and nothing of the students' runs outside the sandbox.

Run as a command, that costs a fresh interpreter, a Gradebook opened by each step and a
query and a commit per cell. ``record`` does the same steps for all of one assignment's
pending submissions with the assignment's cells read once, and one SQLite transaction:

- nbgrader's own step objects, made once, for the steps that need no database (ClearOutput,
  DeduplicateIds, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, with nbgrader's
  defaults as the course's configuration leaves them) and for OverwriteCells (answered from
  the cells read once);
- OverwriteKernelspec, CheckCellMetadata, SaveAutoGrades and AssignLatePenalties are done
  here with nbgrader's functions (``determine_grade``, ``compute_checksum``, its metadata
  validator and late-submission plugin), with what they read from and write to the
  gradebook the same: ``auto_score`` and ``auto_comment`` are replaced, ``manual_score`` and
  ``manual_comment`` never touched, and a cell a TA has scored gets ``needs_manual_grade``
  again (so a changed result is reviewed), as nbgrader's SaveAutoGrades does;
- the notebook is validated once, complete (nbconvert validates it after every step; the
  steps before InjectResults only clear outputs or restore what the source has);
- nbgrader's zero for a notebook of the assignment that was not submitted does not arise:
  each assignment of the course is one notebook, and every copy has it.

One submission that fails any step costs only itself: it gets a reason and no row (``sync``
then withdraws its copies). The autograded notebooks are written before the one commit; if
that commit fails, every submission of the pass gets the reason, and the next run records
them again.
"""

import copy
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader import utils
from nbgrader.api import (Comment, Grade, Gradebook, MissingEntry, Student,
                          SubmittedAssignment, SubmittedNotebook)
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (AssignLatePenalties, ClearOutput, DeduplicateIds,
                                    IgnorePattern, LimitOutput, NbGraderPreprocessor,
                                    OverwriteCells)
from traitlets import Unicode

from autograder import course as courses
from autograder.gradebook.notebook import check_metadata, read_or_none
from autograder.outputs.feedback_results import public_message
from autograder.records import Record, TestStatus
from autograder.text import clean_text

LOG = logging.getLogger("autograder.nbgrader_steps")  # nbgrader's chatter, silent as in its own runs
LOG.addHandler(logging.NullHandler())
LOG.propagate = False
READ_ONLY = 0o444  # nbgrader's permissions for autograded files (course not group-shared)


class InjectResults(NbGraderPreprocessor):
    """nbgrader's Execute step in this course (``nbgrader autograde`` run by hand or from
    formgrader): ``inject_results`` with the result and copy that ``sync`` keeps under
    ``outputs_dir``."""

    outputs_dir = Unicode("", help="the submitted notebooks, with their outputs, and their "
                                   "results, as sync wrote them").tag(config=True)

    def preprocess(self, nb: nbformat.NotebookNode,
                   resources: dict[str, Any]) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        info = resources["nbgrader"]
        relative = Path(info["student"]) / info["assignment"] / info["notebook"]
        result = json.loads((Path(self.outputs_dir) / relative).with_suffix(".json").read_text())
        submitted = read_or_none((Path(self.outputs_dir) / relative).with_suffix(".ipynb"))
        return inject_results(nb, result, submitted), resources


def inject_results(nb: nbformat.NotebookNode, result: Record,
                   submitted: nbformat.NotebookNode | None) -> nbformat.NotebookNode:
    """Write ``result``'s per-test outcomes into ``nb``'s test cells (an error, so no points,
    for a test cell the result lacks) and the outputs of ``submitted`` (the copy given to
    nbgrader, outputs included; may be None) into the other code cells, index by index
    (the copy is the same notebook, even when rebuilt from the release). Returns ``nb``."""
    records = {t["grade_id"]: t for t in result["tests"]}
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("grade") and not meta.get("solution"):  # a test: no record, no points
            cell.outputs = [_output_for(records.get(meta.get("grade_id"), {
                "grade_id": meta.get("grade_id"), "status": TestStatus.NOT_RUN, "hidden": False,
                "message": "not graded: the grader has no such test"}))]
        elif submitted is not None and index < len(submitted.cells) \
                and submitted.cells[index].get("cell_type") == "code":
            cell.outputs = submitted.cells[index].get("outputs", [])
    return nb


def _output_for(record: Record) -> nbformat.NotebookNode:
    """A test cell's output: a stream when it passed, else an error (no points). Made as
    nbformat's ``new_output`` makes it, without its validation of each output: the whole
    notebook is validated once it is complete."""
    if record["status"] == TestStatus.PASSED:
        return nbformat.NotebookNode(output_type="stream", name="stdout",
                                     text=f"passed: {record['grade_id']}\n")
    message = clean_text(public_message(record) or "")  # nbgrader writes it as UTF-8
    return nbformat.NotebookNode(output_type="error", ename=record["status"], evalue=message,
                                 traceback=[f"{record['grade_id']}: {record['status']}", message])


class _OverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells (locked cells, points, cell types and checksums restored
    from the source), asking ``cells`` instead of a Gradebook it would open per notebook."""

    def __init__(self, cells: "AssignmentCells", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        assert not self.add_missing_cells, "the copies hold every cell: nothing to add back"
        self.gradebook = cells

    def preprocess(self, nb: nbformat.NotebookNode,
                   resources: dict[str, Any]) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        return NbGraderPreprocessor.preprocess(self, nb, resources)  # the cell by cell part


class AssignmentCells:
    """One assignment notebook's cells in the gradebook, read once: what OverwriteCells and
    the recording of grades ask for."""

    def __init__(self, book: Gradebook, assignment: courses.Assignment) -> None:
        notebook = book.find_notebook(assignment.notebook, assignment.name)
        self.notebook, self.row = assignment.notebook, notebook
        self.assignment = notebook.assignment
        self.source = {cell.name: cell for cell in notebook.source_cells}
        self.graded = {cell.name: cell for cell in notebook.grade_cells + notebook.task_cells}
        self.names = {cell.id: cell.name for cell in
                      notebook.grade_cells + notebook.solution_cells + notebook.task_cells}
        self.code_tests = {c.name for c in notebook.grade_cells if c.cell_type == "code"}
        self.kernelspec = json.loads(notebook.kernelspec) if notebook.kernelspec else None

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> Any:
        if name not in self.source:
            raise MissingEntry(f"No such source cell: {assignment}/{notebook}/{name}")
        return self.source[name]

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> Any:
        if name not in self.graded:
            raise MissingEntry(f"No such graded cell: {assignment}/{notebook}/{name}")
        return self.graded[name]


class Recorder:
    """The autograde steps of one assignment, made once (see the module docstring)."""

    def __init__(self, course: str | os.PathLike[str], assignment: courses.Assignment,
                 cells: AssignmentCells) -> None:
        self.course, self.assignment, self.cells = Path(course), assignment, cells
        self.sanitize = [ClearOutput(log=LOG), DeduplicateIds(log=LOG), _OverwriteCells(cells, log=LOG)]
        self.autograde = [IgnorePattern(log=LOG), ClearMetadataPreprocessor(log=LOG), LimitOutput(log=LOG)]
        self.ignore = CourseDirectory(log=LOG).ignore
        source = self.course / "source" / assignment.name
        self.source_files = _other_files(source, self.ignore)

    def autograded(self, student: str, text: str, result: Record,
                   ) -> tuple[nbformat.NotebookNode, dict[str, float], dict[str, str | None]]:
        """(the autograded notebook, {grade_id: auto_score}, {grade_id: auto_comment}) of the
        copy ``text`` of ``student``'s submission; raises what nbgrader's steps would."""
        submitted = nbformat.reads(text, as_version=4)
        nb = copy.deepcopy(submitted)
        resources = {"nbgrader": {"student": student, "assignment": self.assignment.name,
                                  "notebook": self.assignment.notebook}}
        for step in self.sanitize:
            nb, resources = step(nb, resources)
        if self.cells.kernelspec:  # OverwriteKernelspec
            nb.metadata["kernelspec"] = copy.deepcopy(self.cells.kernelspec)
        check_metadata(nb)
        nb = inject_results(nb, result, submitted)
        for step in self.autograde:
            nb, resources = step(nb, resources)
        check_metadata(nb)
        nbformat.validate(nb, relax_add_props=True)  # what nbconvert checks after each step
        scores = {cell.metadata.nbgrader["grade_id"]: utils.determine_grade(cell, LOG)[0]
                  for cell in nb.cells if utils.is_grade(cell)}
        comments = {cell.metadata.nbgrader["grade_id"]: _auto_comment(cell)
                    for cell in nb.cells if utils.is_solution(cell) or utils.is_task(cell)}
        return nb, scores, comments

    def write(self, student: str, nb: nbformat.NotebookNode) -> None:
        """Write ``autograded/<student>/<assignment>/`` as nbgrader does: afresh, the
        submitted folder's other files and the source's, the notebook, all read-only."""
        name = self.assignment.name
        submitted = self.course / "submitted" / student / name
        dest = self.course / "autograded" / student / name
        shutil.rmtree(dest, ignore_errors=True)
        for base, files in ((submitted, _other_files(submitted, self.ignore)), (self.course / "source" / name,
                                                                             self.source_files)):
            for relative in files:
                (dest / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(base / relative, dest / relative)
        dest.mkdir(parents=True, exist_ok=True)
        text = nbformat.writes(nb, version=4)
        (dest / f"{self.assignment.notebook}.ipynb").write_text(
            text if text.endswith("\n") else text + "\n", encoding="utf-8")
        for folder, _, filenames in os.walk(dest):
            for filename in filenames:
                os.chmod(os.path.join(folder, filename), READ_ONLY)

    def timestamp(self, student: str) -> Any:
        """The submission's time from ``submitted/.../timestamp.txt``, as nbgrader reads it
        (None without one; raises ValueError when it is not a time)."""
        path = self.course / "submitted" / student / self.assignment.name / "timestamp.txt"
        text = path.read_text().strip() if path.is_file() else ""
        return utils.parse_utc(text) if text else None


def _auto_comment(cell: nbformat.NotebookNode) -> str | None:
    """SaveAutoGrades' comment: "No response." for an answer left as released."""
    unchanged = cell.metadata.nbgrader.get("checksum", None) == utils.compute_checksum(cell)
    return "No response." if unchanged and not utils.is_task(cell) else None


def _other_files(folder: Path, ignore: list[str]) -> list[Path]:
    """The files of ``folder`` other than notebooks, as nbgrader copies them (relative)."""
    if not folder.is_dir():
        return []
    return sorted(Path(path).relative_to(folder)
                  for path in utils.find_all_files(str(folder), ignore + ["*.ipynb"]))


def record(course: str | os.PathLike[str], assignment: courses.Assignment,
           pending: dict[str, tuple[Record, str]]) -> dict[str, str]:
    """Record ``pending`` ({student: (result, text of its copy in ``submitted/``)}) of
    ``assignment`` in ``course``'s gradebook as nbgrader's autograde would. Returns
    {student: why it is not recorded}; every other one is, in one transaction."""
    failed, made = {}, {}
    database = Path(course) / "gradebook.db"
    with Gradebook(f"sqlite:///{database}", courses.current().course_id) as book:
        cells = AssignmentCells(book, assignment)
        recorder = Recorder(course, assignment, cells)
        for student in sorted(pending):
            result, text = pending[student]
            try:
                nb, scores, comments = recorder.autograded(student, text, result)
                points = sum(scores.get(name) or 0.0 for name in cells.code_tests)
                if abs(points - float(result["score"])) > 1e-6:
                    failed[student] = (f"the gradebook would have {points:g} autograded points, "
                                       f"the grader {result['score']:g}")
                    continue
                made[student] = (scores, comments, recorder.timestamp(student))
                recorder.write(student, nb)
            except Exception as exc:  # nbgrader's steps raise many types; it costs only this one
                made.pop(student, None)
                failed[student] = f"nbgrader would not take it ({type(exc).__name__}: " \
                                  f"{clean_text(str(exc))[:300]})"
        try:
            _save(book, cells, made)
        except Exception as exc:  # a locked or damaged database: none of this pass is recorded
            book.db.rollback()
            failed.update(dict.fromkeys(made, f"the gradebook could not be written "
                                              f"({type(exc).__name__}: {clean_text(str(exc))[:300]})"))
    return failed


def _save(book: Gradebook, cells: AssignmentCells, made: dict[str, tuple[Any, ...]]) -> None:
    """Students, submissions, grades and comments of ``made`` ({student: (scores, comments,
    timestamp)}) into the gradebook, as nbgrader's autograde leaves them; one commit."""
    if not made:
        return
    db, assignment = book.db, cells.assignment
    known = {student_id for (student_id,) in db.query(Student.id)}
    submissions = {s.student_id: s for s in db.query(SubmittedAssignment)
                   .filter(SubmittedAssignment.assignment_id == assignment.id)}
    rows = {}
    for student, (_, _, timestamp) in made.items():
        if student not in known:
            db.add(Student(id=student))
        submission = submissions.get(student) or _new_submission(db, assignment, student)
        if timestamp is not None:
            submission.timestamp = timestamp
        rows[student] = submission
    db.flush()
    ids = [rows[student].id for student in made]
    notebooks = {n.assignment_id: n for n in db.query(SubmittedNotebook).filter(
        SubmittedNotebook.notebook_id == cells.row.id, SubmittedNotebook.assignment_id.in_(ids))}
    by_notebook: dict[tuple[Any, str], dict[str, Any]] = {}
    mine = [n.id for n in notebooks.values()]
    for kind, table in (("grade", Grade), ("comment", Comment)):
        for row in db.query(table).filter(table.notebook_id.in_(mine)):
            by_notebook.setdefault((row.notebook_id, kind), {})[cells.names[row.cell_id]] = row
    late = AssignLatePenalties(log=LOG)
    late.init_plugin()
    for student, (scores, comments, _) in made.items():
        notebook = notebooks[rows[student].id]
        grades = by_notebook.get((notebook.id, "grade"), {})
        for name, auto_score in scores.items():  # SaveAutoGrades
            grades[name].auto_score = auto_score
            grades[name].needs_manual_grade = grades[name].manual_score is not None or auto_score is None
        for name, auto_comment in comments.items():
            by_notebook[(notebook.id, "comment")][name].auto_comment = auto_comment
        notebook.late_submission_penalty = None  # AssignLatePenalties, for one on time
    db.flush()
    for student in made:  # AssignLatePenalties, for one late: nbgrader's plugin on the new score
        seconds = rows[student].total_seconds_late
        if seconds > 0:
            notebook = notebooks[rows[student].id]
            db.expire(notebook)
            penalty = late.plugin_inst.late_submission_penalty(student, notebook.score, seconds)
            notebook.late_submission_penalty = (None if penalty is None else
                                                late._check_late_penalty(notebook, penalty))  # noqa: SLF001
    db.commit()


def _new_submission(db: Any, assignment: Any, student: str) -> Any:
    """A submission with a notebook, grades and comments for every cell of the assignment,
    as ``Gradebook.add_submission`` makes one (without its commit)."""
    with db.no_autoflush:  # the rows are flushed together, once complete
        submission = SubmittedAssignment(assignment=assignment, student_id=student)
        for notebook in assignment.notebooks:
            submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
            for cell in notebook.grade_cells:
                Grade(cell_id=cell.id, notebook=submitted)
            for cell in notebook.solution_cells:
                Comment(cell_id=cell.id, notebook=submitted)
            for cell in notebook.task_cells:
                Comment(cell_id=cell.id, notebook=submitted)
                Grade(cell_id=cell.id, notebook=submitted)
        db.add(submission)
    return submission
