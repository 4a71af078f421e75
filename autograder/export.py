"""Grades for the institution's tools: a file Canvas or Moodle imports as it is, or a plain CSV.

Usage::

    python -m autograder export OUT --to canvas|moodle|csv --ids MAPPING [--output FILE]
                                [--feedback-url BASE] [--percent] [--include-hidden]

One row per student and ONE COLUMN PER ASSIGNMENT (those of the course with a result in
OUT, course order), holding the total the student sees on the feedback page: autograded
plus the TAs' points for the written answers, i.e. ``total`` of
``OUT/results/<student>/<assignment>/<notebook>.json``. Those totals are refreshed from
the gradebook by ``python -m autograder feedback OUT``: run it after the TAs have graded,
then export. Moodle and the plain CSV also get one feedback column per assignment (status,
autograded and written scores, the total with its maximum, the feedback page); Canvas's
gradebook import takes scores only. ``--percent`` writes each grade as a percentage of its
maximum instead (for a grade item whose maximum is 100).

**Withheld hidden results** (``OUT/release.json``, ``autograder.visibility``): while the
pages withhold them, the export does too. Each grade is then the visible tests' points
plus the written answers, out of their maximum, and the feedback text says that the
hidden tests are not counted yet (how many, worth how much); a warning on stderr says so.
``--include-hidden`` exports the full totals anyway (for grade items students cannot see).

**Students** are keyed by their real ids: the folder name as the file system gives it
(``autograder.text``; a name that is not plain is shown one-to-one escaped, e.g.
``Jos\\xe9`` for a Latin-1 byte, ``Jos\\\\xe9`` for a typed backslash). ``--ids`` is
nbgrader's gradebook (its ``student`` table: id, first_name, last_name, email,
lms_user_id) or a CSV whose header has ``student_id`` and any of ``MAPPING_COLUMNS``. A
mapping's student_id matches the folder of that name; failing that, a folder whose name is
not plain and is shown exactly as that student_id (its escaped spelling), unless the
mapping names that folder by its real name too. Each of these is listed on stderr and in
``<output>.unmatched.csv`` and makes the exit code 3 (the file is still written):

- a student graded but not in the mapping, or in the mapping with no result;
- a student without the identifier the target system needs;
- two or more students sharing one LMS identifier (Canvas ID, SIS User ID, SIS Login ID;
  Moodle ID number, email, user ID): all of them are left out of the file, since the LMS
  would give one of them the other's grade;
- an identifier the file must write with a leading ``'`` (below), which the LMS will not match;
- a total that is not a number (a damaged result file): its cell is left blank.

A mapping that cannot be read (missing, a folder, empty, not UTF-8, NUL bytes, a field
over ``csv.field_size_limit``, no ``student_id`` column, a student_id listed twice, a
``.db`` that is not SQLite, a database without nbgrader's student table) is a one-line
error and exit code 2; nothing is written.

**Cells**: every cell is text except the grades and ``Points Possible`` (numbers the
exporter formats). A text cell that a spreadsheet could read as a formula or as a signed
number (``=``, ``+``, ``-``, ``@``, their full-width and small forms, U+2212 MINUS SIGN,
tab, carriage return or newline, also after leading spaces or invisible characters:
``-inf``, ``+nan``, ``-1``, ``=HYPERLINK(...)``) is written with a leading ``'``.

Formats (decided from the systems' documentation, see docs/lms-exports.md):

- canvas: ``Student, ID, SIS User ID, SIS Login ID, Section``, one column per assignment,
  then a ``Points Possible`` row; UTF-8 with a byte-order mark (what Excel writes as "CSV
  UTF-8", so a file opened and saved there keeps its accented names; not checked against
  a live Canvas here);
- moodle: ``First name, Last name, ID number, Email address, User ID``, then per assignment
  its grade and ``<assignment> (feedback)``; UTF-8, comma separated (choose both at import,
  and map "ID number" to useridnumber, "Email address" to useremail or "User ID" to userid).
  The file carries no maximum: stderr names each grade item's maximum to set in Moodle;
- csv: ``student_id`` (as ``display_name`` shows it), ``name``, ``email``, then per
  assignment its total and ``<assignment> feedback``; UTF-8.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import dataclasses
import io
import math
import sqlite3
import sys
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

from autograder import course, storage, visibility
from autograder.records import RowStatus
from autograder.text import clean_text, display_name, formula_like, is_plain_name, utf8

FORMATS = ("canvas", "moodle", "csv")
MAPPING_COLUMNS = ("name", "first_name", "last_name", "email", "canvas_id", "sis_user_id",
                   "sis_login_id", "section", "moodle_id", "idnumber")
UNMATCHED = 3
BAD_MAPPING = 2
BOM = b"\xef\xbb\xbf"
NOT_GRADED_STATUSES = {RowStatus.UNEXPECTED_NOTEBOOK, RowStatus.UNKNOWN_ASSIGNMENT}
MAX_MAPPING_BYTES = 64 << 20  # a roster of any real course is far smaller
SQLITE_MAGIC = b"SQLite format 3\0"
# The identifiers an LMS matches a row by, per system: (mapping column, column in the file).
IDENTIFIERS = {"canvas": (("canvas_id", "ID"), ("sis_user_id", "SIS User ID"),
                          ("sis_login_id", "SIS Login ID")),
               "moodle": (("idnumber", "ID number"), ("email", "Email address"),
                          ("moodle_id", "User ID")),
               "csv": ()}
CASELESS = {"email", "sis_login_id"}  # compared without case when looking for duplicates
Cell = Union[str, float]  # text, or a number the exporter formats (a grade, points possible)


class ExportError(ValueError):
    """The mapping cannot be used (the one-line message says why)."""


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


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("export", help="grades as a file Canvas, Moodle or a spreadsheet "
                                             "imports: one column per assignment")
    p.add_argument("out", type=Path, help="the OUT folder of `grade`")
    p.add_argument("--to", choices=FORMATS, required=True, help="the target system")
    p.add_argument("--ids", type=Path, required=True, metavar="MAPPING",
                   help="students' LMS ids: nbgrader's gradebook.db (student table) or a CSV "
                        f"with student_id and any of {', '.join(MAPPING_COLUMNS)}")
    p.add_argument("--output", type=Path, default=None,
                   help="the file to write (default: OUT/export/<format>.csv)")
    p.add_argument("--feedback-url", default=None, metavar="BASE",
                   help="the URL where OUT/feedback is published: comments then link "
                        "BASE/<student>/<assignment>/<notebook>.html (default: the page's "
                        "path relative to OUT, feedback/<student>/...)")
    p.add_argument("--percent", action="store_true",
                   help="grades as percentages of each assignment's maximum (for LMS grade "
                        "items whose maximum is 100)")
    p.add_argument("--include-hidden", action="store_true",
                   help="export full totals even while OUT/release.json withholds hidden "
                        "tests' results from the pages (default then: visible tests and "
                        "written answers only)")
    return p


def _finite(value: object) -> float | None:
    """``value`` as a float when it is a finite real number (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def load_results(out: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
    """{student_id: {assignment: result}} from OUT/results, course assignments only, keyed
    by the real student id (the folder name as the file system gives it). Of several
    notebooks of one assignment the one named like it counts, else the best graded."""
    chosen: dict[str, dict[str, dict[str, Any]]] = {}
    for result in storage.saved_results(out, warn=lambda text: print(text, file=sys.stderr)):
        assignment = course.current().get(result["assignment"])
        if assignment is None or result["status"] in NOT_GRADED_STATUSES:
            continue
        rank = (result["notebook"] == assignment.notebook, _rank_total(result))
        slot = chosen.setdefault(result["student_id"], {})
        old = slot.get(assignment.name)
        if old is None or rank > (old["notebook"] == assignment.notebook, _rank_total(old)):
            slot[assignment.name] = result
    return chosen


def _total(result: dict[str, Any]) -> tuple[Any, Any]:
    """(total, its maximum) of a result: autograded plus written, as saved."""
    return result.get("total", result["score"]), result.get("total_max", result["max_score"])


def _rank_total(result: dict[str, Any]) -> tuple[float, float]:
    total, most = _total(result)
    return _finite(total) or 0.0, _finite(most) or 0.0


# ---------------------------------------------------------------------------- the mapping

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


# ---------------------------------------------------------------------------- the file

def _points(value: object) -> float:
    return _finite(value) or 0.0


def comment(result: dict[str, Any], feedback_url: str | None = None) -> str:
    """One line for the student: status, autograded and written scores, total out of its
    maximum, and the feedback page (BASE/<student>/<assignment>/<notebook>.html, else its
    path under OUT). For a ``visibility.visible_only`` result with hidden tests left out,
    the scores and total are the visible part's, and the line says so."""
    withheld = result.get("withheld_tests") or 0
    parts = ["graded" if result["status"] == RowStatus.OK else f"status {result['status']}",
             f"autograded {_points(result['score']):g}/{_points(result['max_score']):g}"
             + (f" (visible tests only: {withheld} hidden test(s) worth "
                f"{_points(result.get('withheld_points')):g} points not released yet)"
                if withheld else "")]
    written = [g for g in result.get("written") or [] if isinstance(g, dict)]
    if written:
        got = sum(_points(g.get("score")) for g in written)
        most = sum(_points(g.get("points")) for g in written)
        waiting = sum(g.get("score") is None for g in written)
        if waiting == len(written):
            parts.append("written answers not graded yet")
        else:
            parts.append(f"written {got:g}/{most:g}"
                         + (f" ({waiting} answer(s) not graded yet)" if waiting else ""))
    total, total_max = _total(result)
    parts.append(f"total {_points(total):g}/{_points(total_max):g}"
                 + (" without the hidden tests" if withheld else ""))
    names = [result["student_id"], result["assignment"], f"{result['notebook']}.html"]
    if feedback_url:
        link = feedback_url.rstrip("/") + "/" + "/".join(
            urllib.parse.quote(n, errors="surrogateescape") for n in names)
    else:
        link = "/".join(["feedback"] + [display_name(n) for n in names])  # relative to OUT
    parts.append(f"feedback: {link}")
    return "; ".join(parts)


def _identity_missing(system: str, entry: dict[str, str]) -> str | None:
    if system == "canvas" and not (entry["canvas_id"] or entry["sis_user_id"]
                                   or entry["sis_login_id"]):
        return "no canvas_id, sis_user_id or sis_login_id in the mapping"
    if system == "moodle" and not (entry["idnumber"] or entry["email"] or entry["moodle_id"]):
        return "no idnumber, email or moodle_id in the mapping"
    return None


def _shared_identifiers(system: str, students: list[tuple[str, str, dict[str, str]]]
                        ) -> dict[str, list[str]]:
    """{mapping student_id: [problem]} for the students (``[(mapping student_id, real id,
    entry)]``) that share an LMS identifier of ``system`` with another."""
    shared: dict[str, list[str]] = collections.defaultdict(list)
    for column, label in IDENTIFIERS[system]:
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


def spreadsheet_text(value: object) -> str:
    """A text cell: made writable (``clean_text``) and given a leading ``'`` when a
    spreadsheet could read it as a formula or a number with a sign
    (``autograder.text.formula_like``)."""
    text = clean_text(value)
    return "'" + text if formula_like(text) else text


def build(out: str | Path, system: str, mapping: dict[str, dict[str, str]],
          feedback_url: str | None = None, *, withhold_hidden: bool = False,
          percent: bool = False) -> Export:
    """The export of OUT for ``system``. ``withhold_hidden``: grades and feedback of the
    visible tests and written answers only (``visibility.visible_only``); ``percent``:
    grades as percentages of their maximum."""
    results = load_results(out)
    if withhold_hidden:
        results = {sid: {name: visibility.visible_only(res) for name, res in slot.items()}
                   for sid, slot in results.items()}
    assignments = [a for a in course.current().assignments
                   if any(a.name in slot for slot in results.values())]
    matched, problems = match(results, mapping)
    candidates = []
    for key, entry in mapping.items():
        if key not in matched:
            problems.append((display_name(key), "in the mapping but no result in OUT"))
        elif missing := _identity_missing(system, entry):
            problems.append((display_name(key), missing))
        else:
            candidates.append((key, matched[key], entry))
    shared = _shared_identifiers(system, candidates)
    for key in shared:
        problems += [(display_name(key), problem) for problem in shared[key]]
    students = [(key, sid, entry) for key, sid, entry in candidates if key not in shared]
    students.sort(key=lambda s: (s[2]["last_name"] or s[2]["name"], s[2]["first_name"], s[0]))
    maxima = {a.name: max((_points(_total(slot[a.name])[1]) for slot in results.values()
                           if a.name in slot), default=0.0) for a in assignments}

    def score(sid: str, a: course.Assignment) -> Cell:
        slot = results[sid]
        if a.name not in slot:
            return ""
        total, most = (_finite(v) for v in _total(slot[a.name]))
        if total is None or most is None:
            problems.append((display_name(sid), f"{a.name}: its total is not a number (a "
                                                f"damaged result file); left blank"))
            return ""
        if percent:
            return round(100 * total / most, 2) if most else 0.0
        return total

    def note(sid: str, a: course.Assignment) -> str:
        slot = results[sid]
        return comment(slot[a.name], feedback_url) if a.name in slot else ""

    for key, _, entry in students:
        for column, label in IDENTIFIERS[system]:
            if entry[column] and formula_like(clean_text(entry[column])):
                problems.append((display_name(key), f"its {label} {clean_text(entry[column])} "
                                 f"starts like a spreadsheet formula, so the file has it with "
                                 f"a leading ' that {system} will not match; fix the mapping"))
    rows: list[Sequence[Cell]]
    if system == "canvas":
        rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
                + [a.name for a in assignments]]
        rows.append(["Points Possible", "", "", "", ""]
                    + [100.0 if percent else maxima[a.name] for a in assignments])
        for key, sid, e in students:
            sortable = ", ".join(p for p in (e["last_name"], e["first_name"]) if p)
            rows.append([sortable or e["name"] or display_name(sid), e["canvas_id"],
                         e["sis_user_id"], e["sis_login_id"], e["section"]]
                        + [score(sid, a) for a in assignments])
    elif system == "moodle":
        rows = [["First name", "Last name", "ID number", "Email address", "User ID"]
                + [c for a in assignments for c in (a.name, f"{a.name} (feedback)")]]
        for key, sid, e in students:
            first, last = (e["first_name"], e["last_name"]) if (e["first_name"] or e[
                "last_name"]) else (e["name"], "")
            rows.append([first, last, e["idnumber"], e["email"], e["moodle_id"]]
                        + [c for a in assignments for c in (score(sid, a), note(sid, a))])
    else:
        rows = [["student_id", "name", "email"]
                + [c for a in assignments for c in (a.name, f"{a.name} feedback")]]
        for key, sid, e in students:
            rows.append([display_name(sid), e["name"], e["email"]]
                        + [c for a in assignments for c in (score(sid, a), note(sid, a))])
    return Export(rows, problems, {a.name: 100.0 if percent else maxima[a.name]
                                   for a in assignments},
                  withheld=withhold_hidden, percent=percent, students=len(students))


def _cell(value: Cell) -> str:
    """A CSV cell: a number (a grade) formatted; anything else is text, made writable and
    quoted for spreadsheets (``spreadsheet_text``), however much it looks like a number."""
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        return f"{value:g}"
    return spreadsheet_text(value)


def csv_bytes(rows: Sequence[Sequence[Cell]], bom: bool = False) -> bytes:
    """The rows as CSV in UTF-8 (with a byte-order mark when ``bom``)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[_cell(cell) for cell in row] for row in rows])
    return (BOM if bom else b"") + utf8(buffer.getvalue())


def unmatched_path(output: Path) -> Path:
    """Where the students the export could not handle are listed, beside ``output``."""
    return output.with_name(output.stem + ".unmatched.csv")


def _maxima_text(maxima: dict[str, float]) -> str:
    return ", ".join(f"{display_name(name)} {most:g}" for name, most in maxima.items())


def run(args: argparse.Namespace) -> int:
    """``export``: 0 when every student is exported, 3 when some are listed as unmatched,
    2 for a mapping that cannot be used, 1 when OUT is not one or the file cannot be written."""
    out = Path(args.out)
    output = Path(args.output or out / "export" / f"{args.to}.csv")
    if not (out / "results").is_dir():
        print(f"error: {display_name(str(out))} has no results/ folder: is it the OUT of "
              f"`grade`?", file=sys.stderr)
        return 1
    withheld = not visibility.hidden_released(out)
    include_hidden = bool(getattr(args, "include_hidden", False))
    try:
        mapping = read_mapping(args.ids)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_MAPPING
    made = build(out, args.to, mapping, args.feedback_url,
                 withhold_hidden=withheld and not include_hidden,
                 percent=bool(getattr(args, "percent", False)))
    try:
        storage.write_atomic(output, csv_bytes(made.rows, bom=args.to == "canvas"))
        storage.write_atomic(unmatched_path(output),
                             csv_bytes([["student_id", "problem"]]
                                       + [list(p) for p in made.problems]))
    except OSError as exc:
        print(f"error: could not write {display_name(str(output))}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    release = display_name(str(visibility.setting_path(out)))
    if withheld and include_hidden:
        print(f"warning: {release} withholds hidden tests' results from the feedback pages, "
              f"but --include-hidden exported the full totals: keep these grade items hidden "
              f"from students until you release the results", file=sys.stderr)
    elif withheld:
        print(f"warning: {release} withholds hidden tests' results, so the export does too: "
              f"each grade is the visible tests' points plus the written answers, out of "
              f"{_maxima_text(made.maxima)}, and the feedback says so. After `feedback "
              f"{display_name(str(out))} --release-hidden`, export again (or pass "
              f"--include-hidden to export full totals now)", file=sys.stderr)
    if args.to == "moodle" and made.students:
        print(f"note: Moodle's import takes no maximum grade: before importing, set the "
              f"maximum grade of each grade item (Gradebook setup, Edit grade item) to: "
              f"{_maxima_text(made.maxima)}"
              + ("" if made.percent else " (a grade item left at its default 100 would read "
                                         "each grade out of 100), or export with --percent "
                                         "and set them to 100"), file=sys.stderr)
    for student, problem in made.problems:
        print(f"unmatched: {student}: {problem}", file=sys.stderr)
    print(f"wrote {display_name(str(output))}: {made.students} student(s)"
          + (f"; {len(made.problems)} unmatched or with a problem, listed in "
             f"{display_name(str(unmatched_path(output)))}" if made.problems else ""))
    return UNMATCHED if made.problems else 0
