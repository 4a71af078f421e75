"""Bad arguments and unlucky layouts get a clear message and an exit code, never a
traceback or a silent wrong result."""

import csv
import json

from autograder import cli
from autograder.outputs import storage
from course_under_test import FND, TLN


def test_an_unknown_assignment_name_is_refused(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    try:
        code = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                         "--assignment", "nosuch", "--no-gradebook"])
    except SystemExit as exc:
        code = exc.code
    assert code == 2 and "nosuch" in capsys.readouterr().err, code


def test_out_inside_the_submissions_is_refused(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    code = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "subs" / "out"),
                     "--no-gradebook"])
    assert code == 2 and "inside" in capsys.readouterr().err
    assert not (tmp_path / "subs" / "out").exists(), "nothing may be written there"


def test_bad_jobs_are_refused(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    code = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                     "--jobs", "0", "--no-gradebook"])
    assert code == 2 and "--jobs" in capsys.readouterr().err


def test_feedback_on_a_folder_that_is_not_an_out_is_refused(tmp_path, capsys):
    assert cli.main(["feedback", str(tmp_path / "nonexistent")]) == 2
    assert "results/" in capsys.readouterr().err
    assert not (tmp_path / "nonexistent").exists(), "feedback must not create the folder"


def test_release_zip_into_a_folder(tmp_path):
    assert cli.main(["release", TLN.name, "--zip", str(tmp_path)]) == 0
    assert (tmp_path / f"{TLN.name}.zip").is_file()


def result(student, assignment, score):
    return {"student_id": student, "assignment": assignment.name, "notebook": assignment.notebook,
            "status": "ok", "score": score, "max_score": 30.0, "tests": [], "path": None}


def test_grading_one_assignment_keeps_the_others_rows_and_names_cannot_be_formulas(tmp_path):
    out = tmp_path / "out"
    for student, assignment, score in (("=HYPERLINK(1)", FND, 12.0), ("ada", FND, 30.0)):
        path = out / "results" / student / assignment.name / f"{assignment.notebook}.json"
        storage.write_atomic(path, json.dumps(result(student, assignment, score)))
    (tmp_path / "subs").mkdir()
    code = cli.main(["grade", str(tmp_path / "subs"), "--out", str(out), "--assignment", TLN.name,
                     "--no-gradebook", "--no-progress"])
    assert code == 0
    with open(out / "grades.csv", newline="") as handle:
        rows = {(r["student_id"], r["assignment"]): r["score"] for r in csv.DictReader(handle)}
    assert rows == {("'=HYPERLINK(1)", FND.name): "12", ("ada", FND.name): "30"}, rows
