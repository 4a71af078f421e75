"""Batch robustness: warnings, odd names, huge notebooks, killing the batch and rerunning."""

import csv
import os
import signal
import subprocess
import sys
import time

import nbformat

from autograder import config, demo, submission
from autograder.execution import batch
from autograder.grader_key import grader_key
from autograder.grading import notebook_grader
from autograder.sandbox.launch import Limits, isolation_mode
from course_under_test import COURSE, TLN

LIMITS = Limits(call_seconds=5, cell_seconds=10, notebook_seconds=120)
CORRECT = demo.functions_in((TLN.demo_dir / "students") / f"{demo.CORRECT}.py")


def write(folder, student, functions=None, name=TLN.notebook, assignment=TLN.name):
    release = nbformat.read(str(TLN.release_notebook), as_version=4)
    path = folder / student / assignment / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(demo.fill(release, dict(CORRECT, **(functions or {}))), str(path))
    return path


def test_warnings_on_stderr_never_cost_points_and_odd_names_are_graded(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    noisy = ("def relu(x):\n    import sys, warnings\n    warnings.warn('careful', RuntimeWarning)\n"
             "    print('debug output', file=sys.stderr)\n    np.log(np.zeros(1))\n"
             "    return np.maximum(x, 0)")
    write(subs, "noisy", {"relu": noisy})
    write(subs, "José Ñ-Smith (2)", name="two_layer_net (1)")
    (subs / "José Ñ-Smith (2)" / TLN.name / "notes.txt").write_text("extra file")
    (subs / "no_assignment_folder").mkdir()
    write(subs, "other_course", assignment="hw9")
    huge = write(subs, "huge")
    huge.write_text(huge.read_text().replace('"cells": [', '"padding": "' + "x" * 300_000 + '", "cells": [', 1))
    monkeypatch.setattr(submission, "MAX_NOTEBOOK_BYTES", 200_000)
    results, summary = batch.grade_all(subs, tmp_path / "out", jobs=2, limits=LIMITS,
                                       isolation=isolation_mode())
    rows = {(r["student_id"], r["notebook"]): (r["status"], r["score"]) for r in results}
    assert rows[("noisy", TLN.notebook)] == ("ok", 30), rows
    assert rows[("José Ñ-Smith (2)", "two_layer_net (1)")] == ("ok", 30), rows
    for assignment in COURSE.assignments:  # a row per assignment it did not hand in
        assert rows[("no_assignment_folder", assignment.notebook)] == ("missing_notebook", 0), rows
    assert rows[("other_course", TLN.notebook)] == ("unknown_assignment", 0), rows
    assert rows[("huge", TLN.notebook)] == ("invalid_notebook", 0), rows
    huge_result = next(r for r in results if r["student_id"] == "huge")
    assert "MiB" in huge_result["message"], huge_result["message"]
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(rows) == 4 + len(COURSE.assignments), rows
    assert summary["status_counts"] == {"ok": 2, "missing_notebook": len(COURSE.assignments),
                                        "unknown_assignment": 1, "invalid_notebook": 1}, summary


def test_only_the_assignments_notebook_is_graded_and_other_notebooks_get_a_row(tmp_path):
    subs = tmp_path / "subs"
    write(subs, "both")
    write(subs, "both", {"relu": "def relu(x):\n    return x"}, name="scratch_copy")
    write(subs, "two_wrong_names", name="draft")
    write(subs, "two_wrong_names", name="final")
    results, _ = batch.grade_all(subs, tmp_path / "out", jobs=2, limits=LIMITS,
                                 isolation=isolation_mode())
    rows = {(r["student_id"], r["notebook"]): (r["status"], r["score"]) for r in results}
    assert rows == {("both", TLN.notebook): ("ok", 30),
                    ("both", "scratch_copy"): ("unexpected_notebook", 0),
                    ("two_wrong_names", TLN.notebook): ("missing_notebook", 0),
                    ("two_wrong_names", "draft"): ("unexpected_notebook", 0),
                    ("two_wrong_names", "final"): ("unexpected_notebook", 0)}, rows
    page = (tmp_path / "out" / "feedback" / "both" / TLN.name / "scratch_copy.html").read_text()
    assert "not graded" in page and f"{TLN.notebook}.ipynb" in page, page[:2000]


def start_batch_of_six(tmp_path):
    """Start `grade` on six correct submissions (one at a time) in its own process group
    and return once the first result is saved: (command, process, out, students)."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    students = [f"s{i}" for i in range(6)]
    for student in students:
        write(subs, student)
    command = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
               "--jobs", "1", "--no-gradebook", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "results").rglob("*.json")):
        time.sleep(0.2)
    return command, process, out, students


def test_killing_the_batch_then_rerunning_gives_one_row_per_submission(tmp_path):
    command, first, out, students = start_batch_of_six(tmp_path)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    finished = len(list((out / "results").rglob("*.json")))
    assert 1 <= finished < len(students), f"{finished} results before the kill"
    assert not (out / "grades.csv").exists(), "the killed run should not have reached the CSV"
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "grades.csv", newline="") as handle:
        ids = [row["student_id"] for row in csv.DictReader(handle)]
    assert sorted(ids) == students, f"rows after the rerun: {ids}"
    assert f"{finished} unchanged submission(s) reused" in done.stdout, done.stdout[-500:]


def test_the_reuse_key_changes_with_the_limits_and_the_isolation():
    base = grader_key(Limits(), "bubblewrap")
    assert base == grader_key(Limits(), "bubblewrap"), "the key must be deterministic"
    assert base != grader_key(Limits(memory_bytes=1 << 30), "bubblewrap"), (
        "a submission graded under other limits must be regraded")
    assert base != grader_key(Limits(), "rlimits"), "isolation must be part of the key"


def test_rlimits_mode_gives_the_student_its_own_copy_of_nnlab(tmp_path):
    path = tmp_path / "subs" / "vandal" / TLN.name / f"{TLN.notebook}.ipynb"
    vandal = ("def relu(x):\n    import nnlab, pathlib\n"
              "    target = pathlib.Path(nnlab.__file__)\n"
              "    target.write_text(target.read_text() + '\\n# vandalised\\n')\n"
              "    return np.maximum(x, 0)")
    before = (config.STUDENT_PACKAGE / "__init__.py").read_bytes()
    write(tmp_path / "subs", "vandal", {"relu": vandal})
    result = notebook_grader.grade_notebook(path, TLN, LIMITS, "rlimits")
    assert (config.STUDENT_PACKAGE / "__init__.py").read_bytes() == before, (
        "student code in rlimits mode changed the grader's nnlab/")
    assert result["score"] == 30, (result["score"], [t["message"] for t in result["tests"]
                                                     if t["status"] != "passed"])


def test_ctrl_c_stops_the_batch_and_a_rerun_finishes_it(tmp_path):
    command, first, out, students = start_batch_of_six(tmp_path)
    os.killpg(first.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    _, stderr = first.communicate(timeout=60)
    finished = len(list((out / "results").rglob("*.json")))
    assert first.returncode == 130, (first.returncode, stderr[-2000:])
    assert "run the same command again" in stderr, stderr[-2000:]
    assert finished < len(students), f"Ctrl-C did not stop the batch: {finished} graded"
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "grades.csv", newline="") as handle:
        assert sorted(row["student_id"] for row in csv.DictReader(handle)) == students


def test_a_student_that_kills_the_grading_process_costs_only_its_own_row(tmp_path):
    """In rlimits mode the student process's parent is a pool process it can kill: the pool
    breaks, the innocent submissions are regraded, and the killer gets grader_error."""
    subs = tmp_path / "subs"
    killer = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ndef relu(x):\n    return x"
    write(subs, "killer", {"relu": killer})
    write(subs, "innocent")
    results, _ = batch.grade_all(subs, tmp_path / "out", jobs=2, limits=LIMITS, isolation="rlimits")
    rows = {r["student_id"]: (r["status"], r["score"]) for r in results}
    assert rows == {"killer": ("grader_error", 0), "innocent": ("ok", 30)}, rows


def test_odd_files_long_names_sidecars_and_symlinks(tmp_path):
    subs = tmp_path / "subs"
    long_name = "n" * 240
    write(subs, "long", name=long_name)
    renamed = write(subs, "mac", name="two_layer_net (1)")
    (renamed.parent / "._two_layer_net (1).ipynb").write_bytes(b"\x00\x05\x16\x07 resource fork")
    link = subs / "linker" / TLN.name / f"{TLN.notebook}.ipynb"
    link.parent.mkdir(parents=True)
    link.symlink_to(TLN.source_notebook)
    (subs / "folder_linker").mkdir()
    (subs / "folder_linker" / TLN.name).symlink_to(TLN.source_notebook.parent)
    dangling = subs / "dangling" / TLN.name / f"{TLN.notebook}.ipynb"
    dangling.parent.mkdir(parents=True)
    dangling.symlink_to(tmp_path / "nowhere.ipynb")
    (subs / ".git" / "objects").mkdir(parents=True)  # hidden folders are not students
    (renamed.parent / ".ipynb_checkpoints").mkdir()
    results, _ = batch.grade_all(subs, tmp_path / "out", jobs=2, limits=LIMITS,
                                 isolation=isolation_mode())
    rows = {(r["student_id"], r["notebook"]): (r["status"], r["score"]) for r in results}
    assert rows == {("long", long_name): ("ok", 30),
                    ("mac", "two_layer_net (1)"): ("ok", 30),
                    ("linker", TLN.notebook): ("invalid_notebook", 0),
                    ("folder_linker", TLN.notebook): ("invalid_notebook", 0),
                    ("dangling", TLN.notebook): ("invalid_notebook", 0)}, rows
    for student in ("linker", "folder_linker", "dangling"):
        result = next(r for r in results if r["student_id"] == student)
        assert "symbolic link" in result["message"], (student, result["message"])


def test_regrade_names_the_statuses_that_are_not_reused(tmp_path):
    out = tmp_path / "out"
    item = ("ada", TLN.name, TLN.notebook, None)
    folder = out / "results" / "ada" / TLN.name
    folder.mkdir(parents=True)
    (folder / f"{TLN.notebook}.json").write_text('{"status": "timeout", "key": "K", "score": 0, "max_score": 30, "tests": []}')
    (out / "feedback" / "ada" / TLN.name).mkdir(parents=True)
    (out / "feedback" / "ada" / TLN.name / f"{TLN.notebook}.html").write_text("page")
    assert batch.load_previous(out, item, "K") is not None, "an unchanged result should be reused"
    assert batch.load_previous(out, item, "K", regrade=("timeout",)) is None, (
        "--regrade timeout must regrade a timed-out row")
    assert batch.load_previous(out, item, "K", regrade=("kernel_died",)) is not None
