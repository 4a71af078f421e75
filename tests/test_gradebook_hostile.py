"""Submissions and student ids nbgrader's autograde cannot take cost only themselves.

nbgrader stops on a copy-pasted answer cell (its DeduplicateIds empties the copy's
metadata and the schema check then aborts the whole run) and on ids its path patterns
cannot match. The gradebook pass hands nbgrader a copy it takes, refuses ids it cannot
hold (each with a reason), retries what is still unrecorded so a failure costs only its
own submission, and ``grade`` exits 3 when the gradebook and grades.csv disagree.
Results are made here from the release (no sandbox) except in the last test, which
grades through the CLI.
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

from autograder import demo, gradebook
from autograder.gradebook_notebook import nbgrader_problems
from autograder.grading import grade_id_of
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
              "ag[x]", ".ah_hidden", "ai\x7fdel"]
# Odd but safe: recorded like any other.
ODD_IDS = ["Smith, John", "José", "李明", "x" * 250, "é" * 127, "{brace}%s", "back\\slash",
           "quote'\"", "-dash", "rtl\u202eltr"]


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
    runs = []
    real = gradebook.autograde

    def counted(course, assignment, students, log):
        runs.append(len(students))
        return real(course, assignment, students, log)
    monkeypatch.setattr(gradebook, "autograde", counted)
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
    inject = gradebook.InjectResults(outputs_dir=str(tmp_path))
    done, _ = inject.preprocess(correct(), {"nbgrader": {
        "student": "ada", "assignment": TLN.name, "notebook": TLN.notebook}})
    outputs = {grade_id_of(c): c.outputs for c in done.cells if c.cell_type == "code"}
    assert outputs["relu_properties"][0]["output_type"] == "error", outputs["relu_properties"]
    assert outputs["relu_handout_table"][0]["output_type"] == "stream", "a passed test shows passed"


def test_unsafe_ids_are_named_and_odd_ones_are_not():
    for student in UNSAFE_IDS:
        assert gradebook.unsafe_id_reason(student), f"{student!r} must not reach nbgrader"
    for student in ODD_IDS + ["ada_correct"]:
        assert gradebook.unsafe_id_reason(student) is None, f"{student!r} works in nbgrader"


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
    assert runs == [len(results) - len(UNSAFE_IDS)], f"one nbgrader run expected, got {runs}"
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
    assert runs == [], f"an unchanged rerun ran nbgrader {runs}"
    assert [r["gradebook"] for r in again] == [r["gradebook"] for r in results], "rerun differs"


def test_a_submission_nbgrader_still_cannot_take_costs_only_itself(tmp_path, monkeypatch):
    """Bypassing the repair, nbgrader gets the raw notebooks: a copied answer (stops the
    whole run) and an invalid output (fails that student only), among honest ones."""
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
        if result["student_id"] in bad:
            assert result["gradebook"].startswith("not recorded: nbgrader's autograde failed"), result
            assert not (out / "nbgrader" / "submitted" / result["student_id"]).exists(), (
                "a copy nbgrader cannot take must not stay where nbgrader's own commands find it")
        else:
            assert result["gradebook"] == "recorded" and scores[result["student_id"]] == 30.0, result
    assert len(warnings) == 2 and "autograde.log" in warnings[0], warnings
    assert len(runs) <= 5, f"isolating two failures took {runs}"
    monkeypatch.undo()  # with the repair: both are recorded on the rerun, the rest untouched
    runs = count_runs(monkeypatch)
    assert gradebook.sync(out, results)[1] == [], "the repaired copies were not recorded"
    assert runs == [2], f"only the two unrecorded ones must be autograded again: {runs}"
    assert gradebook_scores(out)["b_copier"] == 30.0


def nbgrader_model(monkeypatch, aborting, failing):
    """Stand-ins for ``autograde`` and ``recorded_scores`` that behave like nbgrader: students
    in order, an aborting one stops the run, a failing one is skipped. Returns the runs'
    sizes and the set of recorded students."""
    recorded, runs = set(), []

    def autograde(course, assignment, group, log):
        runs.append(len(group))
        for student in sorted(group):
            if student in aborting:
                return "SchemaTooOldError: old"
            if student not in failing:
                recorded.add(student)
        return "ValidationError: bad" if failing & set(group) else None
    monkeypatch.setattr(gradebook, "autograde", autograde)
    monkeypatch.setattr(gradebook, "recorded_scores",
                        lambda course, assignment, group: {s: 30.0 if s in recorded else None
                                                           for s in group})
    return runs, recorded


def test_retries_find_each_failure_within_the_run_budget(monkeypatch, tmp_path):
    students = [f"s{i:03d}" for i in range(200)]
    aborting, failing = {"s010", "s011", "s150"}, {"s020", "s199"}
    runs, recorded = nbgrader_model(monkeypatch, aborting, failing)
    failed, used = gradebook.record(tmp_path, TLN, dict.fromkeys(students, 30.0))
    assert set(failed) == aborting | failing, failed
    assert recorded == set(students) - aborting - failing, "an honest student was left out"
    assert used == len(runs) <= 2 * len(aborting | failing) + 1, f"{len(runs)} runs: {runs}"
    recorded.clear()
    failed, used = gradebook.record(tmp_path, TLN, dict.fromkeys(students, 30.0), budget=3)
    assert used == 3 and failed["s012"] == gradebook.NOT_RETRIED, "over the budget: stop, say so"


def test_submissions_that_keep_failing_cannot_starve_the_others(monkeypatch, tmp_path):
    """More aborting submissions than one pass can isolate, all sorted first: each rerun
    retries the known failures last, so the honest ones are recorded after a few reruns."""
    monkeypatch.setattr(gradebook, "MAX_AUTOGRADE_RUNS", 6)
    monkeypatch.setattr(gradebook, "prepare_course", lambda course, assignment: "fingerprint")
    aborting = {f"a{i:02d}" for i in range(8)}
    _, recorded = nbgrader_model(monkeypatch, aborting, set())
    results = [result_for(write_raw(tmp_path / "subs", s, correct()), s)
               for s in sorted(aborting) + ["h1", "h2", "h3"]]
    for rerun in range(5):
        gradebook.sync(tmp_path / "out", results)
        if {"h1", "h2", "h3"} <= recorded:
            break
    assert {"h1", "h2", "h3"} <= recorded, f"honest ones still unrecorded after {rerun + 1} passes"
    assert rerun <= 3, f"{rerun + 1} passes to record the honest ones"
    for result in results:
        expected = "recorded" if result["student_id"].startswith("h") else "not recorded"
        assert result["gradebook"].startswith(expected), result["gradebook"]


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
