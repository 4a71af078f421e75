"""Feedback pages: the student's own outputs and plots, never hidden test code."""

import json

import nbformat

from autograder import feedback
from autograder.grading import empty_tests
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
    monkeypatch.setattr(feedback, "_RENDERED", {})
    fresh = feedback.markdown_renderer()
    large = "Some $x^2$ text. " * (feedback.MARKDOWN_CACHED_CHARS // 10)
    sources = [c.source for c in nbformat.read(str(TLN.release_notebook), as_version=4).cells
               if c.cell_type == "markdown"] + [large]
    for _ in range(2):  # the second time from the cache
        for source in sources:
            assert feedback._markdown_html(feedback.markdown_renderer(), source) == \
                fresh.render(source), source[:80]
    assert large not in feedback._RENDERED and len(feedback._RENDERED) <= len(sources) - 1
    monkeypatch.setattr(feedback, "MARKDOWN_CACHED_CELLS", len(feedback._RENDERED))
    feedback._markdown_html(fresh, "a cell *never* seen before")
    assert "a cell *never* seen before" not in feedback._RENDERED, "the cache must stay bounded"
