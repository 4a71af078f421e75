"""Grading on a Dask cluster (``autograder.execution.dask_cluster``), on this one machine: a LocalCluster
of two worker processes must grade as the local pool does, survive a worker killed in
mid-batch, and refuse clearly a cluster it cannot use.

The comparison corpus is the demo submissions of every assignment, the hostile corpus of
``test_hostile`` and the odd names and files of ``test_hostile_batch``; it is graded
once by the pool and once by the cluster (module fixtures).
"""

import csv
import dataclasses
import os
import signal
import socket
import threading
import time
import types

import cloudpickle
import dask
import nbformat
import pytest
from distributed import Client, LocalCluster

import test_hostile
from autograder import cli, config, demo
from autograder.discovery import Submission
from autograder.execution import batch, dask_cluster as cluster, dask_worker as cluster_worker, pool, task
from autograder.gradebook import sync as gradebook
from autograder.grader_key import grader_key
from autograder.records import RowStatus
from autograder.sandbox.launch import Limits
from course_under_test import COURSE, TLN
from test_hostile import ISOLATION, LIMITS, build, processes_with, write_submission
from test_hostile_batch import NON_UTF8, surrogate_markdown_json

KILLER = "k_kills_its_worker"
# The hostile corpus's limits, but a whole notebook may take long on a loaded machine: a
# row that ran out of its notebook time in one run only would differ for the wrong reason.
COMPARED = dataclasses.replace(LIMITS, notebook_seconds=900.0)


def killing_grade_payload(payload):
    """The Dask task, except that the worker running it dies for one student."""
    if payload.item.student == KILLER:
        os._exit(1)
    return cluster_worker.grade_payload(payload)


@pytest.fixture(scope="module")
def client():
    # A task may be on a worker that dies once; the second death makes it a KilledWorker.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as local, Client(local) as connected:
            yield connected


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("cluster")
    ctx = types.SimpleNamespace(base=base, subs=base / "subs", out=base / "out_pool",
                                canary=base / "escaped_write.txt", port=closed_port(),
                                marker=f"{5000 + os.getpid() % 1000}.{time.time_ns() % 997:03d}")
    demo.make_submissions(ctx.subs)
    for student, notebook in test_hostile.corpus(ctx).items():
        write_submission(ctx.subs, student, notebook)
    write_submission(ctx.subs, "b_surrogate_markdown", surrogate_markdown_json())
    write_submission(ctx.subs, "t_escape\x1b[2J\nname", build())
    latin = write_submission(ctx.subs, "latin_placeholder", build())
    os.rename(os.fsencode(latin.parent.parent), os.path.join(os.fsencode(ctx.subs), NON_UTF8))
    sparse = ctx.subs / "b_sparse_64gib" / TLN.name / f"{TLN.notebook}.ipynb"
    sparse.parent.mkdir(parents=True)
    with open(sparse, "wb") as handle:
        handle.truncate(64 << 30)
    with_data = write_submission(ctx.subs, "d_with_data_files", build())
    (with_data.parent / "data" / "deeper").mkdir(parents=True)
    (with_data.parent / "data" / "deeper" / "notes.txt").write_text("the student's own data")
    linked = ctx.subs / "b_linked_notebook" / TLN.name
    linked.mkdir(parents=True)
    (linked / f"{TLN.notebook}.ipynb").symlink_to(TLN.source_notebook)
    yield ctx
    for pid in processes_with(ctx.marker):  # a daemon the hostile corpus started
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def both(corpus, client):
    """The corpus graded by the pool and by the cluster, each recorded in a gradebook."""
    graded = {}
    for name, where in (("pool", {"jobs": 2}), ("cluster", {"scheduler": client})):
        out = corpus.base / f"out_{name}"
        results, summary = batch.grade_all(corpus.subs, out, limits=COMPARED,
                                           isolation=ISOLATION, **where)
        database, problems = gradebook.sync(out, results)
        graded[name] = types.SimpleNamespace(out=out, results=results, summary=summary,
                                             database=database, problems=problems)
    return graded


def csv_rows(out):
    """{(student, assignment, notebook): {column: value}} of OUT's grades.csv."""
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return {(row["student_id"], row["assignment"], row["notebook"]): row
                for row in csv.DictReader(handle)}


def files_under(folder):
    return {path.relative_to(folder): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_the_cluster_grades_the_corpus_to_the_same_csv_as_the_pool(both):
    pool_rows, cluster_rows = csv_rows(both["pool"].out), csv_rows(both["cluster"].out)
    assert len(pool_rows) == len(both["pool"].results) > 40, f"{len(pool_rows)} rows"
    assert pool_rows.keys() == cluster_rows.keys(), sorted(pool_rows.keys() ^ cluster_rows.keys())
    differ = {row: {column: (value, cluster_rows[row][column])
                    for column, value in pool_rows[row].items() if value != cluster_rows[row][column]}
              for row in pool_rows if pool_rows[row] != cluster_rows[row]}
    assert not differ, f"rows that differ (pool value, cluster value): {differ}"
    statuses = {r["status"] for r in both["cluster"].results}
    assert {RowStatus.OK, RowStatus.INVALID_NOTEBOOK} <= statuses, statuses


def test_the_cluster_writes_the_same_feedback_pages_as_the_pool(both):
    pages = {name: files_under(both[name].out / "feedback") for name in both}
    assert pages["pool"].keys() == pages["cluster"].keys(), (
        f"pages only one of them wrote: {sorted(pages['pool'].keys() ^ pages['cluster'].keys())}")
    differ = [path for path in pages["pool"] if pages["pool"][path] != pages["cluster"][path]]
    assert not differ, f"feedback pages that differ: {differ[:5]}"


def test_the_cluster_records_the_same_gradebook_as_the_pool(both):
    from nbgrader.api import Gradebook
    recorded = {}
    for name in both:
        with Gradebook(f"sqlite:///{both[name].database}", COURSE.course_id) as book:
            recorded[name] = {(s.student.id, s.assignment.name): s.score
                              for a in COURSE.assignments
                              for s in book.assignment_submissions(a.name)}
    assert both["pool"].problems == both["cluster"].problems, (
        f"submissions not recorded: pool {both['pool'].problems}, "
        f"cluster {both['cluster'].problems}")
    assert len(both["cluster"].problems) == 2, (
        f"only the two ids nbgrader cannot hold should be left out: {both['cluster'].problems}")
    assert recorded["pool"] == recorded["cluster"], "the gradebooks' scores differ"
    assert len(recorded["cluster"]) >= 40, f"only {len(recorded['cluster'])} recorded"


def test_a_submission_is_sent_as_bytes_and_refused_paths_are_never_read(both, corpus):
    by_student = {r["student_id"]: r for r in both["cluster"].results}
    assert by_student["b_linked_notebook"]["status"] == RowStatus.INVALID_NOTEBOOK
    assert "symbolic link" in by_student["b_linked_notebook"]["message"]
    assert "MiB" in by_student["b_sparse_64gib"]["message"], by_student["b_sparse_64gib"]
    assert by_student["d_with_data_files"]["score"] == TLN.max_score, (
        "a submission with extra files (sent with its notebook) should grade in full")
    assert by_student["d_with_data_files"]["path"].startswith(str(corpus.subs)), (
        "the record should keep the coordinator's path, not the worker's scratch copy")


def test_an_unchanged_batch_is_reused_on_the_cluster(both, corpus, client):
    results, summary = batch.grade_all(corpus.subs, both["cluster"].out, limits=COMPARED,
                                       isolation=ISOLATION, scheduler=client)
    assert summary["skipped_unchanged"] == len(results) == len(both["cluster"].results), summary


# -- workers that die ------------------------------------------------------------------
def slow_batch(folder, students):
    """ada's notebook with a 4-second cell, for each of ``students``."""
    slow = build(at_end=[nbformat.v4.new_code_cell("import time\ntime.sleep(4)")])
    for student in students:
        write_submission(folder, student, slow)
    return folder


def test_killing_a_worker_in_mid_batch_loses_nothing(tmp_path, client, capsys):
    subs = slow_batch(tmp_path / "subs", [f"s{i}" for i in range(4)])
    pids = client.run(os.getpid)
    box = {}
    grading = threading.Thread(target=lambda: box.update(done=batch.grade_all(
        subs, tmp_path / "out", scheduler=client, isolation=ISOLATION)))
    grading.start()
    deadline, killed = time.monotonic() + 120, None
    while killed is None and time.monotonic() < deadline:
        busy = [worker for worker, keys in client.processing().items() if keys]
        if busy:
            time.sleep(1.0)  # well inside its task: the sandbox started, cells running
            killed = busy[0]
            os.kill(pids[killed], signal.SIGKILL)
        time.sleep(0.1)
    grading.join(timeout=600)
    assert killed, "no worker was ever busy"
    results, summary = box["done"]
    assert summary["status_counts"] == {RowStatus.OK: 4}, summary
    assert all(r["score"] == TLN.max_score for r in results), [r["score"] for r in results]
    said = capsys.readouterr().err
    assert "left during the batch" in said, f"grade did not report the lost worker: {said!r}"
    client.wait_for_workers(2, timeout=180)  # the nanny restarts the killed worker (slow under load)


def test_lost_workers_and_resent_tasks_are_reported(capsys):
    cluster.report_losses({"tcp://10.0.0.1:1", "tcp://10.0.0.2:2"}, {"tcp://10.0.0.2:2"},
                          {"a": 1, "b": 3, "c": 2})
    said = capsys.readouterr().err
    assert "1 worker(s) left" in said and "tcp://10.0.0.1:1" in said, said
    assert "3 task(s) were sent again" in said, said
    cluster.report_losses({"w"}, {"w"}, {"a": 1})
    assert capsys.readouterr().err == "", "nothing lost: nothing to report"


def test_a_submission_that_keeps_killing_workers_is_a_grader_error(tmp_path, client,
                                                                   monkeypatch):
    cloudpickle.register_pickle_by_value(__import__(__name__))
    monkeypatch.setattr(cluster, "grade_payload", killing_grade_payload)
    subs = tmp_path / "subs"
    write_submission(subs, KILLER, build())
    write_submission(subs, "ada_fine", build())
    results, _ = batch.grade_all(subs, tmp_path / "out", scheduler=client, isolation=ISOLATION)
    by_student = {r["student_id"]: r for r in results}
    assert by_student[KILLER]["status"] == RowStatus.GRADER_ERROR, by_student[KILLER]
    assert "died" in by_student[KILLER]["message"], by_student[KILLER]["message"]
    assert by_student["ada_fine"]["status"] == RowStatus.OK, by_student["ada_fine"]
    client.wait_for_workers(2, timeout=180)  # the nanny restarts the killed workers


def published(client, error, item, out, sent):
    """What the coordinator publishes for a task of ``item`` that raised ``error`` (its
    ``sent``-th sending): None when the task is to be sent again, else the saved result
    (``executor.run`` saves what the executor gives back with ``task.save_result``)."""
    failed = cluster.failure(client, error, item, sent)
    return None if failed is None else task.save_result(out, item, "K", failed, ())


def test_a_grading_process_that_dies_three_times_is_a_grader_error(tmp_path, monkeypatch):
    calls = []

    class Dying:
        def call(self, payload):
            calls.append(payload)
            raise cluster_worker.ProcessDied("killed")

    monkeypatch.setattr(cluster_worker, "_process", lambda limits: Dying())
    item = Submission("zed", TLN.name, TLN.notebook, TLN.release_notebook)
    payload = cluster_worker.Payload(item, b"{}", (), Limits(), ISOLATION, "G")
    with pytest.raises(cluster_worker.ProcessKilled) as raised:
        cluster_worker.grade_payload(payload)
    assert len(calls) == cluster_worker.ATTEMPTS, f"{len(calls)} attempts"
    saved = published(types.SimpleNamespace(status="running"), raised.value, item, tmp_path, 1)
    assert saved["status"] == RowStatus.GRADER_ERROR and saved["message"] == pool.KILLED_THRICE
    page = (tmp_path / "feedback" / "zed" / TLN.name / f"{TLN.notebook}.html").read_text()
    assert "zed" in page, "the coordinator should write the page, as the pool does"


def test_a_task_the_cluster_lost_is_sent_again_then_given_up(tmp_path):
    from concurrent.futures import CancelledError
    item = Submission("lost", TLN.name, TLN.notebook, TLN.release_notebook)
    up, down = types.SimpleNamespace(status="running"), types.SimpleNamespace(status="closed")
    lost = CancelledError("lost dependencies")
    assert published(up, lost, item, tmp_path, 1) is None, (
        "a task lost with its worker should be sent again")
    given_up = published(up, lost, item, tmp_path, cluster.RESENDS + 1)
    assert given_up["status"] == RowStatus.GRADER_ERROR and "lost" in given_up["message"]
    with pytest.raises(cluster.ClusterUnavailable, match="lost the connection"):
        published(down, lost, item, tmp_path, 1)


def test_a_failure_on_a_worker_is_tried_again_then_a_grader_error_of_that_row_only(tmp_path):
    item = Submission("unlucky", TLN.name, TLN.notebook, TLN.release_notebook)
    failure = cluster_worker.WorkerFailure("on host: OSError: [Errno 28] No space left")
    up = types.SimpleNamespace(status="running")
    assert published(up, failure, item, tmp_path, 1) is None, (
        "a worker's failure (its disk, its processes) should send the task again")
    saved = published(up, failure, item, tmp_path, cluster.RESENDS + 1)
    assert saved["status"] == RowStatus.GRADER_ERROR and "No space left" in saved["message"]


def test_no_sandbox_on_the_workers_only_when_asked_for():
    with pytest.raises(cluster.ClusterUnavailable, match="--isolation rlimits"):
        cluster.check_isolation("auto", "rlimits")
    cluster.check_isolation("rlimits", "rlimits")  # asked for explicitly
    cluster.check_isolation("auto", "bubblewrap")


def test_ctrl_c_cancels_the_tasks_out_and_keeps_what_was_saved(tmp_path, client, monkeypatch):
    subs = slow_batch(tmp_path / "subs", [f"c{i}" for i in range(4)])
    steps = []

    def interrupt(self, label):
        steps.append(label)
        raise KeyboardInterrupt

    monkeypatch.setattr(pool.Progress, "step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        batch.grade_all(subs, tmp_path / "out", scheduler=client, isolation=ISOLATION)
    saved = list((tmp_path / "out" / "results").rglob("*.json"))
    assert len(steps) == 1 and len(saved) == 1, f"steps {steps}, saved {saved}"
    deadline = time.monotonic() + 30
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(client.processing().values()), "tasks kept running after Ctrl-C"


# -- clusters that cannot be used ------------------------------------------------------
def test_an_unreachable_scheduler_exits_2_with_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2.0)
    subs = tmp_path / "subs"
    write_submission(subs, "ada", build())
    address = f"tcp://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    code = cli.main(["grade", str(subs), "--out", str(tmp_path / "out"), "--scheduler", address,
                     "--isolation", ISOLATION, "--no-progress", "--no-gradebook"])
    error = capsys.readouterr().err
    assert code == 2, f"exit code {code}: {error}"
    assert f"cannot reach the Dask scheduler at {address}" in error, error
    assert time.monotonic() - started < 60, "the connection attempt should give up in time"
    assert not (tmp_path / "out" / "grades.csv").exists(), "nothing should be written"


def test_a_scheduler_without_workers_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "WORKERS_SECONDS", 2.0)
    subs = tmp_path / "subs"
    write_submission(subs, "ada", build())
    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty:
        with pytest.raises(cluster.ClusterUnavailable, match="no Dask worker joined"):
            batch.grade_all(subs, tmp_path / "out", scheduler=empty.scheduler_address,
                            isolation=ISOLATION)


def test_workers_that_would_grade_otherwise_are_refused_before_grading(client):
    mine = grader_key(LIMITS, ISOLATION)
    assert cluster_worker.probe(LIMITS, ISOLATION)["key"] == mine
    code, release, isolation, limits = mine.split(":", 3)
    other = ":".join(["0" * len(code), release, "rlimits/grader-uid/no-cgroup", limits])
    with pytest.raises(cluster.ClusterUnavailable, match="would not grade as this machine") \
            as refused:
        cluster.check_workers(client, LIMITS, ISOLATION, other)
    message = str(refused.value)
    assert "the grader's code" in message and "the isolation" in message, message
    assert "the releases" not in message and "the limits" not in message, message
    assert str(config.ROOT) in message, "the message should say where the workers' code is"


def test_a_service_that_is_not_dask_gives_up_in_time(monkeypatch):
    """A mistyped port where another service listens (here: one that never answers)."""
    monkeypatch.setattr(cluster, "CLOSE_SECONDS", 1.0)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete, nothing is ever said
        started = time.monotonic()
        with pytest.raises(cluster.ClusterUnavailable, match="cannot reach the Dask scheduler"):
            cluster.connect(f"tcp://127.0.0.1:{silent.getsockname()[1]}", timeout=2.0)
    assert time.monotonic() - started < 20, "the attempt should give up within its deadline"


def test_an_address_that_is_not_a_schedulers_is_refused_at_once():
    started = time.monotonic()
    with pytest.raises(cluster.ClusterUnavailable, match="tcp://HOST:PORT"):
        cluster.connect("nonsense://x")
    assert time.monotonic() - started < 2
