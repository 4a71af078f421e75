"""Written answers, graded by TAs in nbgrader's formgrader, read back from the gradebook.

The written answers are the release's "manually graded answer" cells (nbgrader marks them
``grade`` and ``solution``; in this course they are Markdown derivations). TAs score and
comment them in formgrader, which stores both in ``OUT/nbgrader/gradebook.db``. This
module reads them so that ``grades.csv`` and the student's one feedback page show the
whole grade: autograded tests + written answers = the total nbgrader also computes.

A written answer not graded yet has ``score`` None: it counts 0 in the total so far, and
the page says it is still to be graded.
"""

import dataclasses
import functools
import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import nbformat

from autograder import course
from autograder.cells import grade_id_of, nbgrader_meta
from autograder.records import total_of
from autograder.text import unsafe_id_reason


@dataclasses.dataclass(frozen=True)
class WrittenCell:
    """A manually graded answer cell of the release."""

    grade_id: str
    points: float


@dataclasses.dataclass(frozen=True)
class WrittenGrade:
    """One student's grade for one written answer.

    ``score``: the TA's points (with extra credit), None until a TA grades it;
    ``comment``: the TA's feedback (Markdown), "" when there is none.
    """

    grade_id: str
    points: float
    score: float | None
    comment: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@functools.lru_cache(maxsize=None)
def _written_cells(release_path: Path, modified: int) -> list[WrittenCell]:
    # ``modified``: a rebuilt release is read anew
    release = nbformat.read(str(release_path), as_version=4)
    return [WrittenCell(grade_id_of(cell),  # type: ignore[arg-type]  # has one (below)
                        float(nbgrader_meta(cell).get("points") or 0))
            for cell in release.cells
            if nbgrader_meta(cell).get("grade") and nbgrader_meta(cell).get("solution")
            and grade_id_of(cell)]


def written_cells(assignment: course.Assignment) -> list[WrittenCell]:
    """``assignment``'s manually graded answer cells (from its release), notebook order."""
    path = assignment.release_notebook
    return list(_written_cells(path, path.stat().st_mtime_ns))


def ungraded(cells: Iterable[WrittenCell]) -> list[WrittenGrade]:
    return [WrittenGrade(cell.grade_id, cell.points, None, "") for cell in cells]


def read_gradebook(course_dir: str | os.PathLike[str], assignment: course.Assignment,
                   students: Collection[str],
                   cells: list[WrittenCell]) -> dict[str, list[WrittenGrade]]:
    """{student: [WrittenGrade per cell]} of ``assignment`` from the gradebook of the
    course directory ``course_dir``; a student the gradebook does not hold (or no gradebook
    at all) gets every answer ungraded."""
    database = Path(course_dir) / "gradebook.db"
    found = {student: ungraded(cells) for student in students}
    if not database.is_file() or not cells:
        return found
    from nbgrader.api import Gradebook, MissingEntry  # heavy (SQLAlchemy): only when needed
    try:
        with Gradebook(f"sqlite:///{database}", course.current().course_id) as book:
            for student in students:
                if unsafe_id_reason(student):  # never recorded: nothing to read
                    continue
                try:
                    notebook = book.find_submission_notebook(assignment.notebook,
                                                             assignment.name, student)
                except MissingEntry:
                    continue
                grades = {grade.name: grade for grade in notebook.grades}
                comments = {comment.name: comment for comment in notebook.comments}
                found[student] = [_written(cell, grades.get(cell.grade_id),
                                           comments.get(cell.grade_id)) for cell in cells]
    except Exception as exc:  # a damaged gradebook must not stop grading: say so
        raise GradebookUnreadable(f"the TAs' grades could not be read from {database} "
                                  f"({type(exc).__name__}: {str(exc)[:300]})") from exc
    return found


class GradebookUnreadable(RuntimeError):
    """OUT's gradebook exists but cannot be read."""


def _written(cell: WrittenCell, grade: Any, comment: Any) -> WrittenGrade:
    score = None
    if grade is not None and grade.manual_score is not None:
        score = float(grade.manual_score) + float(grade.extra_credit or 0.0)
    text = (comment.manual_comment or "") if comment is not None else ""
    return WrittenGrade(cell.grade_id, cell.points, score, text)


def add_totals(result: dict[str, Any], written: Sequence[WrittenGrade]) -> dict[str, Any]:
    """Put the written grades and the total (autograded + written) into ``result``."""
    result["written"] = [grade.to_dict() for grade in written]
    result["total"] = total_of(result["score"], (g.score for g in written))
    result["total_max"] = result["max_score"] + sum(g.points for g in written)
    return result
