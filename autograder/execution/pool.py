"""Grading processes on this machine: ``LocalPool``, an executor (``executor.Executor``)
of forked processes, each grading one submission at a time, that die with the process
that started them and are kept between submissions (no start-up cost per submission).

A pool process that dies (the out-of-memory killer; student code in rlimits mode killing
its parent) breaks the whole pool, which fails every item it held: such an item is sent
again to a new pool once; lost twice, it is graded on its own, in a one-process pool of
its own, one such item at a time (so a submission that kills its process cannot use up
the tries of the others graded beside it); lost there too, it gets ``killed``.
"""

import concurrent.futures
import multiprocessing
import os
import resource
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from autograder.execution.task import GuardTimeout, grade_guarded, grader_error

if TYPE_CHECKING:
    from autograder.discovery import Submission
    from autograder.records import Record
    from autograder.sandbox.launch import Limits

T = TypeVar("T")

GRADER_MEMORY_MARGIN = 2 << 30  # address space of a grading process beyond the student limit
PR_SET_PDEATHSIG = 1
KILLED_THRICE = ("the process grading this submission was killed three times (out-of-memory "
                 "killer, or student code in rlimits mode)")
TRIES = 3  # sendings of one item: two in the shared pool, the last on its own

GradeFunction = Callable[["Submission", "Limits", str], "Record"]


class Progress:
    """A one-line progress bar with an ETA, on stderr (stepped by ``executor.run``;
    ``batch`` re-exports it)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.started = time.monotonic()

    def step(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        filled = int(30 * self.done / max(self.total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                         f"elapsed {elapsed:5.1f}s ETA {eta:5.1f}s {label[:30]:30s}")
        if self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class Terminated(BaseException):
    """The pool process was asked to stop (SIGTERM) while grading."""


_BUSY = False  # in a pool process: grading a submission right now


def busy_call(function: Callable[..., T], *args: object) -> T:
    """``function(*args)`` in a pool process, marked busy: a SIGTERM meanwhile unwinds
    through its ``finally`` blocks (student processes and scratch folders cleaned up),
    then the process exits."""
    global _BUSY
    _BUSY = True
    try:
        return function(*args)
    except Terminated:
        os._exit(143)
    finally:
        _BUSY = False


def process_setup(parent: int, address_space: int) -> None:
    """In each grading process: die with ``parent`` (SIGTERM when it goes, even by
    SIGKILL); on SIGTERM, a busy process unwinds (``busy_call``) and an idle one exits at
    once; the address space is capped, so a student's return value cannot make the grader
    allocate without bound (a MemoryError fails that test)."""
    _prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(143)
    signal.signal(signal.SIGTERM, _terminate)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if address_space and (hard == resource.RLIM_INFINITY or address_space < hard):
        resource.setrlimit(resource.RLIMIT_AS, (address_space, hard))


def _terminate(signum: int, frame: FrameType | None) -> None:
    if _BUSY:
        raise Terminated()
    os._exit(143)


def _prctl(option: int, value: int) -> None:
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's own shutdown still applies
        pass


def killed(item: "Submission") -> "Record":
    """The result of a submission whose grading processes were killed three times."""
    return grader_error(item, KILLED_THRICE, "not run: the grader's process was killed")


def grader_address_space(limits: "Limits") -> int:
    """The address-space cap of a grading process: the student limit plus a margin."""
    return limits.memory_bytes + GRADER_MEMORY_MARGIN


def _grade_in_process(function: GradeFunction, item: "Submission", limits: "Limits",
                      isolation: str) -> "Record":
    """In a pool process: grade one submission, marked busy (``busy_call``)."""
    return busy_call(function, item, limits, isolation)


class _Processes:
    """One ``ProcessPoolExecutor`` of ``workers`` processes, made when first used and made
    anew when a process of it died."""

    def __init__(self, workers: int, limits: "Limits") -> None:
        self.workers, self.limits = workers, limits
        self.executor: concurrent.futures.ProcessPoolExecutor | None = None

    def submit(self, *call: Any) -> "concurrent.futures.Future[Record]":
        """``executor.submit(*call)``, in a new pool when the last one broke."""
        for _ in range(2):
            if self.executor is None:
                self.executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("fork"),
                    initializer=process_setup,
                    initargs=(os.getpid(), grader_address_space(self.limits)))
            try:
                return self.executor.submit(*call)
            except BrokenProcessPool:  # a process of it died: its other items fail too
                self.executor.shutdown(wait=False)
                self.executor = None
        raise BrokenProcessPool("a new process pool broke at once")

    def close(self) -> None:
        """Stop the processes: what has not started is cancelled, and the processes grading
        are not waited for (those a SIGTERM reaches unwind, see ``busy_call``)."""
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None


class LocalPool:
    """``jobs`` forked grading processes (an ``executor.Executor``); an item is sent as soon
    as it is submitted. ``function`` grades one item in a process (``task.grade_guarded``;
    tests give another)."""

    def __init__(self, jobs: int, limits: "Limits", isolation: str,
                 function: GradeFunction = grade_guarded) -> None:
        if jobs < 1:
            raise ValueError(f"a pool needs at least one process, got {jobs}")
        self.jobs, self.limits, self.isolation, self.function = jobs, limits, isolation, function
        self.shared, self.alone = _Processes(jobs, limits), _Processes(1, limits)
        self.futures: dict[concurrent.futures.Future[Record], tuple[Submission, int]] = {}
        self.waiting_alone: list[Submission] = []  # lost twice: graded on their own, in turn

    def _send(self, target: _Processes, item: "Submission", tries: int) -> None:
        try:
            future = target.submit(_grade_in_process, self.function, item, self.limits,
                                   self.isolation)
        except BrokenProcessPool:
            future = concurrent.futures.Future()
            future.set_exception(BrokenProcessPool("the grading process could not start"))
        self.futures[future] = (item, tries)

    def submit(self, item: "Submission") -> None:
        """Send ``item`` to the shared pool."""
        self._send(self.shared, item, 1)

    def in_flight(self) -> int:
        """Items sent and not yet returned."""
        return len(self.futures) + len(self.waiting_alone)

    def _next_alone(self) -> None:
        """Send the next item that waits to be graded on its own, when none is."""
        if self.waiting_alone and not any(tries >= TRIES for _, tries in self.futures.values()):
            self._send(self.alone, self.waiting_alone.pop(0), TRIES)

    def finished(self, timeout: float) -> list[tuple["Submission", "Record"]]:
        """Finished items. One whose process died (a broken pool fails every item in it) is
        sent again to a new shared pool, then to a pool of its own, then gets ``killed``."""
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
                    found.append((item, killed(item)))
                elif tries + 1 >= TRIES:
                    self.waiting_alone.append(item)
                else:
                    self._send(self.shared, item, tries + 1)
            except (Exception, GuardTimeout) as exc:
                found.append((item, grader_error(item, f"{type(exc).__name__}: {exc}")))
        self._next_alone()
        return found

    def close(self) -> None:
        """Stop the pools' processes; what has not started is cancelled."""
        self.shared.close()
        self.alone.close()
        self.futures.clear()
        self.waiting_alone.clear()
