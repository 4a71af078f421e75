"""Who grades for the service: a long-lived pool of local grading processes, or (tests,
benchmarks) a function called in this process.

Both take items (``discovery.Submission``) with ``submit`` as soon as the service has
them, and give back ``(item, result)`` from ``finished`` as each is done: the raw result
of ``task.grade_guarded``, not yet completed or saved (the service renders and publishes
it). The pool's processes are made as ``autograder.pool`` makes them (they die with the
service, their address space is capped); a process that dies breaks the pool, which is
made anew and its unfinished items sent again, up to ``TRIES`` times in all, then
``pool.killed``.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from autograder import pool
from autograder.discovery import Submission
from autograder.sandbox import Limits
from autograder.task import GuardTimeout, grade_guarded, grader_error

TRIES = 3
Result = dict[str, Any]


class Grader(Protocol):
    """What the service needs of a grader."""

    jobs: int

    def submit(self, item: Submission) -> None:
        """Start grading ``item``."""
        ...

    def in_flight(self) -> int:
        """How many submitted items have not been returned by ``finished`` yet."""
        ...

    def finished(self, timeout: float) -> list[tuple[Submission, Result]]:
        """Items done since the last call, with their raw results (waiting up to
        ``timeout`` seconds for the first one)."""
        ...

    def close(self) -> None:
        """Stop the grader's processes, if any."""
        ...


def _grade_in_process(item: Submission, limits: Limits, isolation: str) -> Result:
    """In a pool process: grade one submission, marked busy (``pool.busy_call``)."""
    return pool.busy_call(grade_guarded, item, limits, isolation)


class LocalGrader:
    """``jobs`` forked grading processes, kept between submissions (no start-up cost per
    submission); an item is sent as soon as it is submitted."""

    def __init__(self, jobs: int, limits: Limits, isolation: str) -> None:
        assert jobs >= 1, f"a grader needs at least one process, got {jobs}"
        self.jobs, self.limits, self.isolation = jobs, limits, isolation
        self.executor: concurrent.futures.ProcessPoolExecutor | None = None
        self.futures: dict[concurrent.futures.Future, tuple[Submission, int]] = {}

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self.executor is None:
            self.executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=multiprocessing.get_context("fork"),
                initializer=pool.process_setup,
                initargs=(os.getpid(), pool.grader_address_space(self.limits)))
        return self.executor

    def submit(self, item: Submission, tries: int = 1) -> None:
        """Send ``item`` to the pool (a new pool when the last one broke)."""
        try:
            future = self._pool().submit(_grade_in_process, item, self.limits, self.isolation)
        except BrokenProcessPool:  # a process of it died: its other items fail too
            broken, self.executor = self.executor, None
            if broken is not None:
                broken.shutdown(wait=False)
            future = self._pool().submit(_grade_in_process, item, self.limits, self.isolation)
        self.futures[future] = (item, tries)

    def in_flight(self) -> int:
        """Items sent and not yet returned."""
        return len(self.futures)

    def finished(self, timeout: float) -> list[tuple[Submission, Result]]:
        """Finished items. One whose process died (a broken pool fails every item in it) is
        sent again to a new pool, up to TRIES times in all, then gets ``pool.killed``."""
        if not self.futures:
            return []
        done, _ = concurrent.futures.wait(self.futures, timeout=timeout,
                                          return_when=concurrent.futures.FIRST_COMPLETED)
        found, lost = [], []
        for future in done:
            item, tries = self.futures.pop(future)
            try:
                found.append((item, future.result()))
            except BrokenProcessPool:
                lost.append((item, tries))
            except (Exception, GuardTimeout) as exc:
                found.append((item, grader_error(item, f"{type(exc).__name__}: {exc}")))
        for item, tries in lost:
            if tries >= TRIES:
                found.append((item, pool.killed(item)))
            else:
                self.submit(item, tries + 1)
        return found

    def close(self) -> None:
        """Stop the pool's processes (those grading finish their submission first)."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        self.futures.clear()


class InlineGrader:
    """Calls ``function(item)`` in this process when an item is submitted (a fake grader
    for tests and benchmarks, or a debugging aid)."""

    def __init__(self, function: Callable[[Submission], Result]) -> None:
        self.jobs, self.function = 1, function
        self.done: list[tuple[Submission, Result]] = []

    def submit(self, item: Submission) -> None:
        """Grade ``item`` now."""
        self.done.append((item, self.function(item)))

    def in_flight(self) -> int:
        """Items graded and not yet returned."""
        return len(self.done)

    def finished(self, timeout: float) -> list[tuple[Submission, Result]]:
        """Everything graded since the last call."""
        found, self.done = self.done, []
        return found

    def close(self) -> None:
        """Nothing to stop."""
