"""Grades land in nbgrader's gradebook; nbgrader's export and feedback keep working."""

import csv
import os
import shutil
import sqlite3
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import config, demo
from leaks import escaped, hidden_test_lines
from course_under_test import TLN


@pytest.fixture(scope="module")
def course(graded):
    return graded["out"] / "nbgrader"


def nbgrader(course, *args):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"nbgrader {args} failed: {done.stderr[-2000:]}"
    return done


def test_gradebook_scores_equal_the_csv(graded, course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "two_layer_net_course") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(TLN.name)}
    for student, row in graded["rows"].items():
        if row["notebook"] == TLN.notebook and row["assignment"] == TLN.name:
            assert scores.get(student) == float(row["score"]), (
                f"{student}: gradebook {scores.get(student)}, csv {row['score']}")


def test_nbgrader_export_lists_every_student(graded, course):
    nbgrader(course, "export", "--to", "export.csv")
    with open(course / "export.csv", newline="") as handle:
        exported = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(handle)}
    assert exported["ada_correct"] == 30.0 and exported["fay_untouched"] == 0.0, exported


def test_ta_manual_grade_and_comment_reach_the_released_feedback(course):
    student = "ada_correct"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "two_layer_net_course") as gb:
        grade = gb.find_grade("derivation_backprop", TLN.notebook, TLN.name, student)
        grade.manual_score = 3
        comment = gb.find_comment("derivation_backprop", TLN.notebook, TLN.name, student)
        comment.manual_comment = "Right shapes; the ReLU mask is missing from dL/db1."
        gb.db.commit()
    nbgrader(course, "generate_feedback", TLN.name, "--student", student, "--force")
    page = (course / "feedback" / student / TLN.name / f"{TLN.notebook}.html").read_text()
    assert "the ReLU mask is missing from dL/db1" in page, "TA comment missing from feedback"
    assert "Score: 33.0 / 36.0" in page or "33.0" in page, "total with the manual score missing"
    assert "BEGIN HIDDEN" not in page and "from solutions" not in page, "hidden test shown"
    for grade_id, line in hidden_test_lines():
        assert line not in page and escaped(line) not in page, f"feedback shows {grade_id}: {line}"


def test_rerun_regrades_only_the_changed_submission_and_updates_the_gradebook(graded, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(graded["subs"], subs)
    shutil.copytree(graded["out"], out)
    fixed = subs / "cat_loss_over_nk" / TLN.name / f"{TLN.notebook}.ipynb"
    correct = demo.functions_in((TLN.demo_dir / "students") / f"{demo.CORRECT}.py")
    nbformat.write(demo.fill(nbformat.read(str(fixed), as_version=4), correct), str(fixed))
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
                           "--jobs", "2", "--no-progress"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    reused = len(graded["rows"]) - 1
    assert f"{reused} unchanged submission(s) reused" in done.stdout, done.stdout[-600:]
    with Gradebook(f"sqlite:///{out / 'nbgrader' / 'gradebook.db'}", "two_layer_net_course") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(TLN.name)}
    assert scores["cat_loss_over_nk"] == 30.0, f"the fixed submission: {scores}"
    assert scores["ben_softmax_epsilon"] == float(graded["rows"]["ben_softmax_epsilon"]["score"]), scores


def test_outputs_follow_the_cells_when_a_notebook_is_rebuilt_from_the_release(tmp_path):
    """A submission that lost a test cell is rebuilt from the release for the gradebook; the
    student's outputs must land on the cells they came from, not on whatever cell now has
    the same index."""
    from autograder.gradebook import autograde as gradebook_record, sync as gradebook
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    notebook = demo.fill(release, demo.functions_in((TLN.demo_dir / "students") / f"{demo.CORRECT}.py"))
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]
    notebook.cells.pop(ids.index("relu_handout_table"))  # a deleted test cell: shifts indices
    answer = next(c for c in notebook.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_softmax")
    answer.outputs = [nbformat.v4.new_output("stream", name="stdout", text="MARK-softmax\n")]
    path = tmp_path / "submitted.ipynb"
    nbformat.write(notebook, str(path))
    result = {"path": str(path), "tests": []}
    rebuilt = gradebook.submission_for_gradebook(result, release)
    outputs = tmp_path / "outputs" / "ada" / TLN.name
    outputs.mkdir(parents=True)
    nbformat.write(rebuilt, str(outputs / f"{TLN.notebook}.ipynb"))
    (outputs / f"{TLN.notebook}.json").write_text('{"tests": []}')
    cleared = nbformat.from_dict(rebuilt)
    for cell in cleared.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    inject = gradebook_record.InjectResults(outputs_dir=str(tmp_path / "outputs"))
    done, _ = inject.preprocess(cleared, {"nbgrader": {"student": "ada", "assignment": TLN.name,
                                                       "notebook": TLN.notebook}})
    marked = [c.metadata.get("nbgrader", {}).get("grade_id") for c in done.cells
              if c.cell_type == "code" and "MARK-softmax" in str(c.outputs)]
    assert marked == ["answer_softmax"], f"the student's output landed on {marked}"


def test_the_course_folder_is_regenerated_when_nnlab_changes(tmp_path, monkeypatch):
    from autograder.gradebook import sync as gradebook
    package = tmp_path / "nnlab"
    shutil.copytree(config.STUDENT_PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(config, "STUDENT_PACKAGE", package)
    before = gradebook.source_fingerprint(TLN)
    (package / "plots.py").write_text((package / "plots.py").read_text() + "\n# changed\n")
    assert gradebook.source_fingerprint(TLN) != before, "a change to nnlab/ went unnoticed"


def test_odd_ids_and_lost_metadata_reach_the_gradebook_and_reruns_touch_nothing(graded, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(graded["subs"], subs)
    shutil.copytree(graded["out"], out)
    correct = demo.functions_in((TLN.demo_dir / "students") / f"{demo.CORRECT}.py")
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    comma = subs / "Smith, John" / TLN.name / f"{TLN.notebook}.ipynb"
    comma.parent.mkdir(parents=True)
    nbformat.write(demo.fill(release, correct), str(comma))
    damaged = demo.fill(release, correct)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in damaged.cells]
    del damaged.cells[ids.index("relu_handout_table")]  # a deleted test cell ...
    answer = next(c for c in damaged.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_relu")
    del answer.metadata["nbgrader"]["grade_id"]  # ... and an answer cell without its id
    lost = subs / "lost_metadata" / TLN.name / f"{TLN.notebook}.ipynb"
    lost.parent.mkdir(parents=True)
    nbformat.write(damaged, str(lost))
    command = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
               "--jobs", "2", "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr[-2000:]
    with Gradebook(f"sqlite:///{out / 'nbgrader' / 'gradebook.db'}", "two_layer_net_course") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(TLN.name)}
    rows = {r["student_id"]: r for r in csv.DictReader(open(out / "grades.csv", newline=""))}
    assert scores["Smith, John"] == float(rows["Smith, John"]["score"]) == 30.0, scores
    assert scores["lost_metadata"] == float(rows["lost_metadata"]["score"]), (scores, rows["lost_metadata"])
    assert set(scores) >= set(graded["rows"]) - {"broken_json"} - {"empty_folder"}, scores
    autograded = out / "nbgrader" / "autograded"
    before = {p: p.stat().st_mtime for p in autograded.rglob("*.ipynb")}
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr[-2000:]
    after = {p: p.stat().st_mtime for p in autograded.rglob("*.ipynb")}
    assert after == before, "an unchanged rerun autograded submissions again"


def test_the_sync_marker_follows_the_result_not_just_the_notebook():
    from autograder.gradebook import sync as gradebook
    tests = [{"grade_id": "relu_properties", "points": 0.0, "status": "grader_error",
              "message": "sandbox"}]
    first = {"status": "grader_error", "score": 0.0, "tests": tests, "key": "SAME", "seconds": 1}
    rerun = dict(first, seconds=9, reused=True)
    regraded = dict(first, status="ok", score=1.0,
                    tests=[dict(tests[0], points=1.0, status="passed", message="passed")])
    assert gradebook.result_digest(first) == gradebook.result_digest(rerun), "timing changed it"
    assert gradebook.result_digest(first) != gradebook.result_digest(regraded), (
        "a regrade of the same notebook with another outcome must reach the gradebook")


def _rows(database):
    """What nbgrader's autograde writes in a gradebook, by student and cell name."""
    joins = ("join submitted_notebook n on n.id = x.notebook_id "
             "join submitted_assignment a on a.id = n.assignment_id "
             "join base_cell c on c.id = x.cell_id")
    with sqlite3.connect(database) as db:
        return {"grades": sorted(db.execute(
                    f"select a.student_id, c.name, x.auto_score, x.manual_score, "
                    f"x.needs_manual_grade from grade x {joins}")),
                "comments": sorted(db.execute(
                    f"select a.student_id, c.name, x.auto_comment, x.manual_comment "
                    f"from comment x {joins}")),
                "notebooks": sorted(db.execute(
                    "select a.student_id, a.timestamp, n.late_submission_penalty, n.flagged "
                    "from submitted_notebook n join submitted_assignment a "
                    "on a.id = n.assignment_id"))}


def test_the_record_is_what_nbgraders_own_autograde_makes(graded, tmp_path):
    """From the same course without submissions, nbgrader's autograde run by hand (the
    course's configuration puts InjectResults in place of its Execute) and the in-process
    pass write the same autograded notebooks and the same gradebook rows."""
    from autograder.gradebook import sync as gradebook
    from autograder.outputs import storage
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    course = out / "nbgrader"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "two_layer_net_course") as gb:
        students = [s.student.id for s in gb.assignment_submissions(TLN.name)]
        for student in students:
            gb.remove_submission(TLN.name, student)
    shutil.rmtree(course / "autograded")
    for marker in (course / "outputs").rglob("*.synced"):
        marker.unlink()
    theirs = tmp_path / "by_nbgrader"
    shutil.copytree(course, theirs)
    nbgrader(theirs, "autograde", TLN.name, "--create", f"--CourseDirectory.root={theirs}",
             f"--InjectResults.outputs_dir={theirs / 'outputs'}")
    assert gradebook.sync(out, storage.saved_results(out))[1] == []
    mine = {p.relative_to(course / "autograded"): p for p in (course / "autograded").rglob("*")
            if p.is_file()}
    made = {p.relative_to(theirs / "autograded"): p for p in (theirs / "autograded").rglob("*")
            if p.is_file()}
    assert sorted(mine) == sorted(made) and len(students) > 5, set(mine) ^ set(made)
    for relative, path in mine.items():
        assert path.read_bytes() == made[relative].read_bytes(), f"{relative} differs"
        assert path.stat().st_mode == made[relative].stat().st_mode, f"{relative}: permissions"
    assert _rows(course / "gradebook.db") == _rows(theirs / "gradebook.db")


def test_a_class_is_recorded_in_chunks_of_transactions(graded, tmp_path, monkeypatch):
    """RECORD_CHUNK bounds the notebooks held in memory: chunks of 2 record the same."""
    from autograder.gradebook import sync as gradebook
    from autograder.outputs import storage
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    course = out / "nbgrader"
    shutil.rmtree(course)  # recorded afresh
    calls = []
    real = gradebook.gradebook_record.record
    monkeypatch.setattr(gradebook, "RECORD_CHUNK", 2)
    monkeypatch.setattr(gradebook.gradebook_record, "record",
                        lambda course, assignment, pending: calls.append(len(pending))
                        or real(course, assignment, pending))
    results = storage.saved_results(out)
    assert gradebook.sync(out, results)[1] == []
    recorded = [r for r in results if r["gradebook"] == gradebook.RECORDED]
    assert len(recorded) > 5 and max(calls) == 2 and sum(calls) == len(recorded), calls
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", config_course_id()) as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(TLN.name)}
    assert scores == {r["student_id"]: r["score"] for r in recorded}, scores


def config_course_id():
    from autograder import course as courses
    return courses.current().course_id


def test_a_rerun_keeps_the_tas_grades_and_flags_a_changed_result_for_review(graded, tmp_path):
    """As nbgrader's autograde does: a changed result replaces the autograded scores and
    comments, keeps the TA's manual scores and comments, and marks the cells a TA scored as
    needing review; an unchanged result is not touched at all."""
    from autograder.gradebook import sync as gradebook
    from autograder.outputs import storage
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    changed, unchanged = "ada_correct", "ben_softmax_epsilon"
    database = f"sqlite:///{out / 'nbgrader' / 'gradebook.db'}"
    with Gradebook(database, "two_layer_net_course") as gb:
        for student in (changed, unchanged):
            for name in ("derivation_backprop", "relu_properties"):
                grade = gb.find_grade(name, TLN.notebook, TLN.name, student)
                grade.manual_score, grade.needs_manual_grade = 1.0, False
            comment = gb.find_comment("derivation_backprop", TLN.notebook, TLN.name, student)
            comment.manual_comment = f"TA comment for {student}"
        gb.db.commit()
    notebook = out / "nbgrader" / "autograded" / unchanged / TLN.name / f"{TLN.notebook}.ipynb"
    before = notebook.stat().st_mtime_ns
    results = storage.saved_results(out)
    mine = next(r for r in results if r["student_id"] == changed and r["assignment"] == TLN.name)
    test = next(t for t in mine["tests"] if t["status"] == "passed" and t["points"] > 0
                and t["grade_id"] != "relu_properties")
    mine["score"] -= test["points"]
    test.update(points=0.0, status="failed", message="now wrong")
    assert gradebook.sync(out, results)[1] == []
    with Gradebook(database, "two_layer_net_course") as gb:
        def state(student, name):
            grade = gb.find_grade(name, TLN.notebook, TLN.name, student)
            return grade.auto_score, grade.manual_score, grade.needs_manual_grade
        assert state(changed, test["grade_id"])[0] == 0.0, "the changed result was not recorded"
        assert state(changed, "derivation_backprop")[1:] == (1.0, True), "TA score lost or not flagged"
        assert state(changed, "relu_properties")[1:] == (1.0, True), "TA override lost or not flagged"
        for name in ("derivation_backprop", "relu_properties"):
            assert state(unchanged, name)[1:] == (1.0, False), f"unchanged {unchanged} was touched"
        for student in (changed, unchanged):
            comment = gb.find_comment("derivation_backprop", TLN.notebook, TLN.name, student)
            assert comment.manual_comment == f"TA comment for {student}", "TA comment lost"
        relu = next(t for t in mine["tests"] if t["grade_id"] == "relu_properties")["points"]
        code_score = gb.find_submission_notebook(TLN.notebook, TLN.name, changed).code_score
        assert code_score == mine["score"] - relu + 1.0, (
            f"code score {code_score}: the new autograded points, with the TA's 1 for relu_properties")
    assert notebook.stat().st_mtime_ns == before, "an unchanged result's notebook was rewritten"


def test_the_assignment_is_generated_again_in_process_and_keeps_the_submissions(course, tmp_path,
                                                                                monkeypatch):
    """A changed source reruns nbgrader's generate_assignment (in this process, with the
    course's configuration), over a gradebook that holds submissions."""
    from autograder.gradebook import sync as gradebook
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    (copy / "nbgrader_config.py").write_text((copy / "nbgrader_config.py").read_text().replace(
        repr(str(course)), repr(str(copy))))
    (copy / "release" / TLN.name / f"{TLN.notebook}.ipynb").unlink()
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # nbgrader's alembic must still be found
    gradebook.generate_assignment(copy, TLN)
    assert (copy / "release" / TLN.name / f"{TLN.notebook}.ipynb").exists(), "no release written"
    assert os.environ["PATH"] == "/usr/bin:/bin", "PATH not restored"
    with Gradebook(f"sqlite:///{copy / 'gradebook.db'}", "two_layer_net_course") as gb:
        assert len(gb.assignment_submissions(TLN.name)) > 5, "the submissions were lost"
    (copy / "source" / TLN.name / f"{TLN.notebook}.ipynb").write_text("{not json")
    with pytest.raises(RuntimeError, match="generate_assignment two_layer_net failed"):
        gradebook.generate_assignment(copy, TLN)


def test_a_new_gradebook_is_the_one_nbgrader_creates(tmp_path):
    """create_gradebook reads the alembic revision in-process; the database must be the
    one nbgrader's own Gradebook makes (tables, indexes, revision)."""
    from autograder.gradebook import sync as gradebook

    def schema(database):
        with sqlite3.connect(database) as connection:
            tables = sorted(connection.execute("SELECT type, name, sql FROM sqlite_master"))
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        return tables, revision

    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    gradebook.create_gradebook(ours)
    with Gradebook(f"sqlite:///{theirs}"):
        pass
    with Gradebook(f"sqlite:///{ours}"):  # nbgrader takes it as an existing gradebook
        pass
    assert schema(ours) == schema(theirs), "the gradebook differs from nbgrader's"
    assert len(schema(ours)[1]) == 1, schema(ours)[1]
    assert not list(tmp_path.glob(".partial-*")), "a partial gradebook was left behind"
