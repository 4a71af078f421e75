"""Where submissions are graded, behind one interface: an ``Executor``.

An executor takes items (``discovery.Submission``) with ``submit`` and gives back
``(item, raw result)`` pairs from ``finished`` as each is done. The raw result is what
``task.grade_guarded`` returns: not completed with the row's identity, the TAs' written
grades or its total, and never written anywhere. Publishing (the result JSON, the feedback
page, grades.csv, the gradebook) happens once, in the process that drives the executor
(``run``, for ``grade``; the feedback service's loop, for ``serve``).

The executors:

- ``pool.LocalPool``: forked grading processes on this machine;
- ``dask_executor.DaskExecutor``: the workers of a Dask scheduler;
- ``InlineExecutor`` (here): a function called in this process, for one submission
  (Gradescope grades one per container), tests and benchmarks.

A new executor is one module with a class that has these four methods and ``jobs``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from autograder.discovery import Submission
from autograder.records import Record
from autograder.text import display_name

POLL_SECONDS = 1.0  # longest wait in ``finished`` before checking on the executor again

Publish = Callable[[Submission, Record], Record]  # completes and saves a raw result


class Executor(Protocol):
    """Grades submitted items somewhere and hands back their raw results."""

    jobs: int
    """How many items it grades at once: the driver keeps about that many submitted."""

    def submit(self, item: Submission) -> None:
        """Start grading ``item``."""
        ...

    def in_flight(self) -> int:
        """How many submitted items ``finished`` has not returned yet."""
        ...

    def finished(self, timeout: float) -> list[tuple[Submission, Record]]:
        """Items done since the last call, with their raw results (waiting up to
        ``timeout`` seconds for the first one)."""
        ...

    def close(self) -> None:
        """Stop grading: cancel what has not started, let go of processes and connections."""
        ...


class Progress(Protocol):
    """What ``run`` steps once per published item (``pool.Progress``, the progress bar)."""

    def step(self, label: str) -> None:
        """One more item is done; ``label`` names it."""
        ...


def run(executor: Executor, items: Sequence[Submission], publish: Publish,
        progress: Progress) -> list[Record]:
    """Grade ``items`` on ``executor``, keeping about ``executor.jobs`` of them submitted,
    and ``publish`` each raw result here as it comes back; returns the published results.

    Stopping at any moment (Ctrl-C, an executor that fails) loses only the items in
    flight: the executor is closed (what has not started is cancelled), what was
    published stays, and the exception goes on. The caller closes the executor otherwise.
    """
    waiting = list(reversed(items))
    published: list[Record] = []

    def refill() -> None:
        while waiting and executor.in_flight() < max(1, executor.jobs):
            executor.submit(waiting.pop())

    try:
        while waiting or executor.in_flight():
            refill()
            done = executor.finished(POLL_SECONDS)
            refill()  # the executor grades the next ones while this process publishes
            for item, raw in done:
                published.append(publish(item, raw))
                progress.step(display_name(f"{item.student}/{item.assignment}"))
    except BaseException:
        executor.close()
        raise
    return published


class InlineExecutor:
    """Calls ``function(item)`` in this process when an item is submitted: one item at a
    time, nothing forked. Gradescope's container grades its one submission so (in a
    process of its own), and tests and benchmarks use it as a stand-in grader."""

    def __init__(self, function: Callable[[Submission], Record]) -> None:
        self.jobs, self.function = 1, function
        self.done: list[tuple[Submission, Record]] = []

    def submit(self, item: Submission) -> None:
        """Grade ``item`` now."""
        self.done.append((item, self.function(item)))

    def in_flight(self) -> int:
        """Items graded and not yet returned."""
        return len(self.done)

    def finished(self, timeout: float) -> list[tuple[Submission, Record]]:
        """Everything graded since the last call."""
        found, self.done = self.done, []
        return found

    def close(self) -> None:
        """Nothing to stop."""
