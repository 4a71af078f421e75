"""``--to moodle``: Moodle's grade import (Grade administration, Import, CSV file).

``First name, Last name, ID number, Email address, User ID``, then per assignment its grade
and ``<assignment> (feedback)``; UTF-8, comma separated (choose both at import, and map "ID
number" to useridnumber, "Email address" to useremail or "User ID" to userid). The file
carries no maximum: stderr names each grade item's maximum to set in Moodle.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograder.outputs.exports.base import Export, OutputFormat, Student, maxima_text
from autograder.outputs.exports.cells import Cell


class Moodle(OutputFormat):
    """Moodle: grade and feedback per assignment; the maxima to set are printed."""

    name = "moodle"
    identifiers = (("idnumber", "ID number"), ("email", "Email address"),
                   ("moodle_id", "User ID"))

    def header(self, assignments: Sequence[str]) -> Sequence[Cell]:
        return (["First name", "Last name", "ID number", "Email address", "User ID"]
                + [c for a in assignments for c in (a, f"{a} (feedback)")])

    def row(self, student: Student, assignments: Sequence[str]) -> Sequence[Cell]:
        e = student.entry
        first, last = ((e["first_name"], e["last_name"]) if e["first_name"] or e["last_name"]
                       else (e["name"], ""))
        return ([first, last, e["idnumber"], e["email"], e["moodle_id"]]
                + [c for a in assignments for c in (student.grade(a), student.feedback(a))])

    def notes(self, made: Export) -> list[str]:
        if not made.students:
            return []
        return [f"note: Moodle's import takes no maximum grade: before importing, set the "
                f"maximum grade of each grade item (Gradebook setup, Edit grade item) to: "
                f"{maxima_text(made.maxima)}"
                + ("" if made.percent else " (a grade item left at its default 100 would read "
                                           "each grade out of 100), or export with --percent "
                                           "and set them to 100")]
