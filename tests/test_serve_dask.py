"""``python -m autograder serve --scheduler``: the service grades on a Dask cluster's workers
(``autograder.execution.dask_executor``), here a local scheduler with two worker processes, as
``test_cluster`` starts them, and publishes the pages itself; a worker that would grade
otherwise (another course secret) is refused, and said so in the log.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from autograder.execution import batch
from autograder.sandbox.launch import Limits, isolation_mode
from autograder.execution.dask_executor import DaskExecutor
from autograder.serve.service import EventLog
from course_under_test import FND
from exchange_helpers import make_exchange, student
from test_serve import RELEASE, correct_notebook, make_service, scores, serve_until_idle

BIN = Path(sys.executable).parent
# A worker's --preload: another course secret, and a task that fails if it is ever run there.
OTHER_SECRET = """
import autograder.execution.dask_worker, autograder.hidden
autograder.hidden.secret_digest = lambda root=None: "f" * 16
def refused(payload):
    raise RuntimeError("a refused worker was given a task")
autograder.execution.dask_worker.grade_payload = refused
"""


@pytest.fixture(scope="module")
def scheduler():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as local:
        yield local.scheduler_address


def events(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def graded_on_the_cluster(scheduler: str) -> int:
    """How many grading tasks finished on the scheduler's workers (entered "memory")."""
    with Client(scheduler) as client:
        return client.run_on_scheduler(lambda dask_scheduler: sum(
            prefix.state_counts.get("memory", 0)
            for name, prefix in dask_scheduler.task_prefixes.items() if name == "grade"))


def test_serve_with_a_scheduler_grades_on_the_workers_and_releases_the_pages(tmp_path,
                                                                              scheduler):
    exchange = make_exchange(tmp_path / "exchange", (FND,))
    ada, fay = student(tmp_path, "ada", exchange), student(tmp_path, "fay", exchange)
    ada.submit(FND, correct_notebook())
    fay.submit(FND, RELEASE)
    before, log = graded_on_the_cluster(scheduler), tmp_path / "serve.log"
    env = dict(os.environ, PATH=str(BIN) + os.pathsep + os.environ["PATH"])
    done = subprocess.run([sys.executable, "-m", "autograder", "serve", "--exchange",
                           str(exchange.root), "--out", str(tmp_path / "out"), "--scheduler",
                           scheduler, "--until-idle", "--poll", "0.2", "--log", str(log)],
                          capture_output=True, text=True, env=env, timeout=900)
    said = log.read_text() if log.exists() else ""
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{said}"
    found = events(said)
    assert len([e for e in found if e["event"] == "worker_joined"]) == 2, found
    assert not [e for e in found if e["event"] == "worker_refused"], found
    assert sorted(e["status"] for e in found if e["event"] == "graded") == ["ok", "ok"], found
    assert graded_on_the_cluster(scheduler) - before == 2, "the workers should grade both"

    ada_pages, fay_pages = ada.fetch_feedback(FND), fay.fetch_feedback(FND)
    assert scores(ada_pages) == [(30.0, 30.0)] and scores(fay_pages) == [(0.0, 30.0)]
    assert "Student: <b>ada</b>" in next(iter(ada_pages.values()))
    assert "Student: <b>fay</b>" in next(iter(fay_pages.values()))
    grades = (tmp_path / "out" / "grades.csv").read_text()
    assert "ada,foundations,foundations,30,30,ok" in grades, grades


def test_a_worker_with_another_course_secret_is_refused_and_given_no_task(tmp_path, scheduler):
    preload = tmp_path / "other_secret.py"
    preload.write_text(OTHER_SECRET)
    odd = subprocess.Popen([str(BIN / "dask"), "worker", scheduler, "--nthreads", "1",
                            "--no-nanny", "--no-dashboard", "--name", "odd", "--preload", str(preload)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with Client(scheduler) as client:
            client.wait_for_workers(3, timeout=120)
            (address,) = [w for w, info in client.scheduler_info()["workers"].items()
                          if info["name"] == "odd"]
        limits, isolation = Limits(), isolation_mode("auto")
        text = io.StringIO()
        grader = DaskExecutor(scheduler, limits, isolation, batch.grader_key(limits, isolation),
                            EventLog(text))
        assert address not in grader.good and len(grader.good) == 2, grader.good
        exchange = make_exchange(tmp_path / "exchange", (FND,))
        students = [student(tmp_path, name, exchange) for name in ("ada", "bob", "cyd")]
        for one in students:  # three at once: with three idle workers, one would go to odd
            one.submit(FND, correct_notebook())
        serve_until_idle(make_service(exchange, tmp_path / "out", grader=grader, log=text))
        for one in students:
            assert scores(one.fetch_feedback(FND)) == [(30.0, 30.0)], f"{one.name}'s page"
    finally:
        odd.terminate()
        odd.wait(timeout=60)
    refused = [e for e in events(text.getvalue()) if e["event"] == "worker_refused"]
    assert len(refused) == 1 and refused[0]["worker"] == address, refused
    assert "would not grade as this machine does" in refused[0]["problem"], refused
    assert "the course secret" in refused[0]["problem"], refused
    assert "the grader's code" not in refused[0]["problem"], refused
