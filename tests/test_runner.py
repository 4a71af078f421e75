"""The runner: the grader never hangs on a student process, and its own failures are its own."""

import time

import numpy as np
import pytest

from autograder import demo
from autograder.execution import batch, task
from autograder.grading import notebook_grader, runner
from autograder.grading.runner import StudentProcess, StudentTimeout
from autograder.outputs import feedback_results
from autograder.sandbox import launch as sandbox, spawn
from course_under_test import TLN

LIMITS = sandbox.Limits(call_seconds=2, cell_seconds=10, notebook_seconds=60)

# A thread that waits, then holds the GIL inside one C call (a regular expression that
# backtracks for ever): the worker's main loop can no longer read its requests.
GIL_HOG = """
import re, threading, time
def _hog():
    time.sleep(0.5)
    re.match(r'(a+)+$', 'a' * 40 + 'b')
threading.Thread(target=_hog, daemon=True).start()
def echo(x):
    return x
"""


def test_a_process_that_stops_reading_cannot_hang_the_grader(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    process = StudentProcess([(0, GIL_HOG)], scratch, LIMITS, sandbox.isolation_mode())
    try:
        process.ensure_started()
        time.sleep(1.5)  # the hog now holds the GIL
        big = np.zeros((512, 512))  # 2 MiB: far more than a pipe's buffer
        started = time.monotonic()
        with pytest.raises(StudentTimeout):
            process.call("echo", (big,), {}, False, timeout=2)
        elapsed = time.monotonic() - started
        assert elapsed < 10, f"the call took {elapsed:.1f} s despite its 2 s limit"
    finally:
        process.close()


def test_a_sandbox_that_cannot_start_is_a_grader_error_not_a_failed_test(tmp_path, monkeypatch):
    def broken_start(*args):
        raise OSError("bwrap: No permissions to create new namespace")
    monkeypatch.setattr(sandbox, "start", broken_start)
    path = tmp_path / "subs" / "ada" / TLN.name / f"{TLN.notebook}.ipynb"
    path.parent.mkdir(parents=True)
    demo.write_notebook(demo.CORRECT, path) if hasattr(demo, "write_notebook") else \
        path.write_text(TLN.release_notebook.read_text())
    result = notebook_grader.grade_notebook(path, TLN, LIMITS, "rlimits")
    statuses = {t["status"] for t in result["tests"]}
    assert statuses == {"grader_error"}, statuses
    assert result["status"] == "grader_error", result["status"]
    assert "No permissions" in result["tests"][0]["message"], result["tests"][0]["message"]
    record = dict(result["tests"][0])
    message = feedback_results.public_message(record)
    assert "No permissions" not in message, message


def test_grader_errors_are_regraded_on_the_next_run(tmp_path, monkeypatch):
    subs, out = tmp_path / "subs", tmp_path / "out"
    path = subs / "ada" / TLN.name / f"{TLN.notebook}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(TLN.release_notebook.read_text())
    real_start = sandbox.start
    monkeypatch.setattr(sandbox, "start", lambda *a: (_ for _ in ()).throw(OSError("no sandbox")))
    first, summary = batch.grade_all(subs, out, jobs=1, limits=LIMITS, isolation="rlimits")
    assert first[0]["status"] == "grader_error", first[0]["status"]
    page = (out / "feedback" / "ada" / TLN.name / f"{TLN.notebook}.html").read_text()
    assert "no sandbox" not in page, "the grader's own error text reached the student's page"
    monkeypatch.setattr(sandbox, "start", real_start)
    second, summary = batch.grade_all(subs, out, jobs=1, limits=LIMITS, isolation="rlimits")
    assert summary["skipped_unchanged"] == 0, summary
    assert second[0]["status"] == "ok", second[0]["status"]


def test_unreadable_replies_are_wire_errors():
    assert issubclass(runner.WireError, ValueError)
    with pytest.raises(runner.WireError):
        runner.decode(b"\x00" * 7 + b"\x05" + b"[" * 5)


def test_a_submission_that_hangs_the_grader_costs_one_row_not_the_batch(tmp_path, monkeypatch):
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student in ("stuck", "fine"):
        path = subs / student / TLN.name / f"{TLN.notebook}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(TLN.release_notebook.read_text())
    real = notebook_grader.grade_notebook

    def sometimes_stuck(path, *args):
        if "stuck" in str(path):
            time.sleep(600)  # a grader bug that never returns
        return real(path, *args)

    monkeypatch.setattr(task, "grade_notebook", sometimes_stuck)
    monkeypatch.setattr(task, "GUARD_MARGIN", 2.0)
    limits = sandbox.Limits(call_seconds=2, cell_seconds=10, notebook_seconds=30)
    started = time.monotonic()
    results, _ = batch.grade_all(subs, out, jobs=2, limits=limits, isolation="rlimits")
    elapsed = time.monotonic() - started
    statuses = {r["student_id"]: r["status"] for r in results}
    assert statuses == {"stuck": "grader_error", "fine": "ok"}, statuses
    assert elapsed < 120, f"the batch took {elapsed:.0f} s; the guard allows 32 s"


def test_a_sandbox_that_dies_before_student_code_runs_is_a_grader_error(tmp_path, monkeypatch):
    """bwrap can start and then fail (a bad bind, too little memory for Python): the worker
    never says "ready", and the student must not be charged with kernel_died."""
    broken = tmp_path / "broken_worker.py"
    broken.write_text("import sys\nsys.stderr.write('bwrap: cannot mount the sandbox\\n')\n"
                      "sys.exit(1)\n")
    monkeypatch.setattr(spawn, "WORKER", broken)
    path = tmp_path / "subs" / "ada" / TLN.name / f"{TLN.notebook}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(TLN.release_notebook.read_text())
    result = notebook_grader.grade_notebook(path, TLN, LIMITS, sandbox.isolation_mode())
    assert result["status"] == "grader_error", result["status"]
    assert {t["status"] for t in result["tests"]} == {"grader_error"}, result["tests"][0]
    assert "cannot mount the sandbox" in result["tests"][0]["message"], result["tests"][0]["message"]


def test_when_the_notebook_budget_is_spent_restarts_stop(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cells = [(0, "import time\ntime.sleep(3)"), (1, "def crash():\n    import os\n    os._exit(1)")]
    limits = sandbox.Limits(call_seconds=2, cell_seconds=10, notebook_seconds=5)
    process = StudentProcess(cells, scratch, limits, sandbox.isolation_mode())
    try:
        with pytest.raises(runner.StudentDied):
            process.call("crash", (), {}, False, timeout=2)
        with pytest.raises(StudentTimeout, match="used up"):
            process.call("crash", (), {}, False, timeout=2)
        with pytest.raises(StudentTimeout, match="used up"):
            process.call("crash", (), {}, False, timeout=2)
        assert process.starts <= 2, f"{process.starts} starts after the budget ran out"
        assert process.cell_results[0]["ok"] and not process.definitions_only, (
            f"a cell that ran fine was demoted: {process.cell_results}, {process.definitions_only}")
    finally:
        process.close()


def test_student_writes_to_fd_2_do_not_reach_the_graders_disk(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cells = [(0, "import os\nfor _ in range(100):\n    os.write(2, b'FLOOD' * 1000)")]
    process = StudentProcess(cells, scratch, LIMITS, sandbox.isolation_mode())
    try:
        process.ensure_started()
        log = tmp_path / "sandbox-stderr.txt"
        size = log.stat().st_size if log.exists() else 0
        assert size < 1000, f"the start-up log grew to {size} bytes from student writes"
    finally:
        process.close()


def test_a_student_process_dies_with_the_process_that_started_it(tmp_path):
    """rlimits mode: a grading process killed mid-way (a broken pool) leaves no orphan."""
    import multiprocessing
    import os
    pid_file = tmp_path / "worker.pid"

    def start_then_vanish():
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        process = StudentProcess([(0, "x = 1")], scratch, LIMITS, "rlimits")
        process.ensure_started()
        pid_file.write_text(str(process.process.pid))
        os._exit(0)  # no cleanup at all, like SIGKILL

    child = multiprocessing.get_context("fork").Process(target=start_then_vanish)
    child.start()
    child.join(60)
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        # reap it if it became our zombie
        time.sleep(0.1)
    os.kill(worker, 9)
    raise AssertionError(f"the student process {worker} outlived the process that started it")
