"""Per-student feedback as one self-contained HTML page.

What a student sees: each test's points, what it checked, and a message in their own
terms; their notebook as they submitted it (their outputs and plots) with the test
results placed under the test cells. What they never see: hidden test code, hidden
expected values, reference code. Test cells are shown from the release (hidden ones as
the release's one-line placeholder), whatever the submission contains there, and a
hidden test that failed says only what it checks.
"""

import html

import mistune
import nbformat

from autograder.suite import BY_ID

STATUS_TEXT = {
    "ok": "graded normally",
    "invalid_notebook": "the file could not be read as a notebook",
    "missing_cells": "a function the tests need is missing (deleted cell or renamed function)",
    "memory_limit": "some code ran out of memory",
    "timeout": "some code ran past its time limit",
    "kernel_died": "some code ended the Python process",
    "grader_error": "the grader had a problem of its own; your instructor will regrade",
    "missing_notebook": "no notebook was found in the submission",
    "unknown_assignment": "the folder is not an assignment this grader knows",
    "unexpected_notebook": "this file is not the assignment's notebook, so it was not graded",
}
GRADER_PROBLEM = ("The grader had a problem of its own here (not caused by your code). "
                  "Your instructor sees it and will regrade.")
OWN_ERROR_STATUSES = {"error", "not_implemented", "missing_function", "timeout", "kernel_died",
                      "memory_limit", "not_run"}

CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;
vertical-align:top;text-align:left}pre{white-space:pre-wrap;margin:0;font-size:.85rem}
.passed{background:#e9f7ec}.lost{background:#fdecea}.result{margin:.3rem 0 1rem;padding:.5rem;
border-left:4px solid #999}.cell{margin:1rem 0}.source{background:#f6f6f6;padding:.5rem}
.output{padding:.5rem}img{max-width:100%}
"""


def public_message(record):
    """The message a student may see for one test record."""
    if record["status"] == "grader_error":
        return GRADER_PROBLEM  # details (tracebacks, paths) are for the instructor only
    if not record.get("hidden") or record["status"] == "passed":
        return record["message"]
    if record["status"] in OWN_ERROR_STATUSES:
        return record["message"]  # the student's own error, not the test's internals
    return ("This hidden test did not pass. It checks: " + record["summary"] +
            " Re-check that function against its description and the visible tests.")


def _test_rows(result):
    rows = []
    for record in result["tests"]:
        css = "passed" if record["status"] == "passed" else "lost"
        rows.append(
            f"<tr class='{css}'><td>{html.escape(record['grade_id'])}"
            f"{' (hidden)' if record['hidden'] else ''}</td>"
            f"<td>{html.escape(record['summary'])}</td>"
            f"<td>{record['points']:g} / {record['max_points']:g}</td>"
            f"<td>{html.escape(record['status'])}</td>"
            f"<td><pre>{html.escape(public_message(record))}</pre></td></tr>")
    return "".join(rows)


def _safe_cells(notebook, release):
    """Cells to show: test cells replaced by the release's version of them."""
    released = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in release.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id")}
    for cell in notebook.cells:
        grading = cell.get("metadata", {}).get("nbgrader")
        grade_id = grading.get("grade_id") if isinstance(grading, dict) else None
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if grade_id in BY_ID or "BEGIN HIDDEN TESTS" in source:
            shown = released.get(grade_id)
            yield ("code", shown.source if shown is not None else "# (test cell)", [], grade_id)
        else:
            yield (cell.get("cell_type"), source, cell.get("outputs", []), grade_id)


def _outputs_html(outputs):
    parts = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text = output.get("text", "")
            parts.append(f"<pre>{html.escape(''.join(text) if isinstance(text, list) else text)}</pre>")
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "image/png" in data:
                png = data["image/png"]
                png = "".join(png) if isinstance(png, list) else png
                parts.append(f"<img alt='plot' src='data:image/png;base64,{html.escape(png.strip())}'>")
            elif "text/plain" in data:
                text = data["text/plain"]
                parts.append(f"<pre>{html.escape(''.join(text) if isinstance(text, list) else text)}</pre>")
        elif kind == "error":
            parts.append(f"<pre>{html.escape(output.get('ename', ''))}: "
                         f"{html.escape(str(output.get('evalue', '')))}</pre>")
    return "".join(parts)


def _notebook_html(notebook, release, result):
    by_id = {record["grade_id"]: record for record in result["tests"]}
    parts = []
    markdown = mistune.create_markdown(escape=True)  # the student's raw HTML stays text
    for kind, source, outputs, grade_id in _safe_cells(notebook, release):
        if kind == "markdown":
            parts.append(f"<div class='cell'>{markdown(source)}</div>")
        else:
            parts.append(f"<div class='cell'><pre class='source'>{html.escape(source)}</pre>"
                         f"<div class='output'>{_outputs_html(outputs)}</div></div>")
        if grade_id in by_id:
            record = by_id[grade_id]
            parts.append(f"<div class='result {'passed' if record['status'] == 'passed' else 'lost'}'>"
                         f"<b>{html.escape(grade_id)}: {record['points']:g} / {record['max_points']:g}"
                         f"</b><pre>{html.escape(public_message(record))}</pre></div>")
    return "".join(parts)


def _row_message(result):
    return GRADER_PROBLEM if result["status"] == "grader_error" else result["message"]


def render(student_id, assignment, result, notebook_path, release_path):
    """The feedback page for one graded submission."""
    release = nbformat.read(str(release_path), as_version=4)
    notebook_part = ""
    if result["status"] != "invalid_notebook":
        try:
            notebook = nbformat.read(str(notebook_path), as_version=4)
            notebook_part = "<h2>Your notebook</h2>" + _notebook_html(notebook, release, result)
        except Exception as exc:  # a notebook the grader could read must not break feedback
            notebook_part = f"<p>Your notebook could not be shown ({html.escape(type(exc).__name__)}).</p>"
    problems = "".join(
        f"<li>cell {html.escape(index)}: <pre>{html.escape(cell.get('message') or '')}</pre></li>"
        for index, cell in result.get("cells", {}).items() if not cell.get("ok"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Feedback: {html.escape(assignment)}</title>
<style>{CSS}</style></head><body>
<h1>Feedback on {html.escape(assignment)}</h1>
<p>Student: <b>{html.escape(student_id)}</b>. Autograded score:
<b>{result['score']:g} / {result['max_score']:g}</b>. Status: {html.escape(result['status'])}
({html.escape(STATUS_TEXT.get(result['status'], result['status']))}).
Written answers are graded by a TA and not included in this score.</p>
{f"<p>{html.escape(_row_message(result))}</p>" if result.get('message') else ""}
{f"<h2>Cells that raised errors when your notebook was run</h2><ul>{problems}</ul>" if problems else ""}
<h2>Tests</h2>
<table><tr><th>test</th><th>what it checks</th><th>points</th><th>status</th><th>message</th></tr>
{_test_rows(result)}</table>
{notebook_part}
</body></html>
"""


def minimal_page(student_id, assignment, result):
    """A plain page with the scores only, for when the full page cannot be made."""
    rows = "".join(f"<tr><td>{html.escape(str(t['grade_id']))}</td><td>{t['points']:g} / "
                   f"{t['max_points']:g}</td><td>{html.escape(str(t['status']))}</td></tr>"
                   for t in result["tests"])
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Feedback</title>"
            f"</head><body><h1>Feedback on {html.escape(assignment)}</h1><p>Student "
            f"{html.escape(student_id)}: {result['score']:g} / {result['max_score']:g}</p>"
            f"<table>{rows}</table></body></html>\n")
