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

import base64
import html
import re
from collections.abc import Iterator
from urllib.parse import unquote
from typing import Any

from markdown_it import MarkdownIt

from autograder.cells import read_quietly, release_notebook
from autograder.outputs import sanitize
from autograder.outputs.markdown_html import MARKDOWN_CELL_LIMIT, clean_html, markdown_renderer
from autograder.records import (OWN_ERROR_STATUSES, TEST_STATUS_TO_ROW, Record, RowStatus,
                                TestStatus, row_status)
from autograder.text import display_name

TEXT_OUTPUT_LIMIT = 20_000     # characters shown of one text output
PAGE_OUTPUTS_LIMIT = 8 << 20   # characters of outputs (plots included) shown on one page
CELL_PROBLEMS_SHOWN = 50       # cells that raised errors, listed by name
NOTEBOOK_CELLS_SHOWN = 1_000   # cells of the student's notebook shown on the page

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
GRADER_PROBLEM = ("The grader had a problem of its own here (not caused by your code). "
                  "Your instructor sees it and will regrade.")

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


def public_message(record: Record) -> str:
    """The message a student may see for one test record.

    A hidden test never shows the text of the student's exception (a student can raise
    the arguments it was called with): only its type and the student's line. Its failure
    message is shown when the test marked it public (``nnlab.testing.PublicFailure``: no
    hidden input or expected value in it), and check()'s hint for that function always
    (its inputs are the notebook's own).
    """
    if record["status"] == TestStatus.GRADER_ERROR:
        return GRADER_PROBLEM  # details (tracebacks, paths) are for the instructor only
    if not record.get("hidden") or record["status"] == TestStatus.PASSED:
        return record["message"]
    hint = f"\n{record['hint']}" if record.get("hint") else ""
    if (record["status"] in (TestStatus.ERROR, TestStatus.MEMORY_LIMIT)
            and record.get("where") is not None):
        what = "ran out of memory" if record["status"] == TestStatus.MEMORY_LIMIT else "raised"
        return (f"During this hidden test your code {what}: {record['where']}. Its message "
                f"is not shown, since it could reveal the test's inputs. It checks: "
                f"{record['summary']}{hint}")
    if record["status"] in OWN_ERROR_STATUSES - {TestStatus.ERROR, TestStatus.MEMORY_LIMIT}:
        return record["message"]  # the student's own error, not the test's internals
    if record["status"] == TestStatus.FAILED and record.get("public"):
        return (f"This hidden test did not pass. It checks: {record['summary']} What went "
                f"wrong: {record['message']}{hint}")
    return ("This hidden test did not pass. It checks: " + record["summary"] +
            " Re-check that function against its description and the visible tests." + hint)


TABLE_HEAD = ("<tr><th>test</th><th>what it checks</th><th>points</th><th>status</th>"
              "<th>message</th></tr>")


def _test_rows(records: list[Record]) -> str:
    rows = []
    for record in records:
        css = "passed" if record["status"] == TestStatus.PASSED else "lost"
        rows.append(
            f"<tr class='{css}'><td>{html.escape(record['grade_id'])}"
            f"{' (hidden)' if record['hidden'] else ''}</td>"
            f"<td>{html.escape(record['summary'])}</td>"
            f"<td>{record['points']:g} / {record['max_points']:g}</td>"
            f"<td>{html.escape(record['status'])}</td>"
            f"<td><pre>{html.escape(public_message(record))}</pre></td></tr>")
    return "".join(rows)


def _hidden(result: Record) -> list[Record]:
    return [r for r in result["tests"] if r.get("hidden")]


def _withheld_note(result: Record) -> str:
    """What a page says of the hidden tests while their results are withheld."""
    hidden = _hidden(result)
    return (f"results of {len(hidden)} hidden test(s) ({sum(r['max_points'] for r in hidden):g} "
            f"points) will be released later")


def _shown_tests(result: Record, withhold_hidden: bool) -> list[Record]:
    """The test records a page shows: all, or only the visible ones while hidden results are
    withheld."""
    return [r for r in result["tests"] if not (withhold_hidden and r.get("hidden"))]


def _tests_html(result: Record, withhold_hidden: bool = False) -> str:
    """Tests that lost points in a table; the passed ones folded away below it. While
    ``withhold_hidden``, the hidden tests are only counted (see ``_withheld_note``)."""
    shown = _shown_tests(result, withhold_hidden)
    lost = [r for r in shown if r["status"] != TestStatus.PASSED]
    passed = [r for r in shown if r["status"] == TestStatus.PASSED]
    parts = []
    if withhold_hidden and _hidden(result):
        parts.append(f"<p class='result pending'>The {_withheld_note(result)}.</p>")
    if lost:
        parts.append(f"<table>{TABLE_HEAD}{_test_rows(lost)}</table>")
    if passed:
        points = sum(r["points"] for r in passed)
        parts.append(f"<details{'' if lost else ' open'}><summary>{len(passed)} test(s) passed "
                     f"({points:g} points)</summary><table>{TABLE_HEAD}{_test_rows(passed)}"
                     f"</table></details>")
    return "".join(parts)


def _written_box(grade: Record, markdown: MarkdownIt) -> str:
    """Under a written answer: the TA's points and comment, or that it awaits grading."""
    if grade["score"] is None:
        return (f"<div class='result pending'><b>{html.escape(grade['grade_id'])}: not graded "
                f"yet (/ {grade['points']:g})</b> A TA grades this answer by hand.</div>")
    comment = clean_html(markdown, grade["comment"]) if grade["comment"].strip() else ""
    return (f"<div class='result ta'><b>{html.escape(grade['grade_id'])}: {grade['score']:g} / "
            f"{grade['points']:g}</b> (graded by a TA){comment}</div>")


def _score_line(result: Record, withhold_hidden: bool = False) -> str:
    """The page's headline: autograded, written and total points. While ``withhold_hidden``
    (and the assignment has hidden tests), the visible tests' points only, and no total."""
    withheld = withhold_hidden and bool(_hidden(result))
    if withheld:
        shown = _shown_tests(result, True)
        line = (f"Autograded tests: <b>{sum(r['points'] for r in shown):g} / "
                f"{sum(r['max_points'] for r in shown):g}</b> (visible tests only; "
                f"the {_withheld_note(result)}).")
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


def _safe_cells(notebook: Any, release: Any, test_ids: set[str]
                ) -> Iterator[tuple[Any, str, Any, str | None]]:
    """Cells to show, as (cell type, source, outputs, grade_id): test cells (``test_ids``, or
    any holding hidden tests) replaced by the release's version of them; a Markdown cell's
    attachments in place of its outputs."""
    released = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in release.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id")}
    for cell in notebook.cells:
        grading = cell.get("metadata", {}).get("nbgrader")
        grade_id = grading.get("grade_id") if isinstance(grading, dict) else None
        grade_id = grade_id if isinstance(grade_id, str) else None
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if grade_id in test_ids or "BEGIN HIDDEN TESTS" in source:
            shown = released.get(grade_id)
            yield ("code", shown.source if shown is not None else "# (test cell)", [], grade_id)
        else:
            kind = cell.get("cell_type")
            yield (kind, source, cell.get("attachments") if kind == "markdown" else
                   cell.get("outputs", []), grade_id)


_ATTACHMENT = re.compile(r'src="attachment:([^"]*)"')


def _markdown_cell_html(markdown: MarkdownIt, source: str, attachments: Any,
                        budget: "_Budget") -> str:
    """A Markdown cell as sanitized HTML, its images from its own attachments
    (``![x](attachment:plot.png)``) shown as data: URLs when they are images and the page's
    output budget allows them; any other ``attachment:`` reference is dropped."""
    if not isinstance(attachments, dict) or not attachments or len(source) > MARKDOWN_CELL_LIMIT:
        return clean_html(markdown, source)

    def image(match: re.Match) -> str:
        bundle = attachments.get(html.unescape(unquote(match.group(1))))
        shown = _rich_html(bundle, markdown) if isinstance(bundle, dict) else ""
        found = re.match(r"<img alt='plot' src='(data:image/[^']*)'>\Z", shown)
        if found and budget.take(len(found.group(1))):
            return f'src="{found.group(1)}"'
        return 'src=""'
    return sanitize.clean(_ATTACHMENT.sub(image, markdown.render(source)))


class _Budget:
    """Characters of outputs still allowed on the page."""

    def __init__(self, total: int = PAGE_OUTPUTS_LIMIT) -> None:
        self.left, self.dropped = total, 0

    def take(self, size: int) -> bool:
        if size > self.left:
            self.dropped += 1
            return False
        self.left -= size
        return True


def _joined(value: Any) -> str:
    return "".join(str(part) for part in value) if isinstance(value, list) else str(value)


def _text_html(text: Any) -> str:
    text = _joined(text)
    if len(text) > TEXT_OUTPUT_LIMIT:
        text = text[:TEXT_OUTPUT_LIMIT] + f"\n[... {len(text) - TEXT_OUTPUT_LIMIT:,} more characters]"
    return f"<pre>{html.escape(text)}</pre>"


_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*\Z")
RASTER_TYPES = ("image/png", "image/jpeg", "image/gif")


def _rich_html(data: dict, markdown: MarkdownIt) -> str:
    """The richest output of a display's ``data`` the page shows, as safe HTML: a raster
    image or an SVG (as an ``<img>`` from a data: URL, where an SVG's scripts never run), HTML
    (sanitized), Markdown or LaTeX (rendered, sanitized), else its text. Scripts
    (application/javascript and the like) are never shown."""
    for kind in RASTER_TYPES:
        if kind in data:
            image = re.sub(r"\s+", "", _joined(data[kind]))
            if _BASE64.match(image):
                return f"<img alt='plot' src='data:{kind};base64,{image}'>"
    if "image/svg+xml" in data:
        svg = base64.b64encode(_joined(data["image/svg+xml"]).encode("utf-8", "replace"))
        return f"<img alt='plot' src='data:image/svg+xml;base64,{svg.decode()}'>"
    for kind in ("text/html", "text/markdown", "text/latex"):
        text = _joined(data.get(kind, "")) if kind in data else ""
        if text and len(text) <= MARKDOWN_CELL_LIMIT:
            return (sanitize.clean(text) if kind == "text/html"
                    else clean_html(markdown, text))
    return _text_html(data["text/plain"]) if "text/plain" in data else ""


def _outputs_html(outputs: Any, budget: "_Budget", markdown: MarkdownIt) -> str:
    parts = []
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, dict):
            continue
        kind, part = output.get("output_type"), ""
        if kind == "stream":
            part = _text_html(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data: dict[str, Any] = (output.get("data")  # type: ignore[assignment]  # a dict (checked)
                                    if isinstance(output.get("data"), dict) else {})
            part = _rich_html(data, markdown)
        elif kind == "error":
            part = (f"<pre>{html.escape(str(output.get('ename', '')))}: "
                    f"{html.escape(str(output.get('evalue', ''))[:TEXT_OUTPUT_LIMIT])}</pre>")
        if part and budget.take(len(part)):
            parts.append(part)
    return "".join(parts)


def _notebook_html(notebook: Any, release: Any, result: Record,
                   withhold_hidden: bool = False) -> str:
    by_id = {record["grade_id"]: record for record in result["tests"]}
    withheld = {r["grade_id"] for r in result["tests"] if withhold_hidden and r.get("hidden")}
    written = {grade["grade_id"]: grade for grade in result.get("written") or []}
    parts, budget = [], _Budget()
    markdown = markdown_renderer()
    cells = list(_safe_cells(notebook, release, {record["grade_id"] for record in result["tests"]}))
    for kind, source, outputs, grade_id in cells[:NOTEBOOK_CELLS_SHOWN]:
        if kind == "markdown":
            shown = _markdown_cell_html(markdown, source, outputs, budget)
            parts.append(f"<div class='cell'>{shown}</div>")
            if grade_id in written:
                parts.append(_written_box(written[grade_id], markdown))
        else:
            shown = _outputs_html(outputs, budget, markdown)
            parts.append(f"<div class='cell'><pre class='source'>{html.escape(source)}</pre>"
                         f"<div class='output'>{shown}</div></div>")
        if grade_id in withheld:
            shown_id = html.escape(grade_id)  # type: ignore[arg-type]  # a test's: a str
            parts.append(f"<div class='result pending'><b>{shown_id}</b> (hidden): "
                         f"its result will be released later.</div>")
        elif grade_id in by_id:
            record = by_id[grade_id]
            css = "passed" if record["status"] == TestStatus.PASSED else "lost"
            shown_id = html.escape(grade_id)  # type: ignore[arg-type]  # a test's: a str
            parts.append(f"<div class='result {css}'>"
                         f"<b>{shown_id}: {record['points']:g} / {record['max_points']:g}"
                         f"</b><pre>{html.escape(public_message(record))}</pre></div>")
    if len(cells) > NOTEBOOK_CELLS_SHOWN:
        parts.append(f"<p><i>... and {len(cells) - NOTEBOOK_CELLS_SHOWN} more cells, not "
                     f"shown (a page shows the first {NOTEBOOK_CELLS_SHOWN}).</i></p>")
    if budget.dropped:
        parts.append(f"<p><i>{budget.dropped} output(s) not shown: the page holds at most "
                     f"{PAGE_OUTPUTS_LIMIT >> 20} MiB of outputs.</i></p>")
    return "".join(parts)


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
    if withhold_hidden and _hidden(result) and status in set(TEST_STATUS_TO_ROW.values()):
        return str(row_status(r["status"] for r in _shown_tests(result, True)))
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
                             f"{_notebook_html(notebook, release, result, withhold_hidden)}</div>")
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
{_tests_html(result, withhold_hidden)}
{notebook_part}""")


def minimal_page(student_id: str, assignment: str, result: Record,
                 withhold_hidden: bool = False) -> str:
    """A plain page with the scores only, for when the full page cannot be made."""
    student_id, assignment = display_name(student_id), display_name(assignment)
    shown = _shown_tests(result, withhold_hidden)
    rows = "".join(f"<tr><td>{html.escape(str(t['grade_id']))}</td><td>{t['points']:g} / "
                   f"{t['max_points']:g}</td><td>{html.escape(str(t['status']))}</td></tr>"
                   for t in shown)
    withheld = withhold_hidden and bool(_hidden(result))
    score = (f"{sum(t['points'] for t in shown):g} / {sum(t['max_points'] for t in shown):g} "
             f"(visible tests only; the {_withheld_note(result)})" if withheld else
             f"{result['score']:g} / {result['max_score']:g}")
    return sanitize.page("Feedback", "", f"<h1>Feedback on {html.escape(assignment)}</h1>"
                         f"<p id='score'>Student {html.escape(student_id)}: {score}</p>"
                         f"<table>{rows}</table>")
