"""Grades for the institution's tools: a file Canvas or Moodle imports as it is, or a plain CSV.

  python -m autograder export OUT --to canvas|moodle|csv --ids MAPPING [--output FILE]
                              [--feedback-url BASE]

One row per student and ONE COLUMN PER ASSIGNMENT (those of the course with a result in
OUT, course order), holding the total the student sees on the feedback page: autograded
plus the TAs' points for the written answers, i.e. ``total`` of
``OUT/results/<student>/<assignment>/<notebook>.json``. Those totals are refreshed from
the gradebook by ``python -m autograder feedback OUT``: run it after the TAs have graded,
then export. Moodle and the plain CSV also get one feedback column per assignment (status,
autograded and written scores, the feedback page); Canvas's gradebook import takes scores
only.

Students are matched by ``--ids``: nbgrader's gradebook (its ``student`` table: id,
first_name, last_name, email, lms_user_id) or a CSV whose header has ``student_id`` and
any of ``MAPPING_COLUMNS``. A student graded but not in the mapping, in the mapping with no
result, or without the identifier the target system needs is listed on stderr and in
``<output>.unmatched.csv``; the exit code is then 3 (the file is still written).

Formats (decided from the systems' documentation, see the README):

- canvas: ``Student, ID, SIS User ID, SIS Login ID, Section``, one column per assignment,
  then a ``Points Possible`` row; UTF-8 with a byte-order mark (what Excel writes as "CSV
  UTF-8", so a file opened and saved there keeps its accented names; not checked against
  a live Canvas here);
- moodle: ``First name, Last name, ID number, Email address, User ID``, then per assignment
  its grade and ``<assignment> (feedback)``; UTF-8, comma separated (choose both at import,
  and map "ID number" to useridnumber, "Email address" to useremail or "User ID" to userid);
- csv: ``student_id``, ``name``, ``email``, then per assignment its total and
  ``<assignment> feedback``; UTF-8.
"""

import csv
import io
import sqlite3
import sys
import urllib.parse
from pathlib import Path

from autograder import course, storage
from autograder.text import clean_text, display_name, utf8

FORMATS = ("canvas", "moodle", "csv")
MAPPING_COLUMNS = ("name", "first_name", "last_name", "email", "canvas_id", "sis_user_id",
                   "sis_login_id", "section", "moodle_id", "idnumber")
UNMATCHED = 3
BOM = b"\xef\xbb\xbf"
NOT_GRADED_STATUSES = {"unexpected_notebook", "unknown_assignment"}


class ExportError(ValueError):
    """The mapping or OUT cannot be used (the message says why)."""


def add_parser(subparsers):
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
    return p


def load_results(out):
    """{student_id: {assignment: result}} from OUT/results, course assignments only. Of
    several notebooks of one assignment the one named like it counts, else the best graded."""
    chosen = {}
    for result in storage.saved_results(out, warn=lambda text: print(text, file=sys.stderr)):
        assignment = course.current().get(result["assignment"])
        if assignment is None or result["status"] in NOT_GRADED_STATUSES:
            continue
        rank = (result["notebook"] == assignment.notebook, _total(result))
        slot = chosen.setdefault(result["student_id"], {})
        old = slot.get(assignment.name)
        if old is None or rank > (old["notebook"] == assignment.notebook, _total(old)):
            slot[assignment.name] = result
    return chosen


def _total(result):
    return result.get("total", result["score"]), result.get("total_max", result["max_score"])


def read_mapping(path):
    """{student_id: {column: text}} from nbgrader's gradebook or a CSV (see the module doc)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise ExportError(f"cannot read the mapping {path}: {exc.strerror or exc}") from exc
    if head == b"SQLite format 3\0":
        return _gradebook_mapping(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path}: not UTF-8 text ({exc}); save it as CSV UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [f.strip() for f in reader.fieldnames or []]
    if "student_id" not in fields:
        raise ExportError(f"{path}: the header must have a student_id column (it has "
                          f"{', '.join(fields) or 'nothing'})")
    reader.fieldnames = fields
    mapping = {}
    for number, row in enumerate(reader, start=2):
        entry = {k: (v or "").strip() for k, v in row.items() if k in MAPPING_COLUMNS}
        student = (row.get("student_id") or "").strip()
        if not student:
            continue
        if student in mapping:
            raise ExportError(f"{path}, line {number}: student_id {student!r} listed twice")
        mapping[student] = _names(entry)
    return mapping


def _gradebook_mapping(path):
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT id, first_name, last_name, email, lms_user_id "
                              "FROM student").fetchall()
    except sqlite3.Error as exc:
        raise ExportError(f"{path}: not an nbgrader gradebook ({exc})") from exc
    return {sid: _names({"first_name": first or "", "last_name": last or "",
                         "email": email or "", "canvas_id": str(lms or ""),
                         "moodle_id": str(lms or "")})
            for sid, first, last, email, lms in rows}


def _names(entry):
    entry = {k: entry.get(k, "") for k in MAPPING_COLUMNS}
    full = " ".join(p for p in (entry["first_name"], entry["last_name"]) if p)
    entry["name"] = entry["name"] or full
    return entry


def comment(result, feedback_url=None):
    """One line for the student: status, autograded and written scores, total, and the
    feedback page (BASE/<student>/<assignment>/<notebook>.html, else its path under OUT)."""
    parts = ["graded" if result["status"] == "ok" else f"status {result['status']}",
             f"autograded {result['score']:g}/{result['max_score']:g}"]
    written = result.get("written") or []
    if written:
        got = sum(g.get("score") or 0 for g in written)
        most = sum(g.get("points") or 0 for g in written)
        waiting = sum(g.get("score") is None for g in written)
        if waiting == len(written):
            parts.append("written answers not graded yet")
        else:
            parts.append(f"written {got:g}/{most:g}"
                         + (f" ({waiting} answer(s) not graded yet)" if waiting else ""))
    total, total_max = _total(result)
    parts.append(f"total {total:g}/{total_max:g}")
    names = [result["student_id"], result["assignment"], f"{result['notebook']}.html"]
    if feedback_url:
        link = feedback_url.rstrip("/") + "/" + "/".join(
            urllib.parse.quote(n, errors="surrogateescape") for n in names)
    else:
        link = display_name("/".join(["feedback", *names]))  # relative to OUT
    parts.append(f"feedback: {link}")
    return "; ".join(parts)


def _identity_missing(system, entry):
    if system == "canvas" and not (entry["canvas_id"] or entry["sis_user_id"]
                                   or entry["sis_login_id"]):
        return "no canvas_id, sis_user_id or sis_login_id in the mapping"
    if system == "moodle" and not (entry["idnumber"] or entry["email"] or entry["moodle_id"]):
        return "no idnumber, email or moodle_id in the mapping"
    return None


def build(out, system, mapping, feedback_url=None):
    """(rows of the file, [(student_id, problem)]) for ``system``."""
    results = load_results(out)
    by_name = {display_name(sid): sid for sid in results}
    assignments = [a for a in course.current().assignments
                   if any(a.name in slot for slot in results.values())]
    problems = [(name, "graded but not in the mapping") for name in sorted(by_name)
                if name not in mapping]
    students = []
    for sid, entry in mapping.items():
        if sid not in by_name:
            problems.append((sid, "in the mapping but no result in OUT"))
        elif missing := _identity_missing(system, entry):
            problems.append((sid, missing))
        else:
            students.append((sid, entry, results[by_name[sid]]))
    students.sort(key=lambda s: (s[1]["last_name"] or s[1]["name"], s[1]["first_name"], s[0]))

    def score(slot, a):
        return f"{_total(slot[a.name])[0]:g}" if a.name in slot else ""

    def note(slot, a):
        return comment(slot[a.name], feedback_url) if a.name in slot else ""

    if system == "canvas":
        rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
                + [a.name for a in assignments]]
        possible = [max(_total(s[a.name])[1] for s in results.values() if a.name in s)
                    for a in assignments]
        rows.append(["Points Possible", "", "", "", ""] + [f"{p:g}" for p in possible])
        for sid, e, slot in students:
            sortable = ", ".join(p for p in (e["last_name"], e["first_name"]) if p)
            rows.append([sortable or e["name"] or sid, e["canvas_id"], e["sis_user_id"],
                         e["sis_login_id"], e["section"]] + [score(slot, a) for a in assignments])
    elif system == "moodle":
        rows = [["First name", "Last name", "ID number", "Email address", "User ID"]
                + [c for a in assignments for c in (a.name, f"{a.name} (feedback)")]]
        for sid, e, slot in students:
            first, last = (e["first_name"], e["last_name"]) if (e["first_name"] or e[
                "last_name"]) else (e["name"], "")
            rows.append([first, last, e["idnumber"], e["email"], e["moodle_id"]]
                        + [c for a in assignments for c in (score(slot, a), note(slot, a))])
    else:
        rows = [["student_id", "name", "email"]
                + [c for a in assignments for c in (a.name, f"{a.name} feedback")]]
        for sid, e, slot in students:
            rows.append([sid, e["name"], e["email"]]
                        + [c for a in assignments for c in (score(slot, a), note(slot, a))])
    return rows, problems


def _cell(value):
    """A CSV cell: text made writable, and a text that is not a number but starts like a
    formula (= + - @) quoted for spreadsheets (storage.spreadsheet_safe)."""
    text = clean_text(value)
    try:
        float(text)
        return text
    except ValueError:
        return storage.spreadsheet_safe(text)


def csv_bytes(rows, bom=False):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[_cell(cell) for cell in row] for row in rows])
    return (BOM if bom else b"") + utf8(buffer.getvalue())


def unmatched_path(output):
    return output.with_name(output.stem + ".unmatched.csv")


def run(args):
    out = Path(args.out)
    output = Path(args.output or out / "export" / f"{args.to}.csv")
    if not (out / "results").is_dir():
        print(f"error: {out} has no results/ folder: is it the OUT of `grade`?", file=sys.stderr)
        return 1
    try:
        mapping = read_mapping(args.ids)
        rows, problems = build(out, args.to, mapping, args.feedback_url)
        storage.write_atomic(output, csv_bytes(rows, bom=args.to == "canvas"))
        storage.write_atomic(unmatched_path(output),
                             csv_bytes([["student_id", "problem"]] + [list(p) for p in problems]))
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: could not write {display_name(str(output))}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    for student, problem in problems:
        print(f"unmatched: {display_name(student)}: {problem}", file=sys.stderr)
    print(f"wrote {display_name(str(output))}: {len(rows) - 1 - (args.to == 'canvas')} "
          f"student(s)" + (f"; {len(problems)} unmatched, listed in "
                           f"{display_name(str(unmatched_path(output)))}" if problems else ""))
    return UNMATCHED if problems else 0
