"""``--ids``: the students' LMS identifiers, and matching them to the graded students.

The mapping is nbgrader's gradebook (its ``student`` table: id, first_name, last_name,
email, lms_user_id) or a CSV whose header has ``student_id`` and any of
``MAPPING_COLUMNS``. Students are keyed by their real ids: the folder name as the file
system gives it (``autograder.text``; a name that is not plain is shown one-to-one
escaped, e.g. ``Jos\\xe9`` for a Latin-1 byte, ``Jos\\\\xe9`` for a typed backslash). A
mapping's student_id matches the folder of that name; failing that, a folder whose name is
not plain and is shown exactly as that student_id (its escaped spelling), unless the
mapping names that folder by its real name too (``match``).

A mapping that cannot be read (missing, a folder, empty, not UTF-8, NUL bytes, a field
over ``csv.field_size_limit``, no ``student_id`` column, a student_id listed twice, a
``.db`` that is not SQLite, a database without nbgrader's student table) raises
``ExportError``: a one-line error and exit code 2; nothing is written.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import io
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.text import clean_text, display_name, is_plain_name

MAPPING_COLUMNS = ("name", "first_name", "last_name", "email", "canvas_id", "sis_user_id",
                   "sis_login_id", "section", "moodle_id", "idnumber")
MAX_MAPPING_BYTES = 64 << 20  # a roster of any real course is far smaller
SQLITE_MAGIC = b"SQLite format 3\0"
CASELESS = {"email", "sis_login_id"}  # compared without case when looking for duplicates


class ExportError(ValueError):
    """The mapping cannot be used (the one-line message says why)."""


def _shown_path(path: Path) -> str:
    return display_name(str(path))


def read_mapping(path: str | Path) -> dict[str, dict[str, str]]:
    """{student_id: {column: text}} from nbgrader's gradebook or a CSV (see the module doc).
    Raises ExportError with a one-line message for anything that is not such a mapping."""
    path = Path(path)
    shown = _shown_path(path)
    try:
        if path.is_dir():
            raise ExportError(f"the mapping {shown} is a folder, not a file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_MAPPING_BYTES + 1)
    except OSError as exc:
        raise ExportError(f"cannot read the mapping {shown}: {exc.strerror or exc}") from exc
    if len(data) > MAX_MAPPING_BYTES:
        raise ExportError(f"{shown}: over {MAX_MAPPING_BYTES >> 20} MiB: not a mapping of "
                          f"students")
    if data.startswith(SQLITE_MAGIC):
        return _gradebook_mapping(path)
    if path.suffix.lower() in (".db", ".sqlite", ".sqlite3"):
        raise ExportError(f"{shown}: not an SQLite database (nbgrader's gradebook.db is one); "
                          f"give the gradebook or a CSV with a student_id column")
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ExportError(f"{shown}: the file is empty (it needs a header with student_id and "
                          f"one row per student)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(f"{shown}: not UTF-8 text (byte {exc.start}); save it as CSV "
                          f"UTF-8") from exc
    if "\0" in text:
        raise ExportError(f"{shown}: contains NUL bytes, so it is not a CSV text file")
    return _csv_mapping(text, shown)


def _csv_mapping(text: str, shown: str) -> dict[str, dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    mapping: dict[str, dict[str, str]] = {}
    lines: dict[str, int] = {}
    try:
        header = [field.strip() for field in next(reader, [])]
        if "student_id" not in header:
            raise ExportError(f"{shown}: the header must have a student_id column (it has "
                              f"{clean_text(', '.join(header))[:200] or 'nothing'})")
        known = [field for field in header if field in MAPPING_COLUMNS or field == "student_id"]
        twice = sorted({field for field in known if known.count(field) > 1})
        if twice:
            raise ExportError(f"{shown}: the header has {', '.join(twice)} more than once")
        for values in reader:
            line = reader.line_num
            row = dict(zip(header, values))
            student = (row.get("student_id") or "").strip()
            if not student:
                continue
            if student in mapping:
                raise ExportError(f"{shown}, line {line}: student_id {display_name(student)} "
                                  f"is listed twice (also on line {lines[student]})")
            lines[student] = line
            mapping[student] = _names({k: (v or "").strip() for k, v in row.items()
                                       if k in MAPPING_COLUMNS})
    except csv.Error as exc:
        raise ExportError(f"{shown}, line {reader.line_num}: not a readable CSV "
                          f"({clean_text(exc)})") from exc
    return mapping


def _text(value: object) -> str:
    """A database value as text (None as empty)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _gradebook_mapping(path: Path) -> dict[str, dict[str, str]]:
    shown = _shown_path(path)
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute("SELECT id, first_name, last_name, email, lms_user_id "
                              "FROM student").fetchall()
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise ExportError(f"{shown}: not an nbgrader gradebook ({clean_text(exc)})") from exc
    mapping: dict[str, dict[str, str]] = {}
    for sid, first, last, email, lms in rows:
        student = _text(sid)
        if student in mapping:
            raise ExportError(f"{shown}: student id {display_name(student)} listed twice")
        mapping[student] = _names({"first_name": _text(first), "last_name": _text(last),
                                   "email": _text(email), "canvas_id": _text(lms),
                                   "moodle_id": _text(lms)})
    return mapping


def _names(entry: dict[str, str]) -> dict[str, str]:
    entry = {k: entry.get(k, "") for k in MAPPING_COLUMNS}
    full = " ".join(p for p in (entry["first_name"], entry["last_name"]) if p)
    entry["name"] = entry["name"] or full
    return entry


def match(graded: Any, mapping: dict[str, dict[str, str]]
          ) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """({mapping student_id: real student id}, [(graded student as shown, problem)]).

    A mapping's student_id matches the graded student of exactly that id; else a graded
    student whose id is not plain and is shown (``display_name``, one-to-one) exactly as
    that student_id, unless the mapping also names that student by its real id. So no
    student is matched twice, and no two are matched to one row."""
    shown = {display_name(sid): sid for sid in graded}  # one-to-one: nothing lost
    matched: dict[str, str] = {}
    for key in mapping:
        if key in graded:
            matched[key] = key
        elif key in shown and not is_plain_name(shown[key]) and shown[key] not in mapping:
            matched[key] = shown[key]
    taken = set(matched.values())
    problems = []
    for sid in sorted(graded):
        if sid in taken:
            continue
        problem = "graded but not in the mapping"
        if display_name(sid) in mapping:  # the row with that spelling is another folder's
            problem += (f" (the mapping's student_id {display_name(sid)} is the folder "
                        f"shown as {display_name(display_name(sid))}; rename this folder)")
        problems.append((display_name(sid), problem))
    return matched, problems


def identity_missing(identifiers: Sequence[tuple[str, str]], entry: dict[str, str]
                     ) -> str | None:
    """Why ``entry`` lacks every identifier of ``identifiers`` (``OutputFormat.identifiers``),
    or None when it has one or the format needs none."""
    columns = [column for column, _ in identifiers]
    if not columns or any(entry[column] for column in columns):
        return None
    names = columns[-1] if len(columns) == 1 else f"{', '.join(columns[:-1])} or {columns[-1]}"
    return f"no {names} in the mapping"


def shared_identifiers(identifiers: Sequence[tuple[str, str]],
                       students: list[tuple[str, str, dict[str, str]]]
                       ) -> dict[str, list[str]]:
    """{mapping student_id: [problem]} for the students (``[(mapping student_id, real id,
    entry)]``) that share one of ``identifiers`` with another (``CASELESS`` columns compared
    without case): all of them are left out of the file, since the LMS would give one of
    them the other's grade."""
    shared: dict[str, list[str]] = collections.defaultdict(list)
    for column, label in identifiers:
        groups: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
        for key, _, entry in students:
            value = entry[column]
            if value:
                groups[value.casefold() if column in CASELESS else value].append((key, value))
        for members in groups.values():
            if len(members) < 2:
                continue
            for key, value in members:
                others = ", ".join(display_name(k) for k, _ in members if k != key)
                shared[key].append(f"shares its {label} {clean_text(value)} with {others}: "
                                   f"left out of the file (the LMS would give one the "
                                   f"other's grade); fix the mapping")
    return dict(shared)
