"""``autograder.serve`` under pressure: hostile inbound folders, a burst of 100 submissions
(grades.csv rewritten a few times, not per submission), ``kill -9`` in the middle of a
burst, and a submission that kills its grading process beside good ones."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbgrader.utils import make_unique_key, notebook_hash

from autograder.execution import pool
from autograder.grading.notebook_grader import empty_tests, finish
from autograder.outputs import storage
from autograder.records import RowStatus, TestStatus
from autograder.sandbox.launch import Limits
from autograder.execution.executor import InlineExecutor
from autograder.execution.pool import LocalPool
from autograder.serve.queue import Queue, State
from course_under_test import FND
from exchange_helpers import hand_made, make_exchange
from test_serve import RELEASE, make_service, serve_until_idle

SECRET = "ab" * 64
RELEASE_BYTES = nbformat.writes(RELEASE).encode()
KILL_BURST = 5


def page_for(exchange, secret: str, notebook_id: str) -> str:
    path = exchange.feedback / f"{notebook_hash(secret=secret, notebook_id=notebook_id)}.html"
    assert path.is_file(), f"no page for notebook {notebook_id!r} (secret {secret[:6]}...)"
    return path.read_text()


def test_hostile_and_broken_submissions_each_get_a_page_saying_so(tmp_path):
    exchange = make_exchange(tmp_path / "exchange", (FND,))
    stamp = "2026-12-07 10:00:00.000000 UTC"
    secrets = {key: f"{key:02d}" * 64 for key in range(1, 8)}
    hand_made(exchange, f"mallory+foundations+{stamp}+r1",
              {"foundations.ipynb": b"\x00{not a notebook"}, secrets[1])
    hand_made(exchange, f"bad*id+foundations+{stamp}+r2",
              {"foundations.ipynb": RELEASE_BYTES}, secrets[2])
    hand_made(exchange, f"eve+no_such_thing+{stamp}+r3",
              {"foundations.ipynb": RELEASE_BYTES}, secrets[3])
    linked = hand_made(exchange, f"eve+foundations+{stamp}+r4", {}, secrets[4])
    (linked / "foundations.ipynb").symlink_to("/etc/passwd")
    piped = hand_made(exchange, f"eve+foundations+{stamp}+r5", {}, secrets[5])
    os.mkfifo(piped / "foundations.ipynb")  # would block a reader forever
    hand_made(exchange, f"eve+foundations+{stamp}+r6",
              {"<img src=x onerror=alert(1)>.ipynb": RELEASE_BYTES}, secrets[6])
    hand_made(exchange, f"zoe\u202e+foundations+{stamp}+r7",
              {"foundations.ipynb": RELEASE_BYTES}, secrets[7])
    legacy = hand_made(exchange, f"leo+foundations+{stamp}", {"foundations.ipynb": RELEASE_BYTES},
                       secret=None)  # an nbgrader before 0.7: no secret, legacy page names
    (exchange.inbound / "plain_file+foundations+x+y").write_bytes(b"junk")
    (exchange.inbound / f"lnk+foundations+{stamp}+r9").symlink_to(tmp_path)
    serve_until_idle(make_service(exchange, tmp_path / "out"))

    assert "invalid_notebook" in page_for(exchange, secrets[1], "foundations")
    page = page_for(exchange, secrets[2], "foundations")
    assert "could not be graded" in page and "wildcard" in page, page
    page = page_for(exchange, secrets[3], "foundations")
    assert "could not be graded" in page and "not an assignment of this course" in page, page
    page = page_for(exchange, secrets[4], "foundations")
    assert "invalid_notebook" in page and "symbolic link" in page, page[:3000]
    assert "root:" not in page, "the link was followed"
    assert "missing_notebook" in page_for(exchange, secrets[5], "foundations")
    page = page_for(exchange, secrets[6], "<img src=x onerror=alert(1)>")
    assert "<img src=x" not in page and "Status: ok" in page, page[:3000]
    page = page_for(exchange, secrets[7], "foundations")
    assert "could not be graded" in page and "\u202e" not in page, page
    key = make_unique_key(exchange.course_id, "foundations", "foundations", "leo", stamp)
    name = notebook_hash(str(legacy / "foundations.ipynb"), key)
    assert "Student: <b>leo</b>" in (exchange.feedback / f"{name}.html").read_text()

    queue = Queue(tmp_path / "out" / "serve" / "queue.db")
    states = {row.label.split("+")[-1]: row.state for row in queue.rows()}
    assert states == {"r1": State.GRADED, "r2": State.FAILED, "r3": State.FAILED,
                      "r4": State.GRADED, "r5": State.GRADED, "r6": State.GRADED,
                      "r7": State.FAILED, stamp: State.GRADED, "y": State.FAILED,
                      "r9": State.FAILED}, states
    assert all(row.grade_count == 1 for row in queue.rows()), "each graded once"
    assert not (tmp_path / "out" / "results" / "bad*id").exists(), "a bad id became a path"


def fake_result(item) -> dict:
    """A fast stand-in for the grader: every test passed."""
    tests = empty_tests(FND, TestStatus.PASSED, "")
    for test in tests:
        test["points"] = test["max_points"]
    GRADED.append(item.student)
    return finish({"status": RowStatus.OK, "message": "", "tests": tests}, time.monotonic(), FND)


GRADED: list[str] = []


def test_a_burst_of_100_is_queued_and_graded_in_arrival_order(tmp_path, monkeypatch):
    rewrites = []
    write_csv = storage.write_csv
    monkeypatch.setattr(storage, "write_csv", lambda out, results: rewrites.append(
        len(results)) or write_csv(out, results))
    exchange = make_exchange(tmp_path / "exchange", (FND,))
    names = [f"s{n:03d}" for n in range(100)]
    order = list(names)
    random.Random(7).shuffle(order)  # folders appear in any order; their timestamps say when
    for name in order:
        minute, second = divmod(names.index(name), 60)
        hand_made(exchange, f"{name}+foundations+2026-12-07 10:{minute:02d}:{second:02d}.000000 UTC+r",
                  {"foundations.ipynb": RELEASE_BYTES}, SECRET[:-3] + f"{names.index(name):03d}")
    GRADED.clear()
    started = time.monotonic()
    serve_until_idle(make_service(exchange, tmp_path / "out", grader=InlineExecutor(fake_result),
                                  gradebook=False))
    elapsed = time.monotonic() - started
    assert GRADED == names, f"graded out of arrival order: {GRADED[:10]}..."
    queue = Queue(tmp_path / "out" / "serve" / "queue.db")
    rows = queue.rows()
    assert [row.student for row in rows] == names, "queued out of arrival order"
    assert all(row.state == State.GRADED and row.grade_count == 1 for row in rows)
    assert len(list(exchange.feedback.glob("*.html"))) == 100, "a page is missing"
    assert elapsed < 120, f"100 fake gradings took {elapsed:.0f} s"
    out = tmp_path / "out"
    expected = write_csv(tmp_path / "expected", storage.saved_results(out))
    assert (out / "grades.csv").read_bytes() == expected.read_bytes(), (
        "grades.csv after the burst is not what `grade` writes from the saved results")
    assert len((out / "grades.csv").read_text().splitlines()) == 101
    assert 1 <= len(rewrites) <= 5 and rewrites[-1] == 100, (
        f"grades.csv should be rewritten when the queue drains, not per submission: {rewrites}")


def test_kill_9_mid_burst_then_restart_grades_every_submission_exactly_once(tmp_path):
    exchange = make_exchange(tmp_path / "exchange", (FND,))
    out, log = tmp_path / "out", tmp_path / "serve.log"
    for n in range(KILL_BURST):
        hand_made(exchange, f"k{n}+foundations+2026-12-07 10:00:0{n}.000000 UTC+r",
                  {"foundations.ipynb": RELEASE_BYTES}, f"{n:02d}" * 64)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    command = [sys.executable, "-m", "autograder", "serve", "--exchange", str(exchange.root),
               "--out", str(out), "--jobs", "1", "--poll", "0.1", "--log", str(log)]
    service = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not (log.exists() and '"event": "graded"' in log.read_text()):
            assert service.poll() is None, f"serve exited early: {log.read_text()}"
            assert time.monotonic() < deadline, f"nothing graded in 180 s: {log.read_text()}"
            time.sleep(0.05)
        os.kill(service.pid, signal.SIGKILL)
        service.wait(timeout=30)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait(timeout=30)
    queue = Queue(out / "serve" / "queue.db")
    before = {row.student: row.state for row in queue.rows()}
    assert State.GRADED in before.values() and set(before.values()) != {State.GRADED}, (
        f"the kill should land mid-burst: {before}")
    done = subprocess.run(command + ["--until-idle"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = queue.rows()
    assert [(row.student, row.state, row.grade_count) for row in rows] == [
        (f"k{n}", State.GRADED, 1) for n in range(KILL_BURST)], rows
    assert '"recovered": ' in log.read_text()
    assert len(list(exchange.feedback.glob("*.html"))) == KILL_BURST
    grades = (out / "grades.csv").read_text().splitlines()
    assert len(grades) == 1 + KILL_BURST, grades


def test_a_publication_that_fails_gives_a_failed_row_and_a_page_saying_so(tmp_path, monkeypatch):
    from autograder.serve import publish

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(publish.Publisher, "_record", full_disk)
    exchange = make_exchange(tmp_path / "exchange", (FND,))
    hand_made(exchange, "ada+foundations+2026-12-07 10:00:00.000000 UTC+r",
              {"foundations.ipynb": RELEASE_BYTES}, SECRET)
    log = io.StringIO()
    serve_until_idle(make_service(exchange, tmp_path / "out", grader=InlineExecutor(fake_result),
                                  gradebook=False, log=log))
    (row,) = Queue(tmp_path / "out" / "serve" / "queue.db").rows()
    assert row.state == State.FAILED and "could not publish" in (row.problem or ""), row
    assert "could not publish its feedback" in page_for(exchange, SECRET, "foundations")
    assert '"event": "publish_error"' in log.getvalue() and "No space left" in log.getvalue()


def dies_or_passes(item, limits, isolation) -> dict:
    """In a grading process: the submission of ``killer`` kills its process at once (as
    student code can in rlimits mode); the others pass every test, slowly enough to be
    graded beside it when it does."""
    if item.student == "killer":
        os._exit(1)
    time.sleep(1.0)
    return fake_result(item)


def test_a_submission_that_kills_its_process_fails_alone_and_its_neighbours_are_graded(tmp_path):
    exchange = make_exchange(tmp_path / "exchange", (FND,))
    names = ["good1", "killer", "good2", "good3"]
    for n, name in enumerate(names):
        hand_made(exchange, f"{name}+foundations+2026-12-07 10:00:0{n}.000000 UTC+r",
                  {"foundations.ipynb": RELEASE_BYTES}, f"{n + 1:02d}" * 64)
    grader = LocalPool(2, Limits(), "rlimits", function=dies_or_passes)
    serve_until_idle(make_service(exchange, tmp_path / "out", grader=grader, gradebook=False))
    rows = {row.student: row for row in Queue(tmp_path / "out" / "serve" / "queue.db").rows()}
    assert rows["killer"].status == RowStatus.GRADER_ERROR and rows["killer"].grade_count == 1, rows["killer"]
    page = page_for(exchange, "02" * 64, "foundations")
    assert "not run: the grader&#x27;s process was killed" in page, page[:3000]
    (saved,) = json.loads((tmp_path / "out" / "serve" / "results" / f"{rows['killer'].id}.json"
                           ).read_text())
    assert saved["message"] == pool.KILLED_THRICE, saved["message"]
    for name in ("good1", "good2", "good3"):
        assert (rows[name].state, rows[name].status, rows[name].score) == (
            State.GRADED, RowStatus.OK, rows[name].max_score), f"{name}, graded beside the killer: {rows[name]}"
