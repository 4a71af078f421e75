"""A student's test results as the feedback page shows them: the message each test record
may show (``public_message``, which Gradescope's results show too), the tests table with the
passed tests folded away, and the TA's box under a written answer. While hidden results are
withheld (``autograder.outputs.visibility``), hidden tests are only counted."""

import html

from markdown_it import MarkdownIt

from autograder.outputs.markdown_html import clean_html
from autograder.records import OWN_ERROR_STATUSES, Record, TestStatus

GRADER_PROBLEM = ("The grader had a problem of its own here (not caused by your code). "
                  "Your instructor sees it and will regrade.")


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


def hidden_records(result: Record) -> list[Record]:
    """The records of ``result``'s hidden tests."""
    return [r for r in result["tests"] if r.get("hidden")]


def withheld_note(result: Record) -> str:
    """What a page says of the hidden tests while their results are withheld."""
    hidden = hidden_records(result)
    return (f"results of {len(hidden)} hidden test(s) ({sum(r['max_points'] for r in hidden):g} "
            f"points) will be released later")


def shown_tests(result: Record, withhold_hidden: bool) -> list[Record]:
    """The test records a page shows: all, or only the visible ones while hidden results are
    withheld."""
    return [r for r in result["tests"] if not (withhold_hidden and r.get("hidden"))]


def tests_html(result: Record, withhold_hidden: bool = False) -> str:
    """Tests that lost points in a table; the passed ones folded away below it. While
    ``withhold_hidden``, the hidden tests are only counted (see ``withheld_note``)."""
    shown = shown_tests(result, withhold_hidden)
    lost = [r for r in shown if r["status"] != TestStatus.PASSED]
    passed = [r for r in shown if r["status"] == TestStatus.PASSED]
    parts = []
    if withhold_hidden and hidden_records(result):
        parts.append(f"<p class='result pending'>The {withheld_note(result)}.</p>")
    if lost:
        parts.append(f"<table>{TABLE_HEAD}{_test_rows(lost)}</table>")
    if passed:
        points = sum(r["points"] for r in passed)
        parts.append(f"<details{'' if lost else ' open'}><summary>{len(passed)} test(s) passed "
                     f"({points:g} points)</summary><table>{TABLE_HEAD}{_test_rows(passed)}"
                     f"</table></details>")
    return "".join(parts)


def written_box(grade: Record, markdown: MarkdownIt) -> str:
    """Under a written answer: the TA's points and comment, or that it awaits grading."""
    if grade["score"] is None:
        return (f"<div class='result pending'><b>{html.escape(grade['grade_id'])}: not graded "
                f"yet (/ {grade['points']:g})</b> A TA grades this answer by hand.</div>")
    comment = clean_html(markdown, grade["comment"]) if grade["comment"].strip() else ""
    return (f"<div class='result ta'><b>{html.escape(grade['grade_id'])}: {grade['score']:g} / "
            f"{grade['points']:g}</b> (graded by a TA){comment}</div>")
