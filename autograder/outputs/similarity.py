"""Similarity report of the answer cells of an assignment's submissions.

  python -m autograder similarity OUT [--assignment NAME] [--top 20]

Compares, for every pair of graded submissions of an assignment (the notebooks named by the
``path`` of OUT/results/**/*.json), the code of their answer cells (nbgrader solution code
cells, ``answer_<function>``) with copydetect (winnowed fingerprints of the tokenized code:
variable and function names, comments and string contents do not count, so renaming and
re-commenting does not hide a copy). The release's own text of those cells (signatures,
docstrings, ``raise NotImplementedError()``) is boilerplate: its fingerprints are removed,
so an untouched release is similar to no one. Writes OUT/similarity/<assignment>.csv (every
pair, most similar first) and OUT/similarity/<assignment>.html (the ``--top`` pairs side by
side, the matching code highlighted; self-contained, no script, no network).

A high score is a reason to look, not a verdict: short functions written from the same
description can coincide.

Bounded whatever the submissions hold: one answer cell counts (and is shown) up to
CELL_LIMIT characters and one submission's answer code up to SUBMISSION_LIMIT; the
comparison stops at COMPARE_SECONDS; the page holds at most PAGE_LIMIT characters of code.
Whatever is cut or left out is named in the report. All code on the page is escaped text,
passed through ``autograder.outputs.sanitize`` like every page the grader writes.
"""

import csv
import html
import io
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from copydetect.detector import CodeFingerprint, compare_files

from autograder import course
from autograder.cells import cell_source, grade_id_of, nbgrader_meta, read_quietly
from autograder.outputs import sanitize, storage
from autograder.outputs.out_folder import OutFolder
from autograder.outputs.storage import write_atomic
from autograder.records import RowStatus
from autograder.text import display_name

NOISE = 25        # characters of tokenized code shorter than which a match is ignored
WINDOW = 1        # winnowing window: 1 keeps every fingerprint (answer cells are small)
CELL_LIMIT = 50_000          # characters of one answer cell compared and shown
SUBMISSION_LIMIT = 100_000   # characters of one submission's answer code compared and shown
COMPARE_SECONDS = 600.0      # the whole comparison of one assignment (fingerprints and pairs)
PAGE_LIMIT = 4_000_000       # characters of code shown on one report page
NOTES_SHOWN = 200            # cuts and omissions named one by one on the page
NOT_COMPARED = {RowStatus.INVALID_NOTEBOOK, RowStatus.MISSING_NOTEBOOK,
                RowStatus.UNKNOWN_ASSIGNMENT, RowStatus.UNEXPECTED_NOTEBOOK}
CSS = """
body{font-family:system-ui,sans-serif;max-width:90rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;
vertical-align:top}pre{white-space:pre-wrap;margin:0;font-size:.8rem}mark{background:#fbd38d}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem}.pair pre{background:#f6f6f6;padding:.5rem}
.pair>div{overflow:auto;contain:paint}
"""
Pair = tuple[float, str, str, float, float, CodeFingerprint, CodeFingerprint]
Warn = Callable[[str], Any]


def add_parser(subparsers: Any) -> Any:
    p = subparsers.add_parser("similarity", help="report similar answer code between submissions")
    p.add_argument("out", type=Path, help="the OUT folder of `grade`")
    p.add_argument("--assignment", action="append", metavar="NAME",
                   help="only this assignment (repeatable; default: every assignment with results)")
    p.add_argument("--top", type=int, default=20, help="pairs shown in the HTML (default: 20)")
    return p


def answer_code(notebook: Any, answer_ids: list[str], label: str | None = None,
                notes: list[str] | None = None) -> str:
    """The answer cells' code of ``notebook``, in ``answer_ids`` order (a missing one is empty),
    each cut at CELL_LIMIT characters and all of it at SUBMISSION_LIMIT; each cut is added to
    ``notes`` as a sentence naming the cell and ``label`` (the student)."""
    found: dict[str, str] = {}
    for cell in notebook.cells:
        grade_id = grade_id_of(cell)
        if (isinstance(cell, dict) and cell.get("cell_type") == "code"
                and nbgrader_meta(cell).get("solution") and grade_id in answer_ids):
            found.setdefault(grade_id, cell_source(cell))
    who = display_name(label) if label is not None else "the release"
    parts, size = [], 0
    for grade_id in answer_ids:
        code = found.get(grade_id, "")
        if len(code) > CELL_LIMIT:
            if notes is not None:
                notes.append(f"cell {display_name(grade_id)} of {who} cut at {CELL_LIMIT:,} "
                             f"characters (of {len(code):,})")
            code = code[:CELL_LIMIT]
        if size + len(code) > SUBMISSION_LIMIT:
            if notes is not None:
                notes.append(f"cell {display_name(grade_id)} of {who} cut at "
                             f"{max(0, SUBMISSION_LIMIT - size):,} characters: the answer code of "
                             f"one submission counts up to {SUBMISSION_LIMIT:,} characters")
            code = code[:max(0, SUBMISSION_LIMIT - size)]
        parts.append(code)
        size += len(code) + 2
    return "\n\n".join(parts) + "\n"


def release_answers(assignment: Any) -> tuple[list[str], str]:
    """(answer cell grade_ids in notebook order, the release's text of them)."""
    release = read_quietly(assignment.release_notebook)
    ids = [grade_id_of(c) for c in release.cells
           if c.cell_type == "code" and nbgrader_meta(c).get("solution") and grade_id_of(c)]
    return ids, answer_code(release, ids)  # type: ignore[return-value,arg-type]  # no None (filter)


def fingerprint(name: str, code: str, boilerplate: Any = None) -> CodeFingerprint:
    return CodeFingerprint(name, NOISE, WINDOW, boilerplate=boilerplate, language="python",
                           fp=io.StringIO(code))


def submissions(out: Path, warn: Warn = print) -> dict[str, list[tuple[str, Path]]]:
    """{assignment: [(label, notebook path)]} from OUT/results/**/*.json."""
    found: dict[str, list[tuple[str, str, Path]]] = {}
    for result in storage.saved_results(out, warn=warn):
        if not isinstance(result.get("path"), str) or result["status"] in NOT_COMPARED:
            continue
        found.setdefault(result["assignment"], []).append(
            (result["student_id"], result["notebook"], Path(result["path"])))
    labelled = {}
    for name, rows in found.items():
        students = [student for student, _, _ in rows]
        labelled[name] = [(student if students.count(student) == 1 else f"{student}/{notebook}",
                           path) for student, notebook, path in rows]
    return labelled


def compare(assignment: Any, entries: list[tuple[str, Path]], warn: Warn = print,
            notes: list[str] | None = None, seconds: float | None = None) -> list[Pair]:
    """[(similarity, label_a, label_b, sim_a, sim_b, fingerprint_a, fingerprint_b)] for every
    pair of ``entries`` ([(label, path)]), most similar first; similarity is the larger of
    the two shares of each one's (non-boilerplate) code found in the other. Answer code is
    cut as ``answer_code`` says; past ``seconds`` (default COMPARE_SECONDS) no further
    submission or pair is compared. Each cut or omission is added to ``notes``."""
    notes = [] if notes is None else notes
    limit = COMPARE_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + limit
    ids, stub = release_answers(assignment)
    boilerplate = np.unique(np.array(list(fingerprint("release.py", stub).hashes)))
    prints = []
    for done, (label, path) in enumerate(entries):
        if time.monotonic() > deadline:
            left = ", ".join(display_name(label) for label, _ in entries[done:])
            notes.append(f"{len(entries) - done} submission(s) not compared: the comparison "
                         f"stops after {limit:g} s ({left})")
            break
        try:
            code = answer_code(read_quietly(path), ids, label, notes)
        except Exception as exc:  # a notebook gone or unreadable is left out, said so
            warn(f"warning: {display_name(label)}: not compared ({type(exc).__name__})")
            notes.append(f"{display_name(label)}: not compared ({type(exc).__name__})")
            continue
        prints.append((label, fingerprint(f"{label}.py", code, boilerplate)))
    pairs = []
    every = list(itertools.combinations(prints, 2))
    for done, ((label_a, fp_a), (label_b, fp_b)) in enumerate(every):
        if time.monotonic() > deadline:
            notes.append(f"{len(every) - done} pair(s) not compared: the comparison stops "
                         f"after {limit:g} s")
            break
        _, (sim_a, sim_b), _ = compare_files(fp_a, fp_b)
        sim_a, sim_b = float(sim_a), float(sim_b)
        pairs.append((max(sim_a, sim_b), label_a, label_b, sim_a, sim_b, fp_a, fp_b))
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    return pairs


def csv_text(pairs: list[Pair]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student_a", "student_b", "similarity", "similarity_a", "similarity_b"])
    for similarity, label_a, label_b, sim_a, sim_b, _, _ in pairs:
        writer.writerow([display_name(label_a), display_name(label_b), f"{similarity:.3f}",
                         f"{sim_a:.3f}", f"{sim_b:.3f}"])
    return buffer.getvalue()


def _marked(code: str, slices: Any) -> str:
    """``code`` as escaped HTML, the ``slices`` ([[starts], [ends]]) in <mark>."""
    parts, last = [], 0
    for start, end in zip(*(slices.astype(int).tolist() if slices.size else ([], []))):
        start, end = max(start, last), min(end, len(code))
        if end <= start:
            continue
        parts += [html.escape(code[last:start]), "<mark>", html.escape(code[start:end]), "</mark>"]
        last = end
    parts.append(html.escape(code[last:]))
    return sanitize.clean("".join(parts))


def _highlighted(fp_a: CodeFingerprint, fp_b: CodeFingerprint) -> list[str]:
    """Both codes as HTML, the code they share in <mark>."""
    _, _, (slices_a, slices_b) = compare_files(fp_a, fp_b)
    return [_marked(fp_a.raw_code, slices_a), _marked(fp_b.raw_code, slices_b)]


def html_text(assignment_name: str, pairs: list[Pair], top: int,
              notes: list[str] | None = None) -> str:
    """The report page: the ``top`` pairs side by side, as many as PAGE_LIMIT characters of
    code allow (the rest named), and ``notes`` (what was cut or left out)."""
    name = display_name(assignment_name)
    notes = list(notes or [])
    rows, sections, size = [], [], 0
    shown = pairs[:top]
    for rank, (similarity, label_a, label_b, sim_a, sim_b, fp_a, fp_b) in enumerate(shown, 1):
        a, b = html.escape(display_name(label_a)), html.escape(display_name(label_b))
        rows.append(f"<tr><td><a href='#pair{rank}'>{rank}</a></td><td>{a}</td><td>{b}</td>"
                    f"<td>{similarity:.0%}</td><td>{sim_a:.0%}</td><td>{sim_b:.0%}</td></tr>")
        if size + len(fp_a.raw_code) + len(fp_b.raw_code) > PAGE_LIMIT:
            notes.append(f"the code of pairs {rank} to {len(shown)} is not shown: the page "
                         f"holds at most {PAGE_LIMIT:,} characters of code")
            rows.extend(f"<tr><td>{r}</td><td>{html.escape(display_name(p[1]))}</td><td>"
                        f"{html.escape(display_name(p[2]))}</td><td>{p[0]:.0%}</td><td>"
                        f"{p[3]:.0%}</td><td>{p[4]:.0%}</td></tr>"
                        for r, p in enumerate(shown[rank:], rank + 1))
            break
        size += len(fp_a.raw_code) + len(fp_b.raw_code)
        code_a, code_b = _highlighted(fp_a, fp_b) if similarity > 0 else (
            _marked(fp_a.raw_code, np.empty(0)), _marked(fp_b.raw_code, np.empty(0)))
        sections.append(f"<h2 id='pair{rank}'>{rank}. {a} and {b}: {similarity:.0%}</h2>"
                        f"<div class='pair'><div><h3>{a} ({sim_a:.0%} of it shared)</h3>"
                        f"<pre>{code_a}</pre></div><div><h3>{b} ({sim_b:.0%} of it shared)</h3>"
                        f"<pre>{code_b}</pre></div></div>")
    listed = "".join(f"<li>{html.escape(note)}</li>" for note in notes[:NOTES_SHOWN])
    if len(notes) > NOTES_SHOWN:
        listed += f"<li>... and {len(notes) - NOTES_SHOWN} more</li>"
    cut = (f"<h2>Cut or left out</h2><ul id='cuts'>{listed}</ul>" if notes else "")
    return sanitize.page(f"Similarity: {name}", CSS, f"""<header>
<h1>Similar answer code: {html.escape(name)}</h1>
<p id="score">{len(pairs)} pair(s) compared; the {min(top, len(pairs))} most similar are shown.
Similarity of a submission: the share of its answer code (the release's own text left out;
names, comments and strings not counted) found in the other's; a pair's score is the larger
of the two. Code both share is <mark>highlighted</mark>. A high score is a reason to look,
not a verdict.</p></header>
{cut}
<table><tr><th>#</th><th>student a</th><th>student b</th><th>similarity</th><th>of a</th>
<th>of b</th></tr>{"".join(rows)}</table>
{"".join(sections)}""")


def report(out: Path, assignment: Any, entries: list[tuple[str, Path]], top: int = 20,
           warn: Warn = print) -> list[Pair]:
    """Write OUT/similarity/<assignment>.csv and .html; returns the pairs. What was cut or
    left out is named on the page and counted in a warning."""
    notes: list[str] = []
    pairs = compare(assignment, entries, warn, notes)
    folder = OutFolder(out).similarity
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{assignment.name}.csv", csv_text(pairs))
    page = html_text(assignment.name, pairs, top, notes)
    write_atomic(folder / f"{assignment.name}.html", page)
    if len(page) > PAGE_LIMIT + 1_000_000:  # never: names and notes are bounded too
        warn(f"warning: the similarity page of {display_name(assignment.name)} holds "
             f"{len(page):,} characters")
    if notes:
        warn(f"warning: {display_name(assignment.name)}: {len(notes)} cut(s) or omission(s), "
             f"named in the report")
    return pairs


def run(args: Any) -> int:
    warn = lambda message: print(message, file=sys.stderr)  # noqa: E731
    known = course.current()
    unknown = [name for name in args.assignment or () if known.get(name) is None]
    if unknown:
        warn(f"error: unknown assignment(s) {', '.join(unknown)}; this course has "
             f"{', '.join(known.names)}")
        return 2
    if not OutFolder(args.out).results.is_dir():
        warn(f"error: {args.out} has no results/ (run `python -m autograder grade` first)")
        return 2
    found = submissions(args.out, warn)
    for assignment in known.assignments:
        if args.assignment and assignment.name not in args.assignment:
            continue
        if assignment.name not in found:
            if args.assignment:
                warn(f"warning: no results of {assignment.name} in {args.out}")
            continue
        pairs = report(args.out, assignment, found[assignment.name], args.top, warn)
        best = (f"; most similar: {display_name(pairs[0][1])} and {display_name(pairs[0][2])} "
                f"({pairs[0][0]:.0%})") if pairs else ""
        print(f"wrote {Path(args.out) / 'similarity' / assignment.name}.html and .csv: "
              f"{len(pairs)} pair(s){best}")
    return 0
