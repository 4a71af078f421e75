"""Feedback pages: the student's own outputs and plots, never hidden test code."""

import json

import nbformat

from autograder import course
from autograder.grading.notebook_grader import empty_tests
from autograder.outputs import feedback, markdown_html, sanitize
from course_under_test import TLN
TESTS = TLN.tests

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def result_with(status_by_id):
    tests = empty_tests(TLN, "passed", "passed")
    for record in tests:
        record["status"] = status_by_id.get(record["grade_id"], "passed")
        record["points"] = record["max_points"] if record["status"] == "passed" else 0.0
        if record["status"] == "failed":
            record["message"] = "expected 0.123456 SECRET-EXPECTED"
    return {"status": "ok", "score": sum(t["points"] for t in tests), "max_score": 30.0,
            "tests": tests, "cells": {}}


def test_page_shows_plots_and_hides_hidden_tests(tmp_path):
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    notebook = nbformat.from_dict(release)
    plot = nbformat.v4.new_code_cell("plot_history(history)", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})])
    notebook.cells.append(plot)
    hidden = next(t for t in TESTS if t.hidden)
    for cell in notebook.cells:  # a student who pasted hidden code into a test cell
        if cell.metadata.get("nbgrader", {}).get("grade_id") == hidden.grade_id:
            cell.source = "### BEGIN HIDDEN TESTS\nSECRET_HIDDEN_CODE = 1\n### END HIDDEN TESTS"
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, str(path))
    result = result_with({hidden.grade_id: "failed", "relu_handout_table": "failed"})
    page = feedback.render("stu", TLN.name, result, path, TLN)
    assert f"data:image/png;base64,{PNG}" in page, "the student's plot is missing"
    assert "SECRET_HIDDEN_CODE" not in page, "hidden test code reached the page"
    hidden_rows = page.count("SECRET-EXPECTED")
    assert hidden_rows == 2, f"the visible test's message should appear twice (table + cell), got {hidden_rows}"
    assert f"It checks: {hidden.summary}" in page, "the hidden test's summary is missing"


def test_minimal_page_when_rendering_fails():
    page = feedback.minimal_page("stu", TLN.name, result_with({}))
    assert "30 / 30" in page and "<table>" in page, page[:300]


def test_feedback_command_skips_bad_result_files_and_keeps_going(tmp_path, capsys):
    from autograder import cli
    results = tmp_path / "out" / "results"
    (results / "bad" / TLN.name).mkdir(parents=True)
    (results / "bad" / TLN.name / f"{TLN.notebook}.json").write_text("[]")
    (results / "good" / TLN.name).mkdir(parents=True)
    good = dict(result_with({}), student_id="good", assignment=TLN.name,
                notebook=TLN.notebook, path=str(tmp_path / "gone.ipynb"))
    (results / "good" / TLN.name / f"{TLN.notebook}.json").write_text(json.dumps(good))
    assert cli.main(["feedback", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "1 result file(s) unreadable" in captured.out, captured
    page = tmp_path / "out" / "feedback" / "good" / TLN.name / f"{TLN.notebook}.html"
    assert "30 / 30" in page.read_text(), page.read_text()[:1000]


def test_markdown_cells_rendered_once_per_process_give_the_same_html(monkeypatch):
    """The cache of rendered Markdown changes nothing on a page: the release's cells, and a
    cell too large to keep, render as a fresh renderer renders them."""
    monkeypatch.setattr(markdown_html, "_RENDERED", {})
    fresh = markdown_html.markdown_renderer()
    large = "Some $x^2$ text. " * (markdown_html.MARKDOWN_CACHED_CHARS // 10)
    sources = [c.source for c in nbformat.read(str(TLN.release_notebook), as_version=4).cells
               if c.cell_type == "markdown"] + [large]
    for _ in range(2):  # the second time from the cache
        for source in sources:
            assert markdown_html.clean_html(markdown_html.markdown_renderer(), source) == \
                sanitize.clean(fresh.render(source)), source[:80]
    assert large not in markdown_html._RENDERED and \
        len(markdown_html._RENDERED) <= len(sources) - 1
    monkeypatch.setattr(markdown_html, "MARKDOWN_CACHED_CELLS", len(markdown_html._RENDERED))
    markdown_html.clean_html(fresh, "a cell *never* seen before")
    assert "a cell *never* seen before" not in markdown_html._RENDERED, \
        "the cache must stay bounded"


def _outside_code(page_html):
    """The text of ``page_html`` outside <code>, <pre> and <math> elements."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.depth, self.parts = 0, []

        def handle_starttag(self, tag, attrs):
            self.depth += tag in ("code", "pre", "math")

        def handle_endtag(self, tag):
            self.depth -= tag in ("code", "pre", "math")

        def handle_data(self, data):
            if not self.depth:
                self.parts.append(data)

    parser = Text()
    parser.feed(page_html)
    return "".join(parser.parts)


def test_every_markdown_cell_of_every_release_renders_its_math():
    """Issue 19: `$$...$$` (in a paragraph, over several lines) is a MathML block, and no `$`
    of any release's Markdown cell is left as text outside code."""
    markdown, cells = markdown_html.markdown_renderer(), 0
    for assignment in course.current().assignments:
        release = nbformat.read(str(assignment.release_notebook), as_version=4)
        for index, cell in enumerate(release.cells):
            if cell.cell_type != "markdown":
                continue
            cells += 1
            shown = markdown_html.clean_html(markdown, cell.source)
            left = _outside_code(shown)
            assert "$" not in left, (assignment.name, index,
                                     left[max(0, left.find("$") - 80):][:200])
            if "$$" in cell.source:
                assert 'display="block"' in shown, (assignment.name, index)
    assert cells > 10


def test_display_math_forms():
    markdown = markdown_html.markdown_renderer()
    for source in ("text\n$$x^2$$\nmore", "text\n$$\nx^2\n+ 1\n$$\nmore", "$$x^2$$",
                   "a $$\\frac{1}{2}$$ b and $y$"):
        shown = markdown_html.clean_html(markdown, source)
        assert 'display="block"' in shown and "$" not in _outside_code(shown), (source, shown)


def test_text_in_math_is_text():
    """\\text{...} is escaped at conversion (the sanitizer is the wall, this the first step)."""
    shown = markdown_html._math("\\text{a<b & <i>c</i>} < d", False)
    assert "<i>" not in shown and "a&lt;b" in shown and "&amp;" in shown, shown


def test_no_test_summary_ends_mid_sentence():
    """Issue 19: a summary is the docstring's whole first paragraph, on one line."""
    for assignment in course.current().assignments:
        for test in assignment.tests:
            assert "\n" not in test.summary and test.summary.rstrip().endswith(
                (".", ")", "?", "!")), (test.grade_id, test.summary)


def test_math_spans_cost_linear_time():
    """A cell of 48,000 characters of math openings (each scanned once, not once per `$`)."""
    import time
    markdown = markdown_html.markdown_renderer()
    for source in ("$a " * 16000, "$$a\n+ " * 8000, "`$a` " * 9000 + "$"):
        started = time.perf_counter()
        markdown_html.clean_html(markdown, source)
        assert time.perf_counter() - started < 20, source[:20]
