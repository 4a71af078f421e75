"""Submissions and student ids nbgrader cannot take cost only themselves.

nbgrader's autograde steps stop on a copy-pasted answer cell (its DeduplicateIds empties the
copy's metadata and the schema check then fails) and on ids its path patterns cannot match.
The gradebook pass hands them a copy they take, refuses ids nbgrader cannot hold (each with
a reason), records each submission on its own so a failure costs only that submission, and
``grade`` exits 3 when the gradebook and grades.csv disagree. Results are made here from
the release (no sandbox) except in the last test, which grades through the CLI.
"""

import copy
import csv
import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.preprocessors import CheckCellMetadata, DeduplicateIds

from autograder import demo, text
from autograder.cells import grade_id_of
from autograder.gradebook import autograde as gradebook_record, sync as gradebook
from autograder.gradebook.notebook import nbgrader_problems
from course_under_test import COURSE, TLN

TESTS = TLN.tests

RELEASE = nbformat.read(str(TLN.release_notebook), as_version=4)
FUNCTIONS = demo.functions_in((TLN.demo_dir / "students") / f"{demo.CORRECT}.py")
WRITTEN = next(grade_id_of(c) for c in RELEASE.cells
               if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution"))


def correct():
    return demo.fill(RELEASE, FUNCTIONS)


def at(notebook, grade_id):
    return next(i for i, c in enumerate(notebook.cells) if grade_id_of(c) == grade_id)


def duplicated(grade_id, suffix=""):
    def make():
        notebook = correct()
        cell = copy.deepcopy(notebook.cells[at(notebook, grade_id)])
        cell.source += suffix
        notebook.cells.insert(at(notebook, grade_id) + 1, cell)
        return notebook
    return make


def changed(change, grade_id="answer_relu"):
    def make():
        notebook = correct()
        change(notebook, notebook.cells[at(notebook, grade_id)])
        return notebook
    return make


def set_meta(key, value):
    return lambda notebook, cell: cell.metadata.nbgrader.__setitem__(key, value)


def retyped(cell_type):
    def change(notebook, cell):
        notebook.cells[notebook.cells.index(cell)] = getattr(nbformat.v4, f"new_{cell_type}_cell")(
            cell.source, metadata=cell.metadata)
    return change


def plain_copy(notebook, cell):
    index = next(i for i, c in enumerate(notebook.cells) if "nbgrader" not in c.metadata)
    notebook.cells.insert(index + 1, copy.deepcopy(notebook.cells[index]))  # same cell id


def without_ids(notebook, cell):
    notebook.nbformat_minor = 4
    for each in notebook.cells:
        each.pop("id")


# Notebooks a student can hand in; given unrepaired, nbgrader's autograde stops on most of
# them (a copied plain cell it takes: it must stay as it is).
HOSTILE_NOTEBOOKS = {
    "copied_answer": duplicated("answer_relu"),
    "copied_and_edited_answer": duplicated("answer_relu", "\n# second try"),
    "copied_test": duplicated("relu_properties"),
    "copied_given_cell": duplicated("setup"),
    "copied_written_answer": duplicated(WRITTEN),
    "copied_plain_cell": changed(plain_copy),
    "grade_id_number": changed(set_meta("grade_id", 5)),
    "grade_id_null": changed(set_meta("grade_id", None)),
    "grade_id_unknown": changed(set_meta("grade_id", "answer_relu_v2")),
    "grade_id_bad_characters": changed(set_meta("grade_id", "answer relu!")),
    "metadata_string": changed(lambda nb, cell: cell.metadata.__setitem__("nbgrader", "x")),
    "metadata_list": changed(lambda nb, cell: cell.metadata.__setitem__("nbgrader", [1])),
    "metadata_empty": changed(lambda nb, cell: cell.metadata.__setitem__("nbgrader", {})),
    "cell_metadata_list": changed(lambda nb, cell: cell.__setitem__("metadata", [])),
    "schema_too_old": changed(set_meta("schema_version", 1)),
    "schema_too_new": changed(set_meta("schema_version", 99)),
    "schema_as_text": changed(set_meta("schema_version", "3")),
    "grade_flag_text": changed(set_meta("grade", "yes")),
    "points_text": changed(set_meta("points", "abc"), "relu_properties"),
    "solution_flag_on_test": changed(set_meta("solution", True), "relu_properties"),
    "task_flag": changed(set_meta("task", True)),
    "extra_metadata_key": changed(set_meta("comment", "mine")),
    "answer_made_markdown": changed(retyped("markdown")),
    "test_made_raw": changed(retyped("raw"), "relu_properties"),
    "written_made_code": changed(retyped("code"), WRITTEN),
    "invalid_output": changed(lambda nb, cell: cell.__setitem__("outputs", [{"output_type": "x"}])),
    "kernelspec_number": changed(lambda nb, cell: nb.metadata.__setitem__("kernelspec", 5)),
    "cell_without_source": changed(lambda nb, cell: cell.pop("source")),
    "cell_id_invalid": changed(lambda nb, cell: cell.__setitem__("id", "has spaces!")),
    "cells_without_ids": changed(without_ids),
    "not_utf8_in_source": changed(lambda nb, cell: cell.__setitem__("source", cell.source + "# Jos\udce9")),
    "not_utf8_in_output": changed(lambda nb, cell: cell.__setitem__("outputs", [
        nbformat.v4.new_output("stream", name="stdout", text="\udcff")])),
    "cell_not_a_dict": changed(lambda nb, cell: nb.cells.insert(0, "a string")),
    "cells_not_a_list": changed(lambda nb, cell: nb.__setitem__("cells", {"0": cell})),
}
# nbformat cannot read these (grading says invalid_notebook): the copy is the release.
UNREADABLE = {"cell_metadata_list", "cell_not_a_dict", "cells_not_a_list"}

# A cell of the release lost (its id or type changed), or unreadable: rebuilt from the release.
REBUILT = UNREADABLE | {"grade_id_number", "grade_id_null", "grade_id_unknown",
                        "grade_id_bad_characters", "metadata_string", "metadata_list",
                        "metadata_empty", "answer_made_markdown", "test_made_raw",
                        "written_made_code"}

# Ids nbgrader cannot hold: folder names from os.listdir (non-UTF-8 bytes as surrogates).
UNSAFE_IDS = ["aa\nnewline", "ab_Jos\udce9", "ac\x1b[31mred", "ad\ttab", "ae*star", "af?",
              "ag[x]", ".ah_hidden", "ai\x7fdel",
              # formgrader writes ids unescaped into its pages (HTML, attributes, script strings)
              "aj<img src=x onerror=alert(1)>", 'ak";alert(1);"', "al>"]
# Odd but safe: recorded like any other.
ODD_IDS = ["Smith, John", "José", "李明", "x" * 250, "é" * 127, "{brace}%s", "back\\slash",
           "quote'", "amp&ersand", "-dash", "rtl\u202eltr"]


def write_raw(subs, student, notebook):
    """Write ``notebook`` as JSON without validating it (nbformat.write would repair it)."""
    folder = os.path.join(os.fsencode(subs), os.fsencode(student), os.fsencode(TLN.name))
    os.makedirs(folder)
    path = os.path.join(folder, os.fsencode(f"{TLN.notebook}.ipynb"))
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(json.dumps(notebook))
    return os.fsdecode(path)


def result_for(path, student, failing=()):
    """A result as batch.grade_all makes it: every test passed except ``failing``."""
    tests = [{"grade_id": t.grade_id, "points": 0.0 if t.grade_id in failing else t.points,
              "max_points": t.points, "hidden": t.hidden, "summary": t.summary,
              "status": "failed" if t.grade_id in failing else "passed",
              "message": "wrong \x1b[31m \udce9" if t.grade_id in failing else "passed"}
             for t in TESTS]
    return {"student_id": student, "assignment": TLN.name, "notebook": TLN.notebook,
            "path": path, "status": "ok", "message": "", "tests": tests,
            "score": sum(t["points"] for t in tests), "max_score": sum(t.points for t in TESTS)}


def gradebook_scores(out):
    with Gradebook(f"sqlite:///{out / 'nbgrader' / 'gradebook.db'}", COURSE.course_id) as book:
        return {s.student.id: s.score for s in book.assignment_submissions(TLN.name)}


def count_runs(monkeypatch):
    """The sizes of the recording passes (one per assignment with changed results)."""
    runs = []
    real = gradebook_record.record

    def counted(course, assignment, pending):
        runs.append(len(pending))
        return real(course, assignment, pending)
    monkeypatch.setattr(gradebook_record, "record", counted)
    return runs


@pytest.mark.parametrize("case", sorted(HOSTILE_NOTEBOOKS))
def test_the_copy_for_the_gradebook_passes_nbgraders_own_checks(case, tmp_path):
    notebook = HOSTILE_NOTEBOOKS[case]()
    if isinstance(notebook.get("cells"), list):
        notebook.cells.append(nbformat.v4.new_markdown_cell("MY OWN NOTES"))
    path = write_raw(tmp_path, case, notebook)
    made = gradebook.submission_for_gradebook({"path": path, "status": "ok"}, RELEASE)
    kept = any("MY OWN NOTES" in str(cell.get("source")) for cell in made.cells)
    assert kept == (case not in REBUILT), (
        f"{case}: the student's notebook must be repaired in place unless a cell of the "
        f"release is lost (then it is rebuilt from the release with the student's answers)")
    assert nbgrader_problems(made, RELEASE) == [], f"{case}: {nbgrader_problems(made, RELEASE)}"
    reread = nbformat.reads(nbformat.writes(made), as_version=4)
    for step in (DeduplicateIds(), CheckCellMetadata()):  # nbgrader's steps that stopped the run
        reread, _ = step.preprocess(reread, {})
    ids = [grade_id_of(c) for c in made.cells if "nbgrader" in c.metadata]
    assert sorted(ids) == sorted(filter(None, (grade_id_of(c) for c in RELEASE.cells))), (
        f"{case}: the gradebook copy must hold each nbgrader cell of the release once")
    if case not in UNREADABLE:
        softmax = made.cells[at(made, "answer_softmax")].source
        assert softmax == FUNCTIONS["softmax"], f"{case}: the student's other answers must be kept"


def test_a_copied_answer_keeps_the_first_and_shows_the_copy_as_a_plain_cell(tmp_path):
    path = write_raw(tmp_path, "copier", HOSTILE_NOTEBOOKS["copied_and_edited_answer"]())
    made = gradebook.submission_for_gradebook({"path": path, "status": "ok"}, RELEASE)
    answer = made.cells[at(made, "answer_relu")]
    assert answer.source == FUNCTIONS["relu"], "the first copy is the answer"
    following = made.cells[at(made, "answer_relu") + 1]
    assert "second try" in following.source and "nbgrader" not in following.metadata, (
        "the pasted copy stays in the notebook, as a plain cell the TA can read")


def test_a_test_cell_the_results_lack_gets_no_points(tmp_path):
    """nbgrader gives a test cell without an error output full points: one the grader has no
    result for (a release out of step with the suite) must show an error instead."""
    result = result_for(None, "ada")
    result["tests"] = [t for t in result["tests"] if t["grade_id"] != "relu_properties"]
    folder = tmp_path / "ada" / TLN.name
    folder.mkdir(parents=True)
    (folder / f"{TLN.notebook}.json").write_text(json.dumps(result))
    inject = gradebook_record.InjectResults(outputs_dir=str(tmp_path))
    done, _ = inject.preprocess(correct(), {"nbgrader": {
        "student": "ada", "assignment": TLN.name, "notebook": TLN.notebook}})
    outputs = {grade_id_of(c): c.outputs for c in done.cells if c.cell_type == "code"}
    assert outputs["relu_properties"][0]["output_type"] == "error", outputs["relu_properties"]
    assert outputs["relu_handout_table"][0]["output_type"] == "stream", "a passed test shows passed"


def test_unsafe_ids_are_named_and_odd_ones_are_not():
    for student in UNSAFE_IDS:
        assert text.unsafe_id_reason(student), f"{student!r} must not reach nbgrader"
    for student in ODD_IDS + ["ada_correct"]:
        assert text.unsafe_id_reason(student) is None, f"{student!r} works in nbgrader"


def test_hostile_notebooks_and_ids_cost_only_themselves_and_reruns_are_stable(tmp_path, monkeypatch):
    subs, out = tmp_path / "subs", tmp_path / "out"
    left_over = out / "nbgrader" / "submitted" / "old\nid" / TLN.name  # an older grader's
    left_over.mkdir(parents=True)
    nbformat.write(correct(), str(left_over / f"{TLN.notebook}.ipynb"))
    results = []
    for number, (case, make) in enumerate(sorted(HOSTILE_NOTEBOOKS.items())):
        failing = ("relu_properties",) if number % 2 else ()
        results.append(result_for(write_raw(subs, f"{number:02d}_{case}", make()),
                                  f"{number:02d}_{case}", failing))
        honest = f"{number:02d}_{case}_honest_after"  # sorted right after it
        results.append(result_for(write_raw(subs, honest, correct()), honest, failing))
    for student in UNSAFE_IDS + ODD_IDS:
        results.append(result_for(write_raw(subs, student, correct()), student))
    runs = count_runs(monkeypatch)
    database, warnings = gradebook.sync(out, results)
    recordable = len(results) - len(UNSAFE_IDS)
    chunks = [gradebook.RECORD_CHUNK] * (recordable // gradebook.RECORD_CHUNK) \
        + ([recordable % gradebook.RECORD_CHUNK] if recordable % gradebook.RECORD_CHUNK else [])
    assert runs == chunks, f"one recording pass per {gradebook.RECORD_CHUNK} expected, got {runs}"
    scores = gradebook_scores(out)
    for result in results:
        student = result["student_id"]
        if student in UNSAFE_IDS:
            assert result["gradebook"].startswith("not recorded: the folder name"), result["gradebook"]
            assert student not in scores, f"{student!r} reached the gradebook"
        else:
            assert result["gradebook"] == "recorded", (student, result["gradebook"])
            assert scores.get(student) == result["score"], (student, scores.get(student))
    assert len(warnings) == len(UNSAFE_IDS), warnings
    for warning in warnings:
        assert warning.isprintable() and warning.encode("utf-8"), f"unsafe to print: {warning!r}"
    assert "aa\\nnewline" in "\n".join(warnings) and "ab_Jos\\xe9" in "\n".join(warnings), warnings
    assert not (database.parent / "submitted" / "old\nid").exists(), "left-over id not removed"
    runs.clear()
    again = [dict(r) for r in results]
    assert gradebook.sync(out, again)[1] == warnings, "a rerun must report the same"
    assert runs == [], f"an unchanged rerun recorded again: {runs}"
    assert [r["gradebook"] for r in again] == [r["gradebook"] for r in results], "rerun differs"


def test_a_submission_nbgrader_still_cannot_take_costs_only_itself(tmp_path, monkeypatch):
    """Bypassing the repair, nbgrader's steps get the raw notebooks: a copied answer (its
    metadata check fails) and an invalid output (the notebook does not validate), among
    honest ones."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    bad = {"b_copier": HOSTILE_NOTEBOOKS["copied_answer"](),
           "d_invalid_output": HOSTILE_NOTEBOOKS["invalid_output"]()}
    students = ["a_honest", "b_copier", "c_honest", "d_invalid_output", "e_honest", "f_honest"]
    results = [result_for(write_raw(subs, s, bad.get(s, correct())), s) for s in students]
    monkeypatch.setattr(gradebook, "submission_for_gradebook",
                        lambda result, release: nbformat.from_dict(json.load(open(result["path"]))))
    runs = count_runs(monkeypatch)
    _, warnings = gradebook.sync(out, results)
    scores = gradebook_scores(out)
    for result in results:
        student = result["student_id"]
        if student in bad:
            assert result["gradebook"].startswith("not recorded: nbgrader would not take it ("), result
            assert student not in scores, f"{student} reached the gradebook"
            for top in ("submitted", "autograded"):
                assert not (out / "nbgrader" / top / student).exists(), (
                    f"a copy nbgrader cannot take must not stay in {top}/, where nbgrader's own "
                    f"commands find it")
        else:
            assert result["gradebook"] == "recorded" and scores[student] == 30.0, result
    assert "SchemaTooOldError" in results[1]["gradebook"], results[1]["gradebook"]
    assert "ValidationError" in results[3]["gradebook"], results[3]["gradebook"]
    assert len(warnings) == 2, warnings
    assert runs == [6], f"one pass for all: {runs}"
    monkeypatch.undo()  # with the repair: both are recorded on the rerun, the rest untouched
    runs = count_runs(monkeypatch)
    assert gradebook.sync(out, results)[1] == [], "the repaired copies were not recorded"
    assert runs == [2], f"only the two unrecorded ones must be recorded again: {runs}"
    assert gradebook_scores(out)["b_copier"] == 30.0


def test_a_notebook_that_cannot_be_written_costs_only_itself(tmp_path, monkeypatch):
    subs, out = tmp_path / "subs", tmp_path / "out"
    results = [result_for(write_raw(subs, s, correct()), s) for s in ("a", "b", "c")]
    real = gradebook_record.Recorder.write

    def write(recorder, student, nb):
        real(recorder, student, nb)
        if student == "b":
            raise OSError(28, "No space left on device")
    monkeypatch.setattr(gradebook_record.Recorder, "write", write)
    _, warnings = gradebook.sync(out, results)
    assert [r["gradebook"].split(" (")[0] for r in results] == [
        "recorded", "not recorded: nbgrader would not take it", "recorded"], results
    assert "No space left on device" in warnings[0], warnings
    assert set(gradebook_scores(out)) == {"a", "c"}
    assert not (out / "nbgrader" / "autograded" / "b").exists(), "a half-written notebook was left"


def test_a_score_nbgrader_would_count_otherwise_is_not_recorded(tmp_path):
    """nbgrader counts a test cell's points from its output (all or nothing): a result whose
    score it would not reproduce (a release out of step with the suite) is refused, not
    recorded with another score."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    results = [result_for(write_raw(subs, s, correct()), s) for s in ("a", "b")]
    results[1]["score"] = 29.5
    _, warnings = gradebook.sync(out, results)
    assert results[0]["gradebook"] == "recorded", results[0]
    assert results[1]["gradebook"] == ("not recorded: the gradebook would have 30 autograded "
                                       "points, the grader 29.5"), results[1]
    assert len(warnings) == 1 and set(gradebook_scores(out)) == {"a"}


def test_a_gradebook_that_cannot_be_written_records_nothing_and_a_rerun_records_all(tmp_path,
                                                                                 monkeypatch):
    import sqlalchemy.exc
    subs, out = tmp_path / "subs", tmp_path / "out"
    results = [result_for(write_raw(subs, s, correct()), s) for s in ("a", "b")]

    def locked(book, cells, made):
        raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("database is locked"))
    monkeypatch.setattr(gradebook_record, "_save", locked)
    _, warnings = gradebook.sync(out, results)
    assert len(warnings) == 2 and all("database is locked" in w for w in warnings), warnings
    assert gradebook_scores(out) == {}, "a transaction that failed must leave nothing"
    monkeypatch.undo()
    assert gradebook.sync(out, results)[1] == [] and gradebook_scores(out) == {"a": 30.0, "b": 30.0}


def test_grade_exits_3_and_names_who_the_gradebook_lacks_and_reruns_say_the_same(graded, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(graded["subs"], subs)
    shutil.copytree(graded["out"], out)
    shutil.rmtree(out / "nbgrader")  # a new gradebook: the honest ones all sort after the bad ones
    write_raw(subs, "aa_copier", HOSTILE_NOTEBOOKS["copied_answer"]())
    write_raw(subs, "ab\nnewline", correct())
    write_raw(subs, "ac_Jos\udce9", correct())
    command = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
               "--jobs", "2", "--no-progress"]
    done = subprocess.run(command, capture_output=True, timeout=900)
    stderr = done.stderr.decode("utf-8")  # must be UTF-8, whatever the folder names
    assert done.returncode == 3, stderr[-3000:]
    assert "\x1b" not in stderr and "ab\nnewline" not in stderr, "a raw name reached the terminal"
    lines = [line for line in stderr.splitlines() if line.startswith("warning: gradebook:")]
    assert len(lines) == 2 and "ab\\nnewline" in lines[0] and "ac_Jos\\xe9" in lines[1], stderr
    assert "disagrees with grades.csv" in stderr, stderr[-2000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    scores = gradebook_scores(out)
    for student, row in rows.items():
        if row["notebook"] != TLN.notebook or row["assignment"] != TLN.name:
            continue
        if student not in ("ab\\nnewline", "ac_Jos\\xe9"):
            assert scores.get(student) == float(row["score"]), (student, scores.get(student), row)
    assert not {"ab\nnewline", "ac_Jos\udce9"} & set(scores), f"unsafe ids recorded: {scores}"
    assert rows["aa_copier"]["score"] == "30", rows["aa_copier"]
    autograded = out / "nbgrader" / "autograded"
    before = {p: p.stat().st_mtime for p in autograded.rglob("*.ipynb")}
    again = subprocess.run(command, capture_output=True, timeout=900)
    assert again.returncode == 3, again.stderr.decode()[-2000:]
    assert [line for line in again.stderr.decode().splitlines()
            if line.startswith("warning: gradebook:")] == lines, "a rerun must report the same"
    assert {p: p.stat().st_mtime for p in autograded.rglob("*.ipynb")} == before, (
        "an unchanged rerun autograded submissions again")
