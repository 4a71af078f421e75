"""Grading processes on this machine: a pool of forked processes, each grading one
submission at a time, that die with the process that started them.

A pool process that dies (the out-of-memory killer; student code in rlimits mode killing
its parent) breaks the whole pool: its unfinished submissions are retried in a new pool,
then one by one, and only then get a grader_error row (``run_local``).
"""

import concurrent.futures
import multiprocessing
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from autograder.execution.task import GuardTimeout, grade_guarded, grader_error, save_result
from autograder.text import display_name

if TYPE_CHECKING:
    from autograder.discovery import Submission
    from autograder.grading.written_grades import WrittenGrade
    from autograder.records import Record
    from autograder.sandbox.launch import Limits

T = TypeVar("T")

GRADER_MEMORY_MARGIN = 2 << 30  # address space of a grading process beyond the student limit
PR_SET_PDEATHSIG = 1
KILLED_THRICE = ("the process grading this submission was killed three times (out-of-memory "
                 "killer, or student code in rlimits mode)")


class Progress:
    """A one-line progress bar with an ETA, on stderr (stepped by ``run_local`` and by
    ``cluster.run_cluster``; ``batch`` re-exports it)."""

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


def grade_task(item: "Submission", out: Path, limits: "Limits", isolation: str, key: str,
               written: Sequence["WrittenGrade"]) -> "Record":
    """Grade one submission in a pool process, save its JSON and feedback page; never
    raises for anything one submission can cause."""
    return busy_call(lambda: save_result(out, item, key, grade_guarded(item, limits, isolation),
                                         written))


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


def run_local(todo: list["Submission"], jobs: int, out: Path, limits: "Limits", isolation: str,
              keys: dict["Submission", str], written: dict["Submission", list["WrittenGrade"]],
              bar: Progress) -> list["Record"]:
    """Grade ``todo`` in pools of ``jobs`` processes; returns the saved results."""
    results = []
    for _ in range(2):
        if todo:
            finished, todo = run_pool(todo, jobs, out, limits, isolation, keys, written, bar)
            results += finished
    for item in todo:  # lost twice: once more on its own, so it cannot blame another
        finished, lost = run_pool([item], 1, out, limits, isolation, keys, written, bar)
        results += finished
        if lost:
            results.append(save_result(out, item, keys[item], killed(item), written[item]))
            bar.step(display_name(f"{item.student}/{item.assignment}"))
    return results


def run_pool(items: list["Submission"], workers: int, out: Path, limits: "Limits",
             isolation: str, keys: dict["Submission", str],
             written: dict["Submission", list["WrittenGrade"]],
             bar: Progress) -> tuple[list["Record"], list["Submission"]]:
    """Grade ``items`` in one process pool; returns (results, items lost to a broken pool).

    Ctrl-C cancels what has not started and re-raises: saved results stay, and a rerun
    grades the rest.
    """
    results, lost = [], []
    context = multiprocessing.get_context("fork")
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=process_setup,
        initargs=(os.getpid(), grader_address_space(limits)))
    try:
        futures = {}
        for item in items:
            try:
                futures[pool.submit(grade_task, item, out, limits, isolation, keys[item],
                                    written[item])] = item
            except BrokenProcessPool:  # a process died while the queue was being filled
                lost.append(item)
        for future in concurrent.futures.as_completed(futures):
            item = futures[future]
            try:
                results.append(future.result())
            except BrokenProcessPool:
                lost.append(item)
                continue
            except (Exception, GuardTimeout) as exc:
                results.append(save_result(out, item, keys[item], grader_error(
                    item, f"{type(exc).__name__}: {exc}"), written[item]))
            bar.step(display_name(f"{item.student}/{item.assignment}"))
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results, lost
