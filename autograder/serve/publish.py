"""Publishing one graded submission: its pages to the student, its grade to the course.

For each notebook of the submission, the page (``task.complete``: the same page as
``grade`` makes, hidden results withheld when the policy says so, with the service's
notice on top) goes to the exchange under nbgrader's name (``release``). The submission
that counts (``policy``: the latest before the due date) is also saved in OUT as ``grade``
saves it (``task.save_result``: result and page) and recorded in OUT/nbgrader's gradebook
(``gradebook.sync``), under OUT's lock. ``grades.csv``, made from every saved result, is
not rewritten for each submission (that reads them all: O(class size) per submission) but
by ``write_grades``: when the queue drains, and during a long burst once at least
``CSV_FRACTION`` of the saved results changed and ``CSV_SECONDS`` passed since the last
rewrite (so O(1) amortised per submission); its text is what ``grade`` would write from the
same results. Its results are kept in
``OUT/serve/results/<id>.json`` so that withheld hidden results can be released later
(``release_due``). Then the queue records its final state. Publishing again after a crash
writes the same files.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autograder import course
from autograder.discovery import Submission
from autograder.execution import batch, task
from autograder.gradebook import sync as gradebook
from autograder.outputs import storage, visibility
from autograder.outputs.out_folder import OutFolder
from autograder.records import RowStatus
from autograder.serve import pages, release
from autograder.serve.intake import Staged, read_secret
from autograder.serve.policy import DAY, Policy
from autograder.serve.queue import Outcome, Queue, Row, State

LOCK_WAIT = 600.0  # seconds to wait for OUT's lock (a `grade` or `feedback` on the same OUT)
CSV_SECONDS = 30.0  # least time between two rewrites of grades.csv while submissions wait
CSV_FRACTION = 0.25  # ... and least share of the saved results recorded since the last one
NOT_COUNTING = (RowStatus.MISSING_NOTEBOOK, RowStatus.UNEXPECTED_NOTEBOOK,
                RowStatus.UNKNOWN_ASSIGNMENT)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """OUT's lock (``storage.locked``), waited for up to LOCK_WAIT seconds while a `grade`
    or `feedback` holds it."""
    deadline = time.monotonic() + LOCK_WAIT
    with contextlib.ExitStack() as stack:
        while True:
            try:
                stack.enter_context(storage.locked(out))
                break
            except storage.OutputLocked:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)
        yield


class Publisher:
    """Publishes graded submissions for a ``service.Service`` (same settings, queue,
    policies, clock and log)."""

    def __init__(self, settings: Any, queue: Queue, policies: dict[str, Policy],
                 clock: Any, log: Any) -> None:
        self.settings, self.queue, self.policies = settings, queue, policies
        self.clock, self.log = clock, log
        # counted results recorded since grades.csv was last written (a killed service may
        # have left it behind its saved results: rewritten at the first drain)
        self.csv_changes = int(OutFolder(settings.out).results.is_dir())
        self.csv_rows = 0  # how many results the last grades.csv held
        self.csv_written = 0.0  # time.monotonic() of that rewrite
        self.csv_retry = 0.0  # no rewrite before this time.monotonic() (after a failure)

    def _release(self, row: Row, staged: Staged, notebook: str, page: str,
                 path: Path | None) -> bool:
        parsed = row.folder.split("+")
        legacy = (self.settings.course_id, row.assignment or "", row.student or "",
                  parsed[2]) if len(parsed) >= 3 else None
        name = release.page_name(notebook, staged.secret, legacy, path)
        if name is None:
            return False
        release.publish(self.settings.exchange, self.settings.course_id, name, page)
        return True

    def _failed(self, row: Row, staged: Staged) -> None:
        problem = staged.problem or "no notebook could be graded"
        page = pages.failure_page(row.label, row.assignment, problem)
        sent = sum(self._release(row, staged, nb, page, None) for nb in staged.notebooks)
        self.queue.finish(row.id, Outcome(State.FAILED, "not_graded", problem=problem),
                          time.time())
        self.log("failed", submission=row.label, id=row.id, problem=problem, pages=sent,
                 latency=round(time.time() - row.seen_at, 3))

    def _hidden_plan(self, row: Row, policy: Policy) -> float | None:
        """When this submission's hidden results may be shown (None: now)."""
        shown = self.queue.rows("student = ? AND assignment = ? AND id != ? AND state = ? AND "
                                "hidden_shown = 1 AND hidden_release_at IS NULL",
                                (row.student, row.assignment, row.id, State.GRADED.value))
        day = row.submitted_at // DAY
        today = sum(1 for r in shown if r.submitted_at // DAY == day)
        last = max((r.submitted_at for r in shown), default=None)
        return policy.hidden_release_at(row.submitted_at, today, last)

    def _notice(self, row: Row, policy: Policy, counts: bool, release_at: float | None
                ) -> list[str]:
        lines = []
        if release_at is not None:
            reason = ("hidden results are shown after the due date" if release_at == policy.due
                      else "your quota of submissions with hidden results is used up")
            lines.append(pages.withheld_line(release_at, reason))
        counted = None if counts else self.queue.latest_counted(row.student, row.assignment)
        lines.append(pages.counting_line(counts, policy.due,
                                         counted.submitted_at if counted else None))
        return lines

    def publish(self, row: Row, staged: Staged, results: list[tuple[Submission, dict]]) -> None:
        """Publish ``row``'s graded ``results`` (or, without any, a page saying why it could
        not be graded), then record its final state."""
        if not results:
            self._failed(row, staged)
            return
        assignment = course.current().get(row.assignment) if row.assignment else None
        assert assignment is not None  # graded results: the row names one of the course's
        policy = self.policies.get(row.assignment or "") or Policy()
        primary = next((pair for pair in results if pair[0].notebook == assignment.notebook
                        or pair[1].get("graded_as")), results[0])
        latest = self.queue.latest_counted(row.student, row.assignment)
        counts = (policy.counts(row.submitted_at) and primary[1]["status"] not in NOT_COUNTING
                  and (latest is None or latest.submitted_at <= row.submitted_at))
        release_at = (self._hidden_plan(row, policy) if visibility.hidden_tests(primary[1])
                      else None)
        notice = self._notice(row, policy, counts, release_at)
        written = batch.written_grades(self.settings.out, [item for item, _ in results])
        sent, made = 0, {}
        for item, result in results:
            key = storage.content_key(item.path, self.settings.fingerprint)
            made[item] = task.complete(item, key, result, written[item], release_at is not None)
            sent += self._release(row, staged, item.notebook,
                                  pages.with_notice(made[item], notice), item.path)
        self._save(row, results)
        if counts:
            self._record(primary[0], primary[1], written[primary[0]],
                         (made[primary[0]], release_at is not None))
        result = primary[1]
        self.queue.finish(row.id, Outcome(
            State.GRADED, result["status"], result["score"], result["max_score"], counts,
            release_at is None, release_at), time.time())
        self.log("graded", submission=row.label, id=row.id, status=result["status"],
                 score=result["score"], max_score=result["max_score"], counted=counts,
                 hidden_release_at=release_at, pages=sent,
                 latency=round(time.time() - row.seen_at, 3))

    def _save(self, row: Row, results: list[tuple[Submission, dict]]) -> None:
        """Keep the results of ``row`` for a later release of its hidden results."""
        path = self.settings.work / "results" / f"{row.id}.json"
        storage.write_atomic(path, json.dumps([result for _, result in results], default=str))

    def _record(self, item: Submission, result: dict, written: list,
                page: tuple[str, bool]) -> None:
        """Save the counted submission in OUT as ``grade`` does, and in the gradebook.
        ``page``: the page made for the student and whether it withholds hidden results,
        saved as it is when OUT/release.json withholds the same (else made anew)."""
        out = self.settings.out
        with _locked(out):
            if page[1] == (not visibility.hidden_released(out)):
                task.write_outputs(out, item, result, page[0])
            else:
                task.save_result(out, item, result["key"], result, written)
            self.csv_changes += 1
            if self.settings.gradebook:
                self._sync(result)

    def write_grades(self, drained: bool) -> bool:
        """Rewrite OUT/grades.csv from every saved result, as ``grade`` writes it, when
        results were recorded since the last rewrite and either nothing is waiting
        (``drained``) or enough changed (``CSV_FRACTION`` of the rows, ``CSV_SECONDS``
        since the last rewrite); returns whether it was rewritten. After a failure (raised:
        a full disk, OUT's lock held too long) it waits CSV_SECONDS before trying again."""
        now = time.monotonic()
        if not self.csv_changes or now < self.csv_retry or not drained and (
                self.csv_changes < CSV_FRACTION * self.csv_rows
                or now - self.csv_written < CSV_SECONDS):
            return False
        self.csv_retry = now + CSV_SECONDS  # a failure (raised) is tried again that much later
        with _locked(self.settings.out):
            results = storage.saved_results(self.settings.out)
            storage.write_csv(self.settings.out, results)
        self.csv_changes, self.csv_rows, self.csv_written = 0, len(results), now
        self.csv_retry = 0.0
        return True

    def _sync(self, result: dict) -> None:
        """Record ``result`` in OUT/nbgrader's gradebook; a failure is logged (grades.csv
        and the student's page stand; a `grade` of the same OUT records it again)."""
        try:
            _, problems = gradebook.sync(self.settings.out, [result])
        except Exception as exc:  # as `grade` does: the gradebook's failure is said, not fatal
            problems = [f"the gradebook could not be written ({type(exc).__name__}: {exc})"]
        for problem in problems:
            self.log("gradebook_warning", problem=problem)

    def release_due(self) -> int:
        """Show the hidden results whose time has come: each such page is made again
        without withholding and released; returns how many submissions."""
        rows = self.queue.due_for_release(self.clock())
        for row in rows:
            saved = json.loads((self.settings.work / "results" / f"{row.id}.json").read_text())
            secret = Staged((), (), read_secret(self.settings.inbound / row.folder))
            policy = self.policies.get(row.assignment or "") or Policy()
            notice = self._notice(row, policy, row.counted, None)
            for result in saved:
                path = Path(result["path"]) if result.get("path") else None
                item = Submission(result["student_id"], result["assignment"], result["notebook"],
                                  path)
                written = batch.written_grades(self.settings.out, [item])[item]
                page = task.complete(item, result["key"], result, written, False)
                self._release(row, secret, item.notebook, pages.with_notice(page, notice), path)
            self.queue.hidden_released(row.id)
            self.log("hidden_released", submission=row.label, id=row.id)
        return len(rows)
