"""``--to csv``: a plain CSV for a spreadsheet.

``student_id`` (as ``autograder.text.display_name`` shows it), ``name``, ``email``, then per
assignment its total and ``<assignment> feedback``; UTF-8. No identifier is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograder.outputs.exports.base import OutputFormat, Student
from autograder.outputs.exports.cells import Cell
from autograder.text import display_name


class PlainCsv(OutputFormat):
    """A plain CSV: the student id as shown, name, email, total and feedback."""

    name = "csv"

    def header(self, assignments: Sequence[str]) -> Sequence[Cell]:
        return (["student_id", "name", "email"]
                + [c for a in assignments for c in (a, f"{a} feedback")])

    def row(self, student: Student, assignments: Sequence[str]) -> Sequence[Cell]:
        e = student.entry
        return ([display_name(student.sid), e["name"], e["email"]]
                + [c for a in assignments for c in (student.grade(a), student.feedback(a))])
