"""``--to canvas``: Canvas's gradebook import.

``Student, ID, SIS User ID, SIS Login ID, Section``, one column per assignment, then a
``Points Possible`` row; UTF-8 with a byte-order mark (what Excel writes as "CSV UTF-8", so
a file opened and saved there keeps its accented names; not checked against a live Canvas
here). Scores only: Canvas's gradebook import takes no feedback. A row is matched by its
Canvas ID, SIS User ID or SIS Login ID.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from autograder.outputs.exports.base import OutputFormat, Student
from autograder.outputs.exports.cells import Cell
from autograder.text import display_name


class Canvas(OutputFormat):
    """Canvas: scores only, a ``Points Possible`` row, a byte-order mark."""

    name = "canvas"
    identifiers = (("canvas_id", "ID"), ("sis_user_id", "SIS User ID"),
                   ("sis_login_id", "SIS Login ID"))
    bom = True

    def header(self, assignments: Sequence[str]) -> Sequence[Cell]:
        return ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments]

    def maximum_rows(self, assignments: Sequence[str],
                     maxima: Mapping[str, float]) -> list[Sequence[Cell]]:
        return [["Points Possible", "", "", "", ""] + [maxima[a] for a in assignments]]

    def row(self, student: Student, assignments: Sequence[str]) -> Sequence[Cell]:
        e = student.entry
        sortable = ", ".join(p for p in (e["last_name"], e["first_name"]) if p)
        return ([sortable or e["name"] or display_name(student.sid), e["canvas_id"],
                 e["sis_user_id"], e["sis_login_id"], e["section"]]
                + [student.grade(a) for a in assignments])
