"""Statuses are declared once (autograder.records): the feedback page explains every row
status, and the docs page on grading's output (docs/grading-output.md) names every row and
test status (the generated docs/reference/statuses page lists them from the code)."""

import json

import pytest

from autograder import config
from autograder.outputs import feedback, storage
from autograder.records import RowStatus, SubmissionResult, TestResult, TestStatus, row_status


def test_every_row_status_is_explained_to_students():
    assert set(feedback.STATUS_TEXT) == set(RowStatus), (
        f"feedback.STATUS_TEXT lacks {set(RowStatus) - set(feedback.STATUS_TEXT)}")


def test_the_docs_name_every_status():
    page = (config.ROOT / "docs" / "grading-output.md").read_text()
    missing = [status.value for status in (*RowStatus, *TestStatus) if f"`{status.value}`" not in page]
    assert not missing, f"docs/grading-output.md does not name the statuses {missing}"


def test_a_row_shows_its_most_important_status():
    assert row_status([TestStatus.PASSED, TestStatus.FAILED]) == RowStatus.OK
    assert row_status([TestStatus.TIMEOUT, TestStatus.GRADER_ERROR]) == RowStatus.GRADER_ERROR, (
        "a grader error must show over a timeout: it is never the student's fault")
    assert row_status([TestStatus.KERNEL_DIED, TestStatus.MISSING_FUNCTION]) == RowStatus.MISSING_CELLS


def test_every_saved_result_reads_as_a_typed_record_and_writes_back_the_same(graded):
    saved = sorted((graded["out"] / "results").rglob("*.json"))
    assert len(saved) >= 8, f"only {len(saved)} results to read"
    for path in saved:
        data = json.loads(path.read_text())
        typed = SubmissionResult.from_json(data)
        assert typed.to_json() == data, f"{path.name}: the round trip changed the record"
        assert (typed.score, typed.total, typed.total_max) == (
            data["score"], data["total"], data["total_max"]), f"{path}: totals differ"
        assert all(isinstance(t, TestResult) for t in typed.tests), path


def test_totals_are_computed_from_tests_and_written_grades():
    tests = [TestResult("a", TestStatus.PASSED, 1.5, 1.5).to_json(),
             TestResult("b", TestStatus.FAILED, 0.1, 2.0, hidden=True,
                        extra={"public": True}).to_json(),
             TestResult("c", TestStatus.PASSED, 0.2, 0.2).to_json()]
    data = {"status": "ok", "message": "", "tests": tests, "score": 1.8, "max_score": 3.7,
            "written": [{"grade_id": "w1", "points": 2.0, "score": 1.0},
                        {"grade_id": "w2", "points": 3.0, "score": None}],
            "student_id": "ada"}
    typed = SubmissionResult.from_json(data)
    assert typed.score == 1.8, "0.1 + 0.2 + 1.5 should round to 1.8, as rows are compared"
    assert (typed.total, typed.total_max) == (2.8, 8.7), (typed.total, typed.total_max)
    assert typed.tests[1].extra == {"public": True} and not typed.tests[1].passed
    assert typed.extra == {"student_id": "ada"}
    unwritten = SubmissionResult.from_json({k: v for k, v in data.items() if k != "written"})
    assert "total" not in unwritten.to_json(), "no total before the written grades are added"


def test_a_result_of_another_shape_is_refused_with_a_reason():
    good = {"status": "ok", "tests": [], "score": 0, "max_score": 1}
    SubmissionResult.from_json(good)
    for bad in ([], {**good, "status": "great"}, {**good, "score": "10"}, {**good, "score": True},
                {**good, "tests": {}}, {**good, "tests": [{"grade_id": "a", "points": 1}]},
                {**good, "tests": [{"grade_id": "a", "points": 1, "status": "won"}]},
                {**good, "written": "all of them"}, {**good, "max_score": None}):
        with pytest.raises(ValueError):
            SubmissionResult.from_json(bad)
        assert not storage.is_result(bad), bad
    assert storage.is_result(good)
