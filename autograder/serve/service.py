"""The service's loop: watch the inbound folder, queue, grade in arrival order, publish.

One turn (``step``): record the complete new inbound folders (``watch``) in the queue
(``queue``), release the hidden results that are due, claim the oldest queued
submissions (as many as the grader has free places), copy each in (``intake``) and send
it to the grader (``grader``), then publish each submission that finished (``publish``):
its page in the exchange under nbgrader's name, and, for the submission that counts, its
result in OUT and the gradebook; last, its final state; grades.csv is rewritten when the
queue drains (``Publisher.write_grades``). A slow submission holds only its own place.
Every step is written as one JSON line to the log.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from autograder import course
from autograder.outputs.out_folder import OutFolder
from autograder.serve import intake, owner, publish
from autograder.execution.executor import Executor
from autograder.serve.policy import Policy
from autograder.serve.queue import Arrival, Queue, Row
from autograder.serve.watch import Watcher, parse_name, submitted_time
from autograder.text import clean_text, display_name

Clock = Callable[[], float]


class EventLog:
    """Structured log: one JSON object per line (``time``, ``event``, then the fields)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()

    def __call__(self, event: str, **fields: Any) -> None:
        """Write one event; text fields are made printable first."""
        record = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="milliseconds"), "event": event}
        record.update({k: clean_text(v) if isinstance(v, str) else v for k, v in fields.items()})
        with self.lock:
            self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.stream.flush()


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where the service works and how often it looks.

    ``exchange``: nbgrader's exchange root; ``out``: the grading folder (as for ``grade``:
    results, pages, grades.csv, ``nbgrader/``), which also holds ``serve/`` (the queue
    database, copies of the submissions, their results); ``poll``: seconds between looks
    at the inbound folder; ``settle`` / ``abandon``: see ``watch``; ``gradebook``: record
    the counted submissions in OUT/nbgrader's gradebook; ``fingerprint``: the grader key
    (``batch.grader_key``) stored with each result; ``owner_check``: whether a folder's
    owner must be the user its student id names (``owner``: "auto", "on", "off")."""

    exchange: Path
    out: Path
    course_id: str
    fingerprint: str
    poll: float = 0.5
    settle: float = 1.0
    abandon: float = 60.0
    gradebook: bool = True
    owner_check: str = "auto"

    @property
    def inbound(self) -> Path:
        return Path(self.exchange) / self.course_id / "inbound"

    @property
    def work(self) -> Path:
        return OutFolder(self.out).serve


class Service:
    """The feedback service. ``clock`` gives the time the policies use (due dates,
    quotas; epoch seconds, injectable for tests); latencies use the wall clock."""

    def __init__(self, settings: Settings, grader: Executor, policies: dict[str, Policy],
                 clock: Clock = time.time, log: EventLog | None = None) -> None:
        self.settings, self.grader, self.clock = settings, grader, clock
        self.log = log or EventLog()
        self.queue = Queue(settings.work / "queue.db")
        self.publisher = publish.Publisher(settings, self.queue, policies, clock, self.log)
        recovered = self.queue.recover()
        self.watcher = Watcher(settings.inbound, self.queue.known_folders(), settings.settle,
                               settings.abandon)
        self.names = course.current().names
        self.started: dict[int, tuple[Row, intake.Staged, list]] = {}  # being graded, by id
        self.owner: dict[Any, int] = {}  # item being graded: its submission's id
        self.log("started", inbound=str(settings.inbound), recovered=recovered,
                 queued=len(self.queue.rows("state = 'queued'")), jobs=grader.jobs)

    def scan(self) -> int:
        """Record the complete new inbound folders as queued; returns how many."""
        now, seen = self.clock(), time.time()
        last = self.queue.meta("last_scan")
        arrivals = []
        for name in self.watcher.ready(seen):
            parsed = parse_name(name, self.names)
            arrivals.append(Arrival(
                folder=name, label=display_name(name), student=parsed.student,
                assignment=parsed.assignment, seen_at=seen,
                submitted_at=submitted_time(self.settings.inbound / name, now,
                                            float(last) if last else None)))
        added = self.queue.add(arrivals) if arrivals else 0
        self.queue.set_meta("last_scan", repr(now))
        self.queue.set_meta("heartbeat", repr(time.time()))
        for arrival in arrivals:
            self.log("queued", submission=arrival.label, student=arrival.student,
                     assignment=arrival.assignment)
        return added

    def step(self) -> int:
        """One turn of the loop: look, release what is due, send the oldest queued
        submissions to the grader's free places (arrival order), publish what finished
        (waiting up to ``poll`` seconds for it); returns how many were finished."""
        self.scan()
        done = self.publisher.release_due()
        free = self.grader.jobs - self.grader.in_flight()
        if free > 0:
            for row in self.queue.claim(free):
                done += self._start(row)
        waiting = self.settings.poll if self.grader.in_flight() else 0.0
        for item, result in self.grader.finished(waiting):
            done += self._collect(item, result)
        self._write_grades(drained=not self.queue.waiting())
        return done

    def _write_grades(self, drained: bool) -> None:
        """``publisher.write_grades``; a failure is logged (it is tried again
        ``publish.CSV_SECONDS`` later)."""
        try:
            self.publisher.write_grades(drained)
        except Exception as exc:  # e.g. a full disk: grades.csv is made again from the results
            self.log("publish_error", submission="grades.csv", error=f"{type(exc).__name__}: {exc}")

    def _start(self, row: Row) -> int:
        """Copy a claimed submission in and send its notebooks to the grader; one that
        cannot be graded is published at once (returns 1 then, else 0)."""
        self.log("grading", submission=row.label, id=row.id, attempt=row.attempts)
        staged = self._stage(row)
        if not staged.items:
            self._publish(row, staged, [])
            return 1
        self.started[row.id] = (row, staged, [])
        for item in staged.items:
            self.owner[item] = row.id
            self.grader.submit(item)
        return 0

    def _collect(self, item: Any, result: dict) -> int:
        """Keep one finished notebook's result; publish its submission once all its
        notebooks are graded (returns 1 then, else 0)."""
        row, staged, results = self.started[self.owner.pop(item)]
        results.append((item, result))
        if len(results) < len(staged.items):
            return 0
        del self.started[row.id]
        self._publish(row, staged, results)
        return 1

    def _publish(self, row: Row, staged: intake.Staged, results: list) -> None:
        """``publisher.publish``; when it fails (a full disk, an unwritable exchange), the
        submission is recorded as failed with a page saying so if one can be written,
        else left to the next start of the service; the loop goes on either way."""
        try:
            self.publisher.publish(row, staged, results)
        except Exception as exc:  # one submission's publication must not stop the service
            problem = (f"the service could not publish its feedback ({type(exc).__name__}); "
                       f"your instructor sees this")
            self.log("publish_error", submission=row.label, id=row.id,
                     error=f"{type(exc).__name__}: {exc}")
            try:
                self.publisher.publish(row, dataclasses.replace(staged, problem=problem), [])
            except Exception as again:  # e.g. the exchange is gone: retried at the next start
                self.log("publish_error", submission=row.label, id=row.id,
                         error=f"{type(again).__name__}: {again}")

    def _stage(self, row: Row) -> intake.Staged:
        """Copy the submission in (``intake.stage``), unless its name or its owner
        (``owner.check``, logged as ``owner_mismatch``) forbids grading it."""
        parsed = parse_name(row.folder, self.names)
        assignment = course.current().get(parsed.assignment) if parsed.assignment else None
        problem = parsed.problem
        if problem is None and parsed.student is not None:
            problem = owner.check(self.settings.inbound / row.folder, parsed.student,
                                  self.settings.owner_check)
            if problem is not None:
                self.log("owner_mismatch", submission=row.label, id=row.id, problem=problem)
        try:
            return intake.stage(self.settings.inbound / row.folder,
                                self.settings.work / "staging" / str(row.id),
                                parsed.student, assignment, problem)
        except OSError as exc:  # e.g. a full disk: the submission is not the student's fault
            return intake.Staged((), intake.notebook_ids(self.settings.inbound / row.folder),
                                 intake.read_secret(self.settings.inbound / row.folder),
                                 f"the service could not copy it ({type(exc).__name__}); "
                                 f"your instructor sees this")

    def run(self, stop: threading.Event | None = None, until_idle: bool = False) -> None:
        """Turn until ``stop`` is set (or, with ``until_idle``, until a turn finds nothing
        queued and nothing new)."""
        stop = stop or threading.Event()
        try:
            while not stop.is_set():
                if self.step() == 0 and not self.grader.in_flight():
                    if until_idle and not self.queue.rows("state IN ('queued', 'grading')") \
                            and not self.watcher.pending:
                        break
                    stop.wait(self.settings.poll)
            while self.grader.in_flight():  # stopped: publish what is being graded
                for item, result in self.grader.finished(self.settings.poll):
                    self._collect(item, result)
            self._write_grades(drained=True)
        finally:
            self.log("stopped")

    def close(self) -> None:
        """Stop the grader and close the database."""
        self.grader.close()
        self.queue.close()
