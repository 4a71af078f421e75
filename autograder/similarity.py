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
"""

import csv
import html
import io
import itertools
import sys
from pathlib import Path

import numpy as np
from copydetect.detector import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from autograder import course, storage
from autograder.grading import cell_source, grade_id_of, nbgrader_meta, read_quietly
from autograder.storage import write_atomic
from autograder.text import display_name

NOISE = 25        # characters of tokenized code shorter than which a match is ignored
WINDOW = 1        # winnowing window: 1 keeps every fingerprint (answer cells are small)
NOT_COMPARED = {"invalid_notebook", "missing_notebook", "unknown_assignment",
                "unexpected_notebook"}
CSS = """
body{font-family:system-ui,sans-serif;max-width:90rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;
vertical-align:top}pre{white-space:pre-wrap;margin:0;font-size:.8rem}mark{background:#fbd38d}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem}.pair pre{background:#f6f6f6;padding:.5rem}
"""


def add_parser(subparsers):
    p = subparsers.add_parser("similarity", help="report similar answer code between submissions")
    p.add_argument("out", type=Path, help="the OUT folder of `grade`")
    p.add_argument("--assignment", action="append", metavar="NAME",
                   help="only this assignment (repeatable; default: every assignment with results)")
    p.add_argument("--top", type=int, default=20, help="pairs shown in the HTML (default: 20)")
    return p


def answer_code(notebook, answer_ids):
    """The answer cells' code of ``notebook``, in ``answer_ids`` order (a missing one is empty)."""
    found = {}
    for cell in notebook.cells:
        grade_id = grade_id_of(cell)
        if (isinstance(cell, dict) and cell.get("cell_type") == "code"
                and nbgrader_meta(cell).get("solution") and grade_id in answer_ids):
            found.setdefault(grade_id, cell_source(cell))
    return "\n\n".join(found.get(grade_id, "") for grade_id in answer_ids) + "\n"


def release_answers(assignment):
    """(answer cell grade_ids in notebook order, the release's text of them)."""
    release = read_quietly(assignment.release_notebook)
    ids = [grade_id_of(c) for c in release.cells
           if c.cell_type == "code" and nbgrader_meta(c).get("solution") and grade_id_of(c)]
    return ids, answer_code(release, ids)


def fingerprint(name, code, boilerplate=None):
    return CodeFingerprint(name, NOISE, WINDOW, boilerplate=boilerplate, language="python",
                           fp=io.StringIO(code))


def submissions(out, warn=print):
    """{assignment: [(label, notebook path)]} from OUT/results/**/*.json."""
    found = {}
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


def compare(assignment, entries, warn=print):
    """[(similarity, label_a, label_b, sim_a, sim_b, fingerprint_a, fingerprint_b)] for every
    pair of ``entries`` ([(label, path)]), most similar first; similarity is the larger of
    the two shares of each one's (non-boilerplate) code found in the other."""
    ids, stub = release_answers(assignment)
    boilerplate = np.unique(np.array(list(fingerprint("release.py", stub).hashes)))
    prints = []
    for label, path in entries:
        try:
            code = answer_code(read_quietly(path), ids)
        except Exception as exc:  # a notebook gone or unreadable is left out, said so
            warn(f"warning: {display_name(label)}: not compared ({type(exc).__name__})")
            continue
        prints.append((label, fingerprint(f"{label}.py", code, boilerplate)))
    pairs = []
    for (label_a, fp_a), (label_b, fp_b) in itertools.combinations(prints, 2):
        _, (sim_a, sim_b), _ = compare_files(fp_a, fp_b)
        sim_a, sim_b = float(sim_a), float(sim_b)
        pairs.append((max(sim_a, sim_b), label_a, label_b, sim_a, sim_b, fp_a, fp_b))
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    return pairs


def csv_text(pairs):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student_a", "student_b", "similarity", "similarity_a", "similarity_b"])
    for similarity, label_a, label_b, sim_a, sim_b, _, _ in pairs:
        writer.writerow([display_name(label_a), display_name(label_b), f"{similarity:.3f}",
                         f"{sim_a:.3f}", f"{sim_b:.3f}"])
    return buffer.getvalue()


def _highlighted(fp_a, fp_b):
    """Both codes as HTML, the code they share in <mark>."""
    _, _, (slices_a, slices_b) = compare_files(fp_a, fp_b)
    shown = []
    for fp, slices in ((fp_a, slices_a), (fp_b, slices_b)):
        if slices.size == 0:
            shown.append(html.escape(fp.raw_code))
        else:
            shown.append(highlight_overlap(fp.raw_code, slices.astype(int), "<mark>", "</mark>",
                                           escape_html=True)[0])
    return shown


def html_text(assignment_name, pairs, top):
    name = html.escape(display_name(assignment_name))
    rows, sections = [], []
    for rank, (similarity, label_a, label_b, sim_a, sim_b, fp_a, fp_b) in enumerate(pairs[:top], 1):
        a, b = html.escape(display_name(label_a)), html.escape(display_name(label_b))
        rows.append(f"<tr><td><a href='#pair{rank}'>{rank}</a></td><td>{a}</td><td>{b}</td>"
                    f"<td>{similarity:.0%}</td><td>{sim_a:.0%}</td><td>{sim_b:.0%}</td></tr>")
        code_a, code_b = _highlighted(fp_a, fp_b) if similarity > 0 else (
            html.escape(fp_a.raw_code), html.escape(fp_b.raw_code))
        sections.append(f"<h2 id='pair{rank}'>{rank}. {a} and {b}: {similarity:.0%}</h2>"
                        f"<div class='pair'><div><h3>{a} ({sim_a:.0%} of it shared)</h3>"
                        f"<pre>{code_a}</pre></div><div><h3>{b} ({sim_b:.0%} of it shared)</h3>"
                        f"<pre>{code_b}</pre></div></div>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Similarity: {name}</title>
<style>{CSS}</style></head><body>
<h1>Similar answer code: {name}</h1>
<p>{len(pairs)} pair(s) compared; the {min(top, len(pairs))} most similar are shown. Similarity
of a submission: the share of its answer code (the release's own text left out; names,
comments and strings not counted) found in the other's; a pair's score is the larger of the
two. Code both share is <mark>highlighted</mark>. A high score is a reason to look, not a
verdict.</p>
<table><tr><th>#</th><th>student a</th><th>student b</th><th>similarity</th><th>of a</th>
<th>of b</th></tr>{"".join(rows)}</table>
{"".join(sections)}
</body></html>
"""


def report(out, assignment, entries, top=20, warn=print):
    """Write OUT/similarity/<assignment>.csv and .html; returns the pairs."""
    pairs = compare(assignment, entries, warn)
    folder = Path(out) / "similarity"
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{assignment.name}.csv", csv_text(pairs))
    write_atomic(folder / f"{assignment.name}.html", html_text(assignment.name, pairs, top))
    return pairs


def run(args):
    warn = lambda message: print(message, file=sys.stderr)  # noqa: E731
    known = course.current()
    unknown = [name for name in args.assignment or () if known.get(name) is None]
    if unknown:
        warn(f"error: unknown assignment(s) {', '.join(unknown)}; this course has "
             f"{', '.join(known.names)}")
        return 2
    if not (Path(args.out) / "results").is_dir():
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
