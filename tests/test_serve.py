"""``python -m autograder serve``: submissions made with nbgrader's own ``submit`` are graded
as they arrive, and ``nbgrader fetch_feedback`` brings each student their own page.

Each test has its exchange and OUT in a temporary folder, and students with HOMEs of
their own (``tests/exchange_helpers.py``). The grader is the real one, in its pool of
grading processes, except where a test says otherwise.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import notebook_hash

from autograder import demo
from autograder.execution import batch
from autograder.sandbox.launch import Limits, isolation_mode
from autograder.execution.pool import LocalPool
from autograder.serve.policy import Policy
from autograder.serve.queue import Queue, State
from autograder.serve.service import EventLog, Service, Settings
from course_under_test import COURSE, FND
from exchange_helpers import hand_made, make_exchange, student

RELEASE = nbformat.read(str(FND.release_notebook), as_version=4)
SCORE = re.compile(r"Autograded tests: <b>([\d.]+) / ([\d.]+)</b>")


def correct_notebook() -> nbformat.NotebookNode:
    """The demo's correct foundations notebook (30 / 30)."""
    functions = demo.functions_in(FND.demo_dir / "students" / f"{demo.CORRECT}.py")
    return demo.fill(RELEASE, functions)


def make_service(exchange, out: Path, grader=None, policies=None, clock=time.time,
                 gradebook: bool = True, log: io.StringIO | None = None,
                 owner_check: str = "auto") -> Service:
    """A service on ``exchange`` grading into ``out`` (real grader, 2 processes, unless
    ``grader`` is given)."""
    limits, isolation = Limits(), isolation_mode("auto")
    settings = Settings(exchange=exchange.root, out=out, course_id=exchange.course_id,
                        fingerprint=batch.grader_key(limits, isolation), poll=0.05, settle=0.2,
                        abandon=2.0, gradebook=gradebook, owner_check=owner_check)
    return Service(settings, grader or LocalPool(2, limits, isolation), policies or {},
                   clock, EventLog(log if log is not None else io.StringIO()))


def serve_until_idle(service: Service) -> None:
    try:
        service.run(until_idle=True)
    finally:
        service.close()


def scores(pages: dict[str, str]) -> list[tuple[float, float]]:
    return [tuple(float(x) for x in SCORE.search(text).groups()) for _, text in sorted(pages.items())]


def test_submit_then_fetch_feedback_gives_each_student_their_own_page(tmp_path):
    exchange = make_exchange(tmp_path / "exchange", (FND,))
    ada, fay = student(tmp_path, "ada", exchange), student(tmp_path, "fay", exchange)
    ada.submit(FND, correct_notebook())
    fay.submit(FND, RELEASE)
    log = io.StringIO()
    serve_until_idle(make_service(exchange, tmp_path / "out", log=log))

    ada_pages, fay_pages = ada.fetch_feedback(FND), fay.fetch_feedback(FND)
    assert len(ada_pages) == 1 and len(fay_pages) == 1, (ada_pages.keys(), fay_pages.keys())
    (ada_page,), (fay_page,) = ada_pages.values(), fay_pages.values()
    assert scores(ada_pages) == [(30.0, 30.0)], SCORE.findall(ada_page)
    assert scores(fay_pages) == [(0.0, 30.0)], SCORE.findall(fay_page)
    assert "Student: <b>ada</b>" in ada_page and "fay" not in ada_page, "ada's page is not ada's"
    assert "Student: <b>fay</b>" in fay_page and "ada" not in fay_page, "fay's page is not fay's"
    assert "This submission counts for your grade" in ada_page, ada_page[:2000]

    # nbgrader's names and modes, as release_feedback leaves them
    assert stat.S_IMODE(exchange.feedback.stat().st_mode) == 0o711, oct(exchange.feedback.stat().st_mode)
    for folder in exchange.inbound.iterdir():
        secret = (folder / "submission_secret.txt").read_text()
        page = exchange.feedback / f"{notebook_hash(secret=secret, notebook_id=FND.notebook)}.html"
        assert page.is_file(), f"no page named as nbgrader names it for {folder.name}"
        assert stat.S_IMODE(page.stat().st_mode) == 0o644, oct(page.stat().st_mode)
    assert not list(exchange.feedback.glob(".partial-*")), "a temporary page was left behind"

    # the counted submissions are in OUT and the gradebook, as after `grade`
    out = tmp_path / "out"
    grades = (out / "grades.csv").read_text()
    assert re.search(r"^ada,foundations,foundations,30,30,ok", grades, re.M), grades
    assert re.search(r"^fay,foundations,foundations,0,30,ok", grades, re.M), grades
    with Gradebook(f"sqlite:///{out / 'nbgrader' / 'gradebook.db'}", exchange.course_id) as gb:
        assert gb.find_submission("foundations", "ada").score == 30 + 0, "ada's score is not recorded"
        assert gb.find_submission("foundations", "fay").score == 0
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    graded = [e for e in events if e["event"] == "graded"]
    assert sorted(e["student"] if "student" in e else e["submission"].split("+")[0]
                  for e in graded) == ["ada", "fay"], events
    assert all(e["latency"] < 60 for e in graded), f"feedback took over a minute: {graded}"

    # --status and --health read the same database
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    done = subprocess.run([sys.executable, "-m", "autograder", "serve", "--out", str(out),
                           "--status"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "2 graded" in done.stdout, done.stdout + done.stderr
    assert "foundations: 2 graded" in done.stdout, done.stdout
    done = subprocess.run([sys.executable, "-m", "autograder", "serve", "--out", str(out),
                           "--health"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, f"not healthy right after serving: {done.stdout}{done.stderr}"
    done = subprocess.run([sys.executable, "-m", "autograder", "serve", "--out", str(out),
                           "--health", "--max-silence", "0"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 1 and "has not looked" in done.stdout, done.stdout + done.stderr


class Clock:
    """A clock the test sets (epoch seconds)."""

    def __init__(self, when: str) -> None:
        self.now = iso(when)

    def set(self, when: str) -> None:
        self.now = iso(when)

    def __call__(self) -> float:
        return self.now


def iso(when: str) -> float:
    import datetime
    return datetime.datetime.fromisoformat(when).timestamp()


def test_quota_withholds_hidden_results_until_the_next_day_and_late_work_does_not_count(tmp_path):
    exchange = make_exchange(tmp_path / "exchange", (FND,))
    ada = student(tmp_path, "ada", exchange)
    clock = Clock("2026-12-19T10:00:00+00:00")
    policies = {FND.name: Policy(due=iso("2026-12-20T12:00:00+00:00"), hidden_per_day=1)}
    service = make_service(exchange, tmp_path / "out", policies=policies, clock=clock)
    try:
        service.scan()  # the service runs before the first submission
        ada.submit(FND, RELEASE)
        service.run(until_idle=True)
        first = ada.fetch_feedback(FND)
        assert len(first) == 1, first.keys()
        assert "visible tests only" not in next(iter(first.values())), "the first one shows all"

        clock.set("2026-12-19T18:00:00+00:00")
        service.scan()  # it keeps looking: a submission is timed within one look
        ada.submit(FND, RELEASE)
        service.run(until_idle=True)
        pages = ada.fetch_feedback(FND)
        (second,) = [text for name, text in pages.items() if name not in first]
        assert "visible tests only" in second, "past the quota, hidden results must wait"
        assert "will be shown at 2026-12-20 00:00 UTC" in second, second[:3000]

        clock.set("2026-12-20T00:00:05+00:00")  # the next day: the withheld results come
        service.run(until_idle=True)
        pages = ada.fetch_feedback(FND)
        (second,) = [text for name, text in pages.items() if name not in first]
        assert "visible tests only" not in second and "will be shown at" not in second, second[:3000]
        assert "This submission counts for your grade" in second, second[:3000]

        clock.set("2026-12-20T13:00:00+00:00")  # after the due date: graded, not counted
        service.scan()
        ada.submit(FND, correct_notebook())
        service.run(until_idle=True)
        late = [t for t in ada.fetch_feedback(FND).values() if "after the due date" in t]
        assert len(late) == 1 and "does not count for your grade" in late[0], "no late notice"
        assert "your submission of 2026-12-19 18:00 UTC counts" in late[0], late[0][:3000]
        assert scores({"late": late[0]}) == [(30.0, 30.0)], "a late submission still gets its score"
    finally:
        service.close()
    grades = (tmp_path / "out" / "grades.csv").read_text()
    assert re.search(r"^ada,foundations,foundations,0,30,ok", grades, re.M), (
        f"the late 30/30 replaced the counted submission:\n{grades}")
    queue = Queue(tmp_path / "out" / "serve" / "queue.db")
    counted = [row.id for row in queue.rows() if row.counted]
    assert counted == [2], f"the second submission should count, not {counted}"


def test_policy_withholds_until_due_and_quotas_by_interval():
    due = iso("2026-12-20T12:00:00+00:00")
    until_due = Policy(due=due, withhold_hidden_until_due=True)
    assert until_due.hidden_release_at(due - 3600, 0, None) == due
    assert until_due.hidden_release_at(due + 1, 0, None) is None, "after the due date: at once"
    spaced = Policy(min_interval=7200.0)
    assert spaced.hidden_release_at(1000.0, 5, None) is None
    assert spaced.hidden_release_at(4000.0, 1, 1000.0) == 8200.0
    assert spaced.hidden_release_at(9000.0, 1, 1000.0) is None
    assert Policy(due=due).counts(due) and not Policy(due=due).counts(due + 1)


@pytest.mark.parametrize("entry, key", [
    ('due = "tomorrow"', "due"),
    ('due = "2026-12-20T23:59:00"', "due"),  # no offset
    ("due = 5", "due"),
    ("hidden_per_day = -1", "hidden_per_day"),
    ('hidden_per_day = "3"', "hidden_per_day"),
    ('min_interval = "soon"', "min_interval"),
    ("min_interval = 0", "min_interval"),
    ('withhold_hidden_until_due = "yes"', "withhold_hidden_until_due"),
    ("withhold_hidden_until_due = true", "withhold_hidden_until_due"),  # no due
])
def test_bad_policy_values_name_their_key(tmp_path, entry, key):
    from autograder.serve import policy
    path = tmp_path / "course.toml"
    path.write_text(f'course_id = "c"\n[[assignment]]\nname = "foundations"\n{entry}\n')
    with pytest.raises(policy.PolicyError, match=f"assignment 'foundations': {key}"):
        policy.load(path)


def test_policies_are_read_from_course_toml(tmp_path):
    from autograder.serve import policy
    path = tmp_path / "course.toml"
    path.write_text('course_id = "c"\n[[assignment]]\nname = "foundations"\n'
                    'due = 2026-12-20T23:59:00+00:00\nhidden_per_day = 3\nmin_interval = "90m"\n'
                    '[[assignment]]\nname = "deep_mlp"\n'
                    'due = "2026-12-21T23:59:00+01:00"\nwithhold_hidden_until_due = true\n')
    found = policy.load(path)
    assert found["foundations"] == Policy(iso("2026-12-20T23:59:00+00:00"), 3, 5400.0, False)
    assert found["deep_mlp"] == Policy(iso("2026-12-21T22:59:00+00:00"), None, None, True)
