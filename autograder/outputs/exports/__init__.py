"""Grades for the institution's tools: a file Canvas or Moodle imports as it is, or a plain CSV.

Usage::

    python -m autograder export OUT --to canvas|moodle|csv --ids MAPPING [--output FILE]
                                [--feedback-url BASE] [--percent] [--include-hidden]

One row per student and ONE COLUMN PER ASSIGNMENT (those of the course with a result in
OUT, course order), holding the total the student sees on the feedback page: autograded
plus the TAs' points for the written answers, i.e. ``total`` of
``OUT/results/<student>/<assignment>/<notebook>.json`` (``results``). Those totals are
refreshed from the gradebook by ``python -m autograder feedback OUT``: run it after the TAs
have graded, then export. A format with a feedback column per assignment writes
``results.comment`` there. ``--percent`` writes each grade as a percentage of its maximum
instead (for a grade item whose maximum is 100).

**Withheld hidden results** (``OUT/release.json``, ``autograder.outputs.visibility``): while the
pages withhold them, the export does too. Each grade is then the visible tests' points
plus the written answers, out of their maximum, and the feedback text says that the
hidden tests are not counted yet (how many, worth how much); a warning on stderr says so.
``--include-hidden`` exports the full totals anyway (for grade items students cannot see).

**Students** come from the ``--ids`` mapping (``mapping``). Each of these is listed on
stderr and in ``<output>.unmatched.csv`` and makes the exit code 3 (the file is still
written):

- a student graded but not in the mapping, or in the mapping with no result;
- a student without the identifier the target system needs (``OutputFormat.identifiers``);
- two or more students sharing one LMS identifier: all of them are left out of the file
  (``mapping.shared_identifiers``);
- an identifier the file must write with a leading ``'`` (``cells``), which the LMS will
  not match;
- a total that is not a number (a damaged result file): its cell is left blank.

**Formats** (decided from the systems' documentation, see docs/lms-exports.md): each is
one class implementing ``base.OutputFormat`` in its own module (``canvas``, ``moodle``,
``plain_csv``), registered here by its name (``register``); ``--to`` offers every
registered name.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from autograder import course
from autograder.outputs import storage, visibility
from autograder.outputs.exports.base import Export, OutputFormat, Student, maxima_text
from autograder.outputs.exports.canvas import Canvas
from autograder.outputs.exports.cells import Cell, csv_bytes, spreadsheet_text
from autograder.outputs.exports.mapping import (MAPPING_COLUMNS, ExportError, identity_missing, match,
                                        read_mapping, shared_identifiers)
from autograder.outputs.exports.moodle import Moodle
from autograder.outputs.exports.plain_csv import PlainCsv
from autograder.outputs.exports.results import NOT_GRADED_STATUSES, comment, finite, load_results, \
    points, total
from autograder.outputs.out_folder import OutFolder
from autograder.text import clean_text, display_name, formula_like

UNMATCHED = 3
BAD_MAPPING = 2

#: The output formats by name (``--to NAME``).
REGISTRY: dict[str, type[OutputFormat]] = {}
F = TypeVar("F", bound=type[OutputFormat])


def register(fmt: F) -> F:
    """Make ``fmt`` (an ``OutputFormat`` class) available as ``--to fmt.name``; returns it,
    so it can decorate the class. Raises ValueError when another class has that name."""
    if REGISTRY.get(fmt.name, fmt) is not fmt:
        raise ValueError(f"an output format is already registered as {fmt.name!r}")
    REGISTRY[fmt.name] = fmt
    return fmt


def output_format(name: str) -> OutputFormat:
    """The format registered as ``name``; KeyError when there is none."""
    return REGISTRY[name]()


for _shipped in (Canvas, Moodle, PlainCsv):
    register(_shipped)
FORMATS = tuple(REGISTRY)  # the formats shipped here (REGISTRY may hold more)

__all__ = ["BAD_MAPPING", "FORMATS", "MAPPING_COLUMNS", "NOT_GRADED_STATUSES", "REGISTRY",
           "UNMATCHED", "Cell", "Export", "ExportError", "OutputFormat", "Student",
           "add_parser", "build", "comment", "csv_bytes", "load_results", "match",
           "output_format", "read_mapping", "register", "run", "spreadsheet_text",
           "unmatched_path"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``export`` subcommand, on ``subparsers`` (argparse's ``add_subparsers()``)."""
    p = subparsers.add_parser("export", help="grades as a file Canvas, Moodle or a spreadsheet "
                                             "imports: one column per assignment")
    p.add_argument("out", type=Path, help="the OUT folder of `grade`")
    p.add_argument("--to", choices=tuple(REGISTRY), required=True, help="the target system")
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


def build(out: str | Path, system: str, mapping: dict[str, dict[str, str]],
          feedback_url: str | None = None, *, withhold_hidden: bool = False,
          percent: bool = False) -> Export:
    """The export of OUT in the format registered as ``system``. ``withhold_hidden``:
    grades and feedback of the visible tests and written answers only
    (``visibility.visible_only``); ``percent``: grades as percentages of their maximum."""
    fmt = output_format(system)
    results = load_results(out)
    if withhold_hidden:
        results = {sid: {name: visibility.visible_only(res) for name, res in slot.items()}
                   for sid, slot in results.items()}
    assignments = [a.name for a in course.current().assignments
                   if any(a.name in slot for slot in results.values())]
    matched, problems = match(results, mapping)
    candidates = []
    for key, entry in mapping.items():
        if key not in matched:
            problems.append((display_name(key), "in the mapping but no result in OUT"))
        elif missing := identity_missing(fmt.identifiers, entry):
            problems.append((display_name(key), missing))
        else:
            candidates.append((key, matched[key], entry))
    shared = shared_identifiers(fmt.identifiers, candidates)
    for key in shared:
        problems += [(display_name(key), problem) for problem in shared[key]]
    students = [(key, sid, entry) for key, sid, entry in candidates if key not in shared]
    students.sort(key=lambda s: (s[2]["last_name"] or s[2]["name"], s[2]["first_name"], s[0]))
    maxima = {a: 100.0 if percent else max((points(total(slot[a])[1])
                                            for slot in results.values() if a in slot),
                                           default=0.0) for a in assignments}

    def score(sid: str, name: str) -> Cell:
        slot = results[sid]
        if name not in slot:
            return ""
        got, most = (finite(v) for v in total(slot[name]))
        if got is None or most is None:
            problems.append((display_name(sid), f"{name}: its total is not a number (a "
                                                f"damaged result file); left blank"))
            return ""
        if percent:
            return round(100 * got / most, 2) if most else 0.0
        return got

    def note(sid: str, name: str) -> str:
        slot = results[sid]
        return comment(slot[name], feedback_url) if name in slot else ""

    for key, _, entry in students:
        for column, label in fmt.identifiers:
            if entry[column] and formula_like(clean_text(entry[column])):
                problems.append((display_name(key), f"its {label} {clean_text(entry[column])} "
                                 f"starts like a spreadsheet formula, so the file has it with "
                                 f"a leading ' that {fmt.name} will not match; fix the mapping"))
    rows: list[Sequence[Cell]] = [fmt.header(assignments), *fmt.maximum_rows(assignments, maxima)]
    rows += [fmt.row(Student(key, sid, entry, functools.partial(score, sid),
                             functools.partial(note, sid)), assignments)
             for key, sid, entry in students]
    return Export(rows, problems, maxima, withheld=withhold_hidden, percent=percent,
                  students=len(students))


def unmatched_path(output: Path) -> Path:
    """Where the students the export could not handle are listed, beside ``output``."""
    return output.with_name(output.stem + ".unmatched.csv")


def run(args: argparse.Namespace) -> int:
    """``export``: 0 when every student is exported, 3 when some are listed as unmatched,
    2 for a mapping that cannot be used, 1 when OUT is not one or the file cannot be written."""
    out = Path(args.out)
    fmt = output_format(args.to)
    output = Path(args.output or OutFolder(out).export / f"{fmt.name}.csv")
    if not OutFolder(out).results.is_dir():
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
    made = build(out, fmt.name, mapping, args.feedback_url,
                 withhold_hidden=withheld and not include_hidden,
                 percent=bool(getattr(args, "percent", False)))
    try:
        storage.write_atomic(output, fmt.encode(made.rows))
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
              f"{maxima_text(made.maxima)}, and the feedback says so. After `feedback "
              f"{display_name(str(out))} --release-hidden`, export again (or pass "
              f"--include-hidden to export full totals now)", file=sys.stderr)
    for line in fmt.notes(made):
        print(line, file=sys.stderr)
    for student, problem in made.problems:
        print(f"unmatched: {student}: {problem}", file=sys.stderr)
    print(f"wrote {display_name(str(output))}: {made.students} student(s)"
          + (f"; {len(made.problems)} unmatched or with a problem, listed in "
             f"{display_name(str(unmatched_path(output)))}" if made.problems else ""))
    return UNMATCHED if made.problems else 0
