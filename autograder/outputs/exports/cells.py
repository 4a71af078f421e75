"""The cells of an export file, and the file's bytes.

Every cell is text except the grades and ``Points Possible`` (numbers the exporter
formats). A text cell that a spreadsheet could read as a formula or as a signed number
(``=``, ``+``, ``-``, ``@``, their full-width and small forms, U+2212 MINUS SIGN, tab,
carriage return or newline, also after leading spaces or invisible characters: ``-inf``,
``+nan``, ``-1``, ``=HYPERLINK(...)``) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Union

from autograder.text import clean_text, formula_like, utf8

BOM = b"\xef\xbb\xbf"
Cell = Union[str, float]  # text, or a number the exporter formats (a grade, points possible)


def spreadsheet_text(value: object) -> str:
    """A text cell: made writable (``clean_text``) and given a leading ``'`` when a
    spreadsheet could read it as a formula or a number with a sign
    (``autograder.text.formula_like``)."""
    text = clean_text(value)
    return "'" + text if formula_like(text) else text


def cell_text(value: Cell) -> str:
    """A CSV cell: a number (a grade) formatted; anything else is text, made writable and
    quoted for spreadsheets (``spreadsheet_text``), however much it looks like a number."""
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        return f"{value:g}"
    return spreadsheet_text(value)


def csv_bytes(rows: Sequence[Sequence[Cell]], bom: bool = False) -> bytes:
    """The rows as CSV in UTF-8 (with a byte-order mark when ``bom``)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[cell_text(cell) for cell in row] for row in rows])
    return (BOM if bom else b"") + utf8(buffer.getvalue())
