"""Grading on the workers of a Dask scheduler: ``DaskExecutor``, an
``executor.Executor`` (``grade --scheduler tcp://HOST:8786``, ``serve --scheduler``).

This process is the coordinator: it submits items and takes back ``(item, raw result)``
pairs, and it alone completes, renders and writes them (``executor.run``, or the
service). Each item goes to the workers as a ``dask_worker.Payload``: the submission's
bytes, never a path, since workers need not see the coordinator's disk; a worker grades
it in a grading process of its own (the limits, the sandbox, the check of the grader key)
and returns the raw result only. Items that need no sandbox (no notebook, an unknown
assignment, a notebook that is not the assignment's, a path the grader refuses to read)
are settled here, by the same code, never sent.

Every worker is asked for its grader key when it joins (``dask_worker.probe``): one that
would grade otherwise (another checkout, other limits or isolation, another course
secret) is refused, logged as ``worker_refused``, and given no task (each task is
restricted to the workers found good). Items wait while no good worker is connected.

A worker that dies mid-task costs nothing: the scheduler gives its task to another. A
task lost otherwise (cancelled with its workers, a worker's failure) is sent again,
``dask_cluster.RESENDS`` times, and one all of whose workers died or left (a worker's
restart gives it a new address) up to LEFT_RESENDS times; a submission whose tasks
keep killing workers gets a grader_error, and its page says so (``dask_cluster.failure``).
"""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from autograder.discovery import Submission
from autograder.execution import dask_cluster as cluster, dask_worker, task
from autograder.execution.dask_cluster import ClusterUnavailable
from autograder.records import Record
from autograder.sandbox.launch import Limits
from autograder.text import clean_text

if TYPE_CHECKING:
    import distributed

GATHER_SECONDS = 30.0  # to fetch a finished task's result from its worker (gone: sent again)
ORPHAN_SECONDS = 10.0  # a task none of whose workers is left waits this long for its error
LEFT_RESENDS = 4  # sendings anew of an item all of whose task's workers died or left

Log = Callable[..., None]  # log(event, **fields), as the service's EventLog


def _no_log(event: str, **fields: object) -> None:
    """Events go nowhere (``grade`` reports lost workers at the end instead)."""


class DaskExecutor:
    """Sends each submitted item to the good workers of the Dask scheduler at ``scheduler``
    (an address, or a ``distributed.Client`` that stays open). ``fingerprint``: this
    machine's grader key for ``limits`` and ``isolation``, which the workers must have.
    Raises ClusterUnavailable when the scheduler cannot be reached or no worker is good."""

    def __init__(self, scheduler: "str | distributed.Client", limits: Limits, isolation: str,
                 fingerprint: str, log: Log = _no_log) -> None:
        self.limits, self.isolation, self.fingerprint, self.log = (limits, isolation,
                                                                   fingerprint, log)
        self.client = cluster.connect(scheduler) if isinstance(scheduler, str) else scheduler
        self.owned = self.client is not scheduler
        self.checked: set[str] = set()  # workers whose key was asked for
        self.good: dict[str, int] = {}  # of those, the ones that grade as here: their threads
        self.futures: dict[distributed.Future, tuple[Submission, int, frozenset[str]]] = {}
        self.done: queue.SimpleQueue[distributed.Future] = queue.SimpleQueue()
        self.ready: list[tuple[Submission, Record]] = []  # settled here
        self.waiting: list[tuple[Submission, int]] = []  # for a good worker
        self.sent: dict[Submission, int] = {}  # times each item was sent to the workers
        self.left: dict[Submission, int] = {}  # times all the workers of its task were gone
        self.orphaned: dict[distributed.Future, float] = {}  # since when: no worker for it
        self.jobs = 1
        try:
            self._refresh()
            if not self.good:
                raise ClusterUnavailable(f"none of the workers of {scheduler} grades as this "
                                         f"machine does (see the worker_refused lines of the log)")
        except BaseException:
            self.close()
            raise

    def _refresh(self) -> None:
        """Ask the workers that joined for their grader key, forget those that left, and
        send again the tasks none of whose workers is left."""
        try:
            current = self.client.nthreads()
        except Exception as exc:  # the connection to the scheduler broke
            raise ClusterUnavailable(f"lost the Dask scheduler ({type(exc).__name__}: "
                                     f"{clean_text(str(exc))[:300]}); what was graded is "
                                     f"saved, the rest is graded at the next run") from None
        for gone in self.checked - set(current):
            self.checked.discard(gone)
            if self.good.pop(gone, None) is not None:
                self.log("worker_left", worker=gone)
        new = sorted(set(current) - self.checked)
        if new:
            try:
                answers = self.client.run(dask_worker.probe, self.limits, self.isolation,
                                          workers=new, on_error="return")
            except Exception as exc:  # e.g. it left meanwhile: asked again at the next turn
                self.log("worker_check_failed", workers=new, error=f"{type(exc).__name__}: {exc}")
                answers = {}
            for worker, answer in answers.items():
                self.checked.add(worker)
                if isinstance(answer, dict) and answer.get("key") == self.fingerprint:
                    self.good[worker] = current[worker]
                    self.log("worker_joined", worker=worker, host=answer["host"])
                elif isinstance(answer, dict):
                    self.log("worker_refused", worker=worker, problem="it would not grade as "
                             f"this machine does: {cluster.mismatch(worker, answer, self.fingerprint)}")
                else:
                    self.log("worker_refused", worker=worker, problem="it could not check its "
                             f"grader: {clean_text(repr(answer))[:300]}")
        self.jobs = max(1, cluster.IN_FLIGHT_PER_THREAD * sum(self.good.values()))
        now = time.monotonic()
        for future, (item, sent, targets) in list(self.futures.items()):
            if targets & self.good.keys() or future.done():
                self.orphaned.pop(future, None)
                continue
            # It can run nowhere now. Its error (KilledWorker, when it killed them) may be on
            # its way: wait ORPHAN_SECONDS for it before sending the item to the others.
            if now - self.orphaned.setdefault(future, now) >= ORPHAN_SECONDS:
                del self.orphaned[future]
                del self.futures[future]
                future.cancel()
                left = self.left[item] = self.left.get(item, 0) + 1
                if left <= LEFT_RESENDS:  # not its fault, most often: another killed them
                    self._send(item, sent)
                else:
                    self.ready.append((item, task.grader_error(
                        item, f"the workers grading this submission died or left {left} "
                        f"times", cluster.WORKERS_DIED)))
        waiting, self.waiting = self.waiting, []
        for item, sent in waiting:
            self._send(item, sent)

    def _send(self, item: Submission, sent: int) -> None:
        """Send ``item`` for the ``sent``-th time (or settle it here, or keep it waiting)."""
        try:
            contents = cluster.read_submission(item) if cluster.needs_sandbox(item) else None
        except (OSError, ValueError):  # changed since it was checked: refused here
            contents = None
        if contents is None:
            self.ready.append((item, task.grade_guarded(item, self.limits, self.isolation,
                                                        execute=False)))
        elif not self.good:
            self.waiting.append((item, sent))
        else:
            targets = frozenset(self.good)
            payload = dask_worker.Payload(item, *contents, self.limits, self.isolation,
                                          self.fingerprint)
            future = cluster.submit_payload(self.client, payload, workers=sorted(targets),
                                            allow_other_workers=False)
            self.futures[future] = (item, sent, targets)
            self.sent[item] = self.sent.get(item, 0) + 1
            future.add_done_callback(self.done.put)

    def _again(self, item: Submission, sent: int, failed: Record | None) -> None:
        """Send a lost item again, or give it ``failed`` after ``cluster.RESENDS`` resends."""
        if sent <= cluster.RESENDS or failed is None:
            self._send(item, sent + 1)
        else:
            self.ready.append((item, failed))

    def submit(self, item: Submission) -> None:
        """Send ``item`` to the good workers."""
        self._send(item, 1)

    def in_flight(self) -> int:
        """Items submitted and not yet returned."""
        return len(self.futures) + len(self.waiting) + len(self.ready)

    def finished(self, timeout: float) -> list[tuple[Submission, Record]]:
        """Finished items, waiting up to ``timeout`` seconds for the first one. Raises
        ClusterUnavailable when the connection to the scheduler is lost."""
        self._refresh()
        if not self.ready and (self.futures or self.waiting):  # waiting: for a good worker
            with contextlib.suppress(queue.Empty):
                self._take(self.done.get(timeout=timeout))
        while not self.done.empty():
            self._take(self.done.get())
        found, self.ready = self.ready, []
        return found

    def _take(self, future: "distributed.Future") -> None:
        """Keep the result of a finished task, or send its item again."""
        if future not in self.futures:  # cancelled here and sent again
            return
        if not future.done():  # lost with its worker, to be run again: called back when done
            future.add_done_callback(self.done.put)  # (or sent again by ``_refresh``, when
            return  # the workers it may run on are gone)
        item, sent, _ = self.futures.pop(future)
        self.orphaned.pop(future, None)
        try:
            self.ready.append((item, future.result(timeout=GATHER_SECONDS)))
        except TimeoutError:  # its result was on a worker that died since: graded again
            with contextlib.suppress(Exception):
                future.cancel()
            self._again(item, sent, task.grader_error(
                item, f"the cluster lost this submission's result {sent} times",
                cluster.WORKERS_DIED))
        except dask_worker.WorkerMismatch as exc:  # its checkout changed: ask them all again
            self.log("worker_refused", problem=f"a task found a worker that would not grade "
                     f"as this machine does: {exc}")
            self.checked.clear()
            self.good.clear()
            self._again(item, sent, task.grader_error(item, f"{exc}"[:500]))
        except Exception as exc:
            self._again(item, sent, cluster.failure(self.client, exc, item, sent))
        finally:
            future.release()

    def close(self) -> None:
        """Cancel the tasks out and let go of the scheduler."""
        with contextlib.suppress(Exception):  # the scheduler may be gone already
            self.client.cancel(list(self.futures))
        self.futures.clear()
        self.orphaned.clear()
        self.waiting.clear()
        if self.owned:
            self.client.close(timeout=cluster.CLOSE_SECONDS)
