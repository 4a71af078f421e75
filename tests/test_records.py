"""Statuses are declared once (autograder.records): the feedback page explains every row
status, and the README names every row and test status."""

from autograder import config, feedback
from autograder.records import RowStatus, TestStatus, row_status


def test_every_row_status_is_explained_to_students():
    assert set(feedback.STATUS_TEXT) == set(RowStatus), (
        f"feedback.STATUS_TEXT lacks {set(RowStatus) - set(feedback.STATUS_TEXT)}")


def test_the_readme_names_every_status():
    readme = (config.ROOT / "README.md").read_text()
    missing = [status.value for status in (*RowStatus, *TestStatus) if f"`{status.value}`" not in readme]
    assert not missing, f"README.md does not name the statuses {missing}"


def test_a_row_shows_its_most_important_status():
    assert row_status([TestStatus.PASSED, TestStatus.FAILED]) == RowStatus.OK
    assert row_status([TestStatus.TIMEOUT, TestStatus.GRADER_ERROR]) == RowStatus.GRADER_ERROR, (
        "a grader error must show over a timeout: it is never the student's fault")
    assert row_status([TestStatus.KERNEL_DIED, TestStatus.MISSING_FUNCTION]) == RowStatus.MISSING_CELLS
