"""What an output format is (``OutputFormat``: one class per target system, registered by
name in ``autograder.outputs.exports``), what it is given for each student (``Student``), and what
``build`` makes (``Export``)."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from autograder.outputs.exports.cells import Cell, csv_bytes
from autograder.text import display_name


@dataclasses.dataclass
class Export:
    """What ``build`` makes: the file's rows, the students it could not export properly
    ``[(student as shown, problem)]``, each assignment's grade maximum (100 with
    ``percent``), and whether hidden tests' results were left out."""

    rows: list[Sequence[Cell]]
    problems: list[tuple[str, str]]
    maxima: dict[str, float]
    withheld: bool = False
    percent: bool = False
    students: int = 0


@dataclasses.dataclass(frozen=True)
class Student:
    """One student row to write. ``key``: the mapping's student_id; ``sid``: the real
    student id (the folder); ``entry``: the mapping's columns (every one of
    ``mapping.MAPPING_COLUMNS``, empty when not given). ``grade(assignment)``: the grade
    cell (a number, or blank when not graded or when the total is damaged: that is then
    reported); ``feedback(assignment)``: the comment (``results.comment``), blank when not
    graded."""

    key: str
    sid: str
    entry: Mapping[str, str]
    grade: Callable[[str], Cell]
    feedback: Callable[[str], str]


class OutputFormat(abc.ABC):
    """A file format an LMS or a spreadsheet imports. The file is ``header``, then
    ``maximum_rows``, then one ``row`` per student (sorted by name), as ``encode`` writes
    it; ``notes`` are printed on stderr after the file is written. A format is used by its
    ``name`` (``--to NAME``) once ``autograder.outputs.exports.register`` has it."""

    name: ClassVar[str]
    """The format's name: ``export --to NAME``, and the default file ``OUT/export/NAME.csv``."""
    identifiers: ClassVar[tuple[tuple[str, str], ...]] = ()
    """The identifiers the LMS matches a row by: (mapping column, its column in the file).
    A student with none of them is not exported; students sharing one are left out; one the
    file must write with a leading ``'`` is reported. Empty: no identifier needed."""
    bom: ClassVar[bool] = False
    """Whether ``encode`` starts the file with a UTF-8 byte-order mark."""

    @abc.abstractmethod
    def header(self, assignments: Sequence[str]) -> Sequence[Cell]:
        """The header row, for the assignments (course order) that have results."""

    def maximum_rows(self, assignments: Sequence[str],
                     maxima: Mapping[str, float]) -> list[Sequence[Cell]]:
        """Rows after the header giving each assignment's maximum (100 with ``--percent``);
        none by default."""
        return []

    @abc.abstractmethod
    def row(self, student: Student, assignments: Sequence[str]) -> Sequence[Cell]:
        """One student's row."""

    def encode(self, rows: Sequence[Sequence[Cell]]) -> bytes:
        """The file's bytes: CSV in UTF-8, with a byte-order mark when ``bom``."""
        return csv_bytes(rows, bom=self.bom)

    def notes(self, made: Export) -> list[str]:
        """Lines for stderr about importing the file ``made`` is (none by default)."""
        return []


def maxima_text(maxima: Mapping[str, float]) -> str:
    """``assignment maximum, ...`` for messages."""
    return ", ".join(f"{display_name(name)} {most:g}" for name, most in maxima.items())
