"""The `grade` contract: CSV columns and rows, statuses, exit code, feedback without leaks."""

import csv
import json
import shutil
import subprocess
import sys

import nbformat
import pytest

import solutions.two_layer_net as solutions
from autograder import build, cells
from autograder.grading import notebook_grader
from autograder.grading.written_grades import written_cells
from autograder.outputs.storage import ROW_FIELDS, TOTAL_FIELDS
from course_under_test import TLN
BY_ID, TESTS, target_of = TLN.by_id, TLN.tests, TLN.target_of
from leaks import escaped, hidden_test_lines

# For each buggy demo student: the function that is broken, and every function whose
# tests may lose points because they call it.
BROKEN = {
    "ben_softmax_epsilon": ("softmax", {"softmax"}),  # forward and train: graded on composition
    "cat_loss_over_nk": ("averageCE", {"averageCE", "train"}),
    "dan_inplace_mask": ("backprop", {"backprop", "train"}),
    "eli_momentum_ignored": ("sgd_momentum_step", {"sgd_momentum_step", "train"}),
}


def lost_tests(row):
    return {g for g in BY_ID if float(row[g]) < BY_ID[g].points}


def test_exit_code_zero_and_gradebook_printed(graded):
    done = graded["done"]
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert "ada_correct" in done.stdout and "status counts" in done.stdout, done.stdout


def test_csv_columns_and_one_row_per_submission(graded):
    with open(graded["out"] / "grades.csv", newline="") as handle:
        header = next(csv.reader(handle))
    written = [cell.grade_id for cell in written_cells(TLN)]
    assert written == ["derivation_softmax_ce", "derivation_backprop"], written
    assert header == ROW_FIELDS + [t.grade_id for t in TESTS] + written + TOTAL_FIELDS, header
    expected = set(BROKEN) | {"ada_correct", "fay_untouched", "zz_reference", "broken_json",
                              "empty_folder"}
    assert set(graded["rows"]) == expected, sorted(graded["rows"])
    for row in graded["rows"].values():
        total = sum(float(row[t.grade_id]) for t in TESTS)
        assert abs(total - float(row["score"])) < 1e-9, f"{row['student_id']}: {total} != {row['score']}"
        assert float(row["max_score"]) == 30, row
        assert float(row["total_max"]) == 36 and row["total"] == row["score"], (
            f"{row['student_id']}: before any TA grading the total is the autograded score "
            f"out of 36, got {row['total']} / {row['total_max']}")
        assert all(row[g] == "" for g in written), f"{row['student_id']}: written answers graded?"


def test_reference_and_correct_student_get_full_marks(graded):
    for student in ("zz_reference", "ada_correct"):
        row = graded["rows"][student]
        assert (row["score"], row["status"]) == ("30", "ok"), f"{student}: {row}"


def test_untouched_release_scores_zero_on_every_test(graded):
    row = graded["rows"]["fay_untouched"]
    assert lost_tests(row) == set(BY_ID) and row["status"] == "ok", row


@pytest.mark.parametrize("student", sorted(BROKEN))
def test_buggy_students_lose_points_only_where_the_bug_reaches(graded, student):
    function, reach = BROKEN[student]
    lost = lost_tests(graded["rows"][student])
    assert {target_of(BY_ID[g]) for g in lost} <= reach, f"{student} lost {sorted(lost)}"
    assert any(target_of(BY_ID[g]) == function for g in lost), f"{student} lost {sorted(lost)}"


def test_bad_inputs_get_a_clear_status(graded):
    assert graded["rows"]["broken_json"]["status"] == "invalid_notebook", graded["rows"]["broken_json"]
    assert graded["rows"]["empty_folder"]["status"] == "missing_notebook", graded["rows"]["empty_folder"]


def reference_lines():
    for function in solutions.STUDENT_FUNCTIONS:
        body = build.answer_source(function).split("### BEGIN SOLUTION\n")[1]
        for line in body.splitlines():
            if len(line.strip()) > 30 and "END SOLUTION" not in line:
                yield function.__name__, line.strip()


def test_feedback_pages_never_show_hidden_tests_or_reference_code(graded):
    pages = sorted((graded["out"] / "feedback").rglob("*.html"))
    assert len(pages) == len(graded["rows"]), f"{len(pages)} pages for {len(graded['rows'])} rows"
    for page in pages:
        student = page.relative_to(graded["out"] / "feedback").parts[0]
        html = page.read_text()
        assert "from solutions" not in html and "BEGIN HIDDEN" not in html, f"{page}"
        for grade_id, line in hidden_test_lines():
            assert line not in html and escaped(line) not in html, f"{page} shows {grade_id}: {line}"
        if student == "zz_reference":
            continue  # that submission *is* the reference
        submitted = (graded["subs"] / student).rglob("*.ipynb")
        own = "".join(p.read_text() for p in submitted)
        for name, line in reference_lines():
            if line not in own:
                assert line not in html, f"{page} shows reference code of {name}: {line}"


def test_feedback_explains_each_lost_point(graded):
    page = (graded["out"] / "feedback" / "cat_loss_over_nk" / TLN.name /
            f"{TLN.notebook}.html").read_text()
    assert "averageCE(handout batch) is off" in page, "visible test message missing"
    assert "This hidden test did not pass. It checks:" in page, "hidden test summary missing"
    assert "0 / 1" in page and "27 / 30" in page, "points missing"


def test_results_json_has_a_status_per_test(graded):
    result = json.loads((graded["out"] / "results" / "fay_untouched" / TLN.name /
                         f"{TLN.notebook}.json").read_text())
    statuses = {t["grade_id"]: t["status"] for t in result["tests"]}
    assert set(statuses.values()) == {"not_implemented"}, statuses
    assert result["isolation"] in ("bubblewrap", "rlimits"), result["isolation"]


def test_grade_on_a_missing_folder_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "nope"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 2 and "not a folder" in done.stderr, (done.returncode, done.stderr)


def test_release_notebook_is_read_once_and_again_when_rebuilt(tmp_path):
    release = tmp_path / "release.ipynb"
    shutil.copy(TLN.release_notebook, release)
    first = cells.release_notebook(release)
    assert cells.release_notebook(release) is first, "read again although unchanged"
    notebook = nbformat.read(str(release), as_version=4)
    notebook.cells = notebook.cells[:3]
    nbformat.write(notebook, str(release))
    assert len(cells.release_notebook(release).cells) == 3, "a rebuilt release was not reread"


def test_timing_fills_each_phase_and_changes_no_result(tmp_path):
    path = tmp_path / "fay" / TLN.name / f"{TLN.notebook}.ipynb"
    path.parent.mkdir(parents=True)
    shutil.copy(TLN.release_notebook, path)
    timing = {}
    timed = notebook_grader.grade_notebook(path, TLN, timing=timing)
    plain = notebook_grader.grade_notebook(path, TLN)
    assert {**timed, "seconds": 0} == {**plain, "seconds": 0}, "timing changed the result"
    assert set(timing) == {"start", "cells", "tests", "close"}, timing
    assert set(timing["tests"]) == {test.grade_id for test in TLN.tests}, timing["tests"]
    assert timing["start"] > 0 and timing["cells"] > 0 and min(timing["tests"].values()) >= 0
