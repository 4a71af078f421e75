"""Statuses are declared once (autograder.records): the feedback page explains every row
status, and the docs page on grading's output (docs/grading-output.md) names every row and
test status (the generated docs/reference/statuses page lists them from the code)."""

from autograder import config
from autograder.outputs import feedback
from autograder.records import RowStatus, TestStatus, row_status


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
