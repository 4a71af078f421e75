"""Per-student feedback as one self-contained HTML page.

What a student sees: each test's points, what it checked, and a message in their own
terms; their notebook as they submitted it (their outputs and plots) with the test
results placed under the test cells. What they never see: hidden test code, hidden
expected values, reference code. Test cells are shown from the release (hidden ones as
the release's one-line placeholder), whatever the submission contains there, and a
hidden test that failed says what it checks, plus its message only when the test marked it
public (no hidden input or expected value in it) and check()'s hint.

Nothing on the page comes from the student unescaped: names, messages, code and text
outputs are escaped text; everything that is HTML made from student content (Markdown cells
and their math, TA comments, HTML, Markdown, LaTeX and SVG outputs) passes
``autograder.outputs.sanitize.clean`` after its conversion (Markdown and its math by
``autograder.outputs.markdown_html``), and the page is made by
``autograder.outputs.sanitize.page`` (a Content-Security-Policy that allows no script and no network).
The score line comes first, outside the student's part of the page, which is a box that
nothing inside can paint out of.
"""

import html
from typing import Any

from autograder.cells import read_quietly, release_notebook
from autograder.outputs import sanitize
from autograder.outputs.feedback_notebook import notebook_html
from autograder.outputs.feedback_results import (GRADER_PROBLEM, hidden_records, shown_tests,
                                                 tests_html, withheld_note)
from autograder.records import TEST_STATUS_TO_ROW, Record, RowStatus, row_status
from autograder.text import display_name

CELL_PROBLEMS_SHOWN = 50       # cells that raised errors, listed by name

STATUS_TEXT: dict[str, str] = {  # every row status, as a student reads it
    RowStatus.OK: "graded normally",
    RowStatus.INVALID_NOTEBOOK: "the file could not be read as a notebook",
    RowStatus.MISSING_CELLS: "a function the tests need is missing (deleted cell or renamed "
                             "function)",
    RowStatus.MEMORY_LIMIT: "some code ran out of memory",
    RowStatus.TIMEOUT: "some code ran past its time limit",
    RowStatus.KERNEL_DIED: "some code ended the Python process",
    RowStatus.GRADER_ERROR: "the grader had a problem of its own; your instructor will regrade",
    RowStatus.MISSING_NOTEBOOK: "no notebook was found in the submission",
    RowStatus.UNKNOWN_ASSIGNMENT: "the folder is not an assignment of this course",
    RowStatus.UNEXPECTED_NOTEBOOK: "this file is not the assignment's notebook, so it was not "
                                   "graded",
}

CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
header{position:relative;z-index:1;background:#fff}
.student{position:relative;z-index:0;isolation:isolate;overflow:hidden;contain:paint}
.cell,.result{position:relative;overflow:auto;contain:paint}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;
vertical-align:top;text-align:left}pre{white-space:pre-wrap;margin:0;font-size:.85rem}
.passed{background:#e9f7ec}.lost{background:#fdecea}.result{margin:.3rem 0 1rem;padding:.5rem;
border-left:4px solid #999}.cell{margin:1rem 0}.source{background:#f6f6f6;padding:.5rem}
.output{padding:.5rem}img{max-width:100%}.ta{border-left-color:#2a6}.pending{border-left-color:#c90}
details{margin:.5rem 0}summary{cursor:pointer}
"""


def _score_line(result: Record, withhold_hidden: bool = False) -> str:
    """The page's headline: autograded, written and total points. While ``withhold_hidden``
    (and the assignment has hidden tests), the visible tests' points only, and no total."""
    withheld = withhold_hidden and bool(hidden_records(result))
    if withheld:
        shown = shown_tests(result, True)
        line = (f"Autograded tests: <b>{sum(r['points'] for r in shown):g} / "
                f"{sum(r['max_points'] for r in shown):g}</b> (visible tests only; "
                f"the {withheld_note(result)}).")
    else:
        line = f"Autograded tests: <b>{result['score']:g} / {result['max_score']:g}</b>."
    written = result.get("written") or []
    if written:
        done = [g for g in written if g["score"] is not None]
        points = sum(g["points"] for g in written)
        if len(done) == len(written):
            line += (f" Written answers (graded by a TA): <b>{sum(g['score'] for g in done):g}"
                     f" / {points:g}</b>.")
        else:
            line += (f" Written answers: {len(written) - len(done)} of {len(written)} not graded "
                     f"yet ({points:g} points in all).")
        state = "" if len(done) == len(written) else " so far"
        if withheld:
            line += " Total: shown when the hidden tests' results are released."
        else:
            line += f" Total{state}: <b>{result['total']:g} / {result['total_max']:g}</b>."
    return line


def _cell_problems(result: Record) -> str:
    failed = [(index, cell) for index, cell in result.get("cells", {}).items()
              if isinstance(cell, dict) and not cell.get("ok")]
    items = "".join(f"<li>cell {html.escape(str(index))}: <pre>"
                    f"{html.escape(str(cell.get('message') or cell.get('kind') or ''))}</pre></li>"
                    for index, cell in failed[:CELL_PROBLEMS_SHOWN])
    more = max(0, len(failed) - CELL_PROBLEMS_SHOWN)
    not_kept = result.get("cells_not_kept")
    if isinstance(not_kept, dict) and isinstance(not_kept.get("failed"), int):
        more += not_kept["failed"]
    if more:
        items += f"<li>... and {more} more cells</li>"
    return items


def _row_message(result: Record) -> str:
    return GRADER_PROBLEM if result["status"] == RowStatus.GRADER_ERROR else result["message"]


def _shown_status(result: Record, withhold_hidden: bool) -> str:
    """The row status a page shows: while hidden results are withheld, one that came from
    the tests is recomputed from the visible tests alone (a hidden test's timeout or crash
    is one of its results)."""
    status = result["status"]
    if withhold_hidden and hidden_records(result) and status in set(TEST_STATUS_TO_ROW.values()):
        return str(row_status(r["status"] for r in shown_tests(result, True)))
    return status


def render(student_id: str, assignment_name: str, result: Record, notebook_path: Any,
           assignment: Any, withhold_hidden: bool = False) -> str:
    """The feedback page for one graded submission of ``assignment``
    (``autograder.course.Assignment``; None for a folder the course does not know).
    ``withhold_hidden``: show the visible tests' results only, and of the hidden tests only
    their number and points (``autograder.outputs.visibility``)."""
    notebook_part = ""
    if assignment is not None and notebook_path and result["status"] != RowStatus.INVALID_NOTEBOOK:
        release = release_notebook(assignment.release_notebook)
        try:
            notebook = read_quietly(notebook_path)
            notebook_part = ("<h2>Your notebook</h2><div class='student'>"
                             f"{notebook_html(notebook, release, result, withhold_hidden)}</div>")
        except Exception as exc:  # a notebook the grader could read must not break feedback
            notebook_part = f"<p>Your notebook could not be shown ({html.escape(type(exc).__name__)}).</p>"
    problems = _cell_problems(result)
    status = _shown_status(result, withhold_hidden)
    student_id, assignment = display_name(student_id), display_name(assignment_name)
    return sanitize.page(f"Feedback: {assignment}", CSS, f"""<header>
<h1>Feedback on {html.escape(assignment)}</h1>
<p id="score">Student: <b>{html.escape(student_id)}</b>. {_score_line(result, withhold_hidden)}
Status: {html.escape(status)} ({html.escape(STATUS_TEXT.get(status, status))}).</p>
</header>
{f"<p>{html.escape(_row_message(result))}</p>" if result.get('message') else ""}
{f"<h2>Cells that raised errors when your notebook was run</h2><ul>{problems}</ul>" if problems else ""}
<h2>Tests</h2>
{tests_html(result, withhold_hidden)}
{notebook_part}""")


def minimal_page(student_id: str, assignment: str, result: Record,
                 withhold_hidden: bool = False) -> str:
    """A plain page with the scores only, for when the full page cannot be made."""
    student_id, assignment = display_name(student_id), display_name(assignment)
    shown = shown_tests(result, withhold_hidden)
    rows = "".join(f"<tr><td>{html.escape(str(t['grade_id']))}</td><td>{t['points']:g} / "
                   f"{t['max_points']:g}</td><td>{html.escape(str(t['status']))}</td></tr>"
                   for t in shown)
    withheld = withhold_hidden and bool(hidden_records(result))
    score = (f"{sum(t['points'] for t in shown):g} / {sum(t['max_points'] for t in shown):g} "
             f"(visible tests only; the {withheld_note(result)})" if withheld else
             f"{result['score']:g} / {result['max_score']:g}")
    return sanitize.page("Feedback", "", f"<h1>Feedback on {html.escape(assignment)}</h1>"
                         f"<p id='score'>Student {html.escape(student_id)}: {score}</p>"
                         f"<table>{rows}</table>")
