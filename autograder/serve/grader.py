"""Who grades for the service: a long-lived pool of local grading processes, or (tests,
benchmarks) a function called in this process.

Both take items (``discovery.Submission``) with ``submit`` as soon as the service has
them, and give back ``(item, result)`` from ``finished`` as each is done: the raw result
of ``task.grade_guarded``, not yet completed or saved (the service renders and publishes
it). The pool's processes are made as ``autograder.execution.pool`` makes them (they die with the
service, their address space is capped); a process that dies breaks the pool, which fails
every item it held. As ``pool.run_local`` does, an item lost so is sent again to a new pool
once; lost twice, it is graded on its own, in a one-process pool of its own, one such item
at a time (so a submission that kills its process cannot use up the tries of the others
graded beside it); lost there too, it gets ``pool.killed``.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from autograder.discovery import Submission
from autograder.execution import pool
from autograder.execution.task import GuardTimeout, grade_guarded, grader_error
from autograder.sandbox.launch import Limits

TRIES = 3            # sendings of one item: two in the shared pool, the last on its own
Result = dict[str, Any]
GradeFunction = Callable[[Submission, Limits, str], Result]


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


def _grade_in_process(function: GradeFunction, item: Submission, limits: Limits,
                      isolation: str) -> Result:
    """In a pool process: grade one submission, marked busy (``pool.busy_call``)."""
    return pool.busy_call(function, item, limits, isolation)


class _Pool:
    """One process pool of ``workers`` processes, made when first used and made anew when
    a process of it died."""

    def __init__(self, workers: int, limits: Limits) -> None:
        self.workers, self.limits = workers, limits
        self.executor: concurrent.futures.ProcessPoolExecutor | None = None

    def submit(self, *call: Any) -> concurrent.futures.Future[Result]:
        """``executor.submit(*call)``, in a new pool when the last one broke."""
        for _ in range(2):
            if self.executor is None:
                self.executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("fork"),
                    initializer=pool.process_setup,
                    initargs=(os.getpid(), pool.grader_address_space(self.limits)))
            try:
                return self.executor.submit(*call)
            except BrokenProcessPool:  # a process of it died: its other items fail too
                self.executor.shutdown(wait=False)
                self.executor = None
        raise BrokenProcessPool("a new process pool broke at once")

    def close(self) -> None:
        """Stop the processes (those grading finish their item first)."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


class LocalGrader:
    """``jobs`` forked grading processes, kept between submissions (no start-up cost per
    submission); an item is sent as soon as it is submitted. ``function`` grades one item
    in a process (``task.grade_guarded``; tests give another)."""

    def __init__(self, jobs: int, limits: Limits, isolation: str,
                 function: GradeFunction = grade_guarded) -> None:
        assert jobs >= 1, f"a grader needs at least one process, got {jobs}"
        self.jobs, self.limits, self.isolation, self.function = jobs, limits, isolation, function
        self.shared, self.alone = _Pool(jobs, limits), _Pool(1, limits)
        self.futures: dict[concurrent.futures.Future[Result], tuple[Submission, int]] = {}
        self.waiting_alone: list[Submission] = []  # lost twice: graded on their own, in turn

    def _send(self, target: _Pool, item: Submission, tries: int) -> None:
        try:
            future = target.submit(_grade_in_process, self.function, item, self.limits,
                                   self.isolation)
        except BrokenProcessPool:
            future = concurrent.futures.Future()
            future.set_exception(BrokenProcessPool("the grading process could not start"))
        self.futures[future] = (item, tries)

    def submit(self, item: Submission) -> None:
        """Send ``item`` to the shared pool."""
        self._send(self.shared, item, 1)

    def in_flight(self) -> int:
        """Items sent and not yet returned."""
        return len(self.futures) + len(self.waiting_alone)

    def _next_alone(self) -> None:
        """Send the next item that waits to be graded on its own, when none is."""
        if self.waiting_alone and not any(tries >= TRIES for _, tries in self.futures.values()):
            self._send(self.alone, self.waiting_alone.pop(0), TRIES)

    def finished(self, timeout: float) -> list[tuple[Submission, Result]]:
        """Finished items. One whose process died (a broken pool fails every item in it) is
        sent again to a new shared pool, then to a pool of its own, then gets
        ``pool.killed``."""
        self._next_alone()
        if not self.futures:
            return []
        done, _ = concurrent.futures.wait(self.futures, timeout=timeout,
                                          return_when=concurrent.futures.FIRST_COMPLETED)
        found = []
        for future in done:
            item, tries = self.futures.pop(future)
            try:
                found.append((item, future.result()))
            except BrokenProcessPool:
                if tries >= TRIES:
                    found.append((item, pool.killed(item)))
                elif tries + 1 >= TRIES:
                    self.waiting_alone.append(item)
                else:
                    self._send(self.shared, item, tries + 1)
            except (Exception, GuardTimeout) as exc:
                found.append((item, grader_error(item, f"{type(exc).__name__}: {exc}")))
        self._next_alone()
        return found

    def close(self) -> None:
        """Stop the pools' processes (those grading finish their submission first)."""
        self.shared.close()
        self.alone.close()
        self.futures.clear()
        self.waiting_alone.clear()


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
