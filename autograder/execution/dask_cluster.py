"""Grading on a Dask cluster, the coordinator's side: reaching the scheduler, checking the
workers, sending a submission, and what a failed task means (the executor itself is
``autograder.execution.dask_executor``; a worker's side is ``dask_worker``).

``grade SUBMISSIONS --out OUT --scheduler tcp://HOST:8786`` connects to the scheduler,
asks every worker for its grader key (same checkout of the grader and releases, same
limits and isolation, else it stops before grading anything), then sends one task per
submission: its bytes in a ``dask_worker.Payload``, never a path. At most
IN_FLIGHT_PER_THREAD tasks per worker thread are out at once, so a class of large
notebooks is never all in memory. Each returned raw result is completed and written here
as it arrives (only the coordinator writes under OUT), so stopping at any moment loses
only the submissions in flight, as with the local pool.

A worker that dies mid-task costs nothing: the scheduler gives its task to another. A
submission whose tasks keep killing workers (the scheduler's
``distributed.scheduler.allowed-failures``, 3 by default) gets a grader_error row.
"""

import os
import stat
import sys
import threading
import uuid
import warnings
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any

from autograder import config, course
from autograder.discovery import Submission, notebook_role
from autograder.execution import pool, task
from autograder.execution.dask_worker import (Payload, ProcessKilled, WorkerFailure,
                                              WorkerMismatch, grade_payload, probe)
from autograder.grader_key import key_differences
from autograder.records import Record
from autograder.sandbox.launch import Limits
from autograder.submission import MAX_NOTEBOOK_BYTES, check_path, submission_files
from autograder.text import clean_text

if TYPE_CHECKING:
    import distributed  # imported only when a cluster is used

CONNECT_SECONDS = 15.0  # to reach the scheduler
CLOSE_SECONDS = 5.0  # to let go of a client, or past CONNECT_SECONDS, of a stalled attempt
SCHEMES = ("tcp", "tls", "ucx", "inproc")  # Dask's address schemes
WORKERS_DIED = "not run: the grader's workers died"
WORKERS_SECONDS = 60.0  # for at least one worker to be connected to it
IN_FLIGHT_PER_THREAD = 2
RESENDS = 2  # times a task the cluster lost (with a worker or the connection) is sent again
EXTRA_BYTES = 20 << 20  # of a submission's extra files, as grading copies them


class ClusterUnavailable(RuntimeError):
    """The cluster cannot be used: unreachable scheduler, no workers, or workers that do
    not grade as this machine would. Nothing was graded on it after this is raised."""


def connect(address: str, timeout: float | None = None) -> "distributed.Client":
    """A ``distributed.Client`` of the scheduler at ``address`` with at least one worker
    (``timeout``: seconds to reach it, default CONNECT_SECONDS). Whatever answers there (no
    one, another service, garbage), this returns or raises ClusterUnavailable in time."""
    import distributed
    timeout = CONNECT_SECONDS if timeout is None else timeout
    scheme = address.split("://", 1)[0] if "://" in address else "tcp"
    if scheme not in SCHEMES:
        raise ClusterUnavailable(f"{address} is not a Dask scheduler's address: give "
                                 f"tcp://HOST:PORT (or tls://HOST:PORT)")
    found: dict[str, Any] = {}

    def attempt() -> None:  # in a thread of its own: a service that is not Dask can stall the handshake
        try:
            found["client"] = distributed.Client(address, timeout=timeout, set_as_default=False)
        except Exception as exc:  # any failure to connect is one answer: not usable
            found["error"] = exc

    trying = threading.Thread(target=attempt, name="dask-connect", daemon=True)
    trying.start()
    trying.join(timeout + CLOSE_SECONDS)
    if "client" not in found:
        error = found.get("error")
        why = f"{type(error).__name__}: {clean_text(str(error))[:200]}" if error else "no answer"
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address} within "
                                 f"{timeout:g} s ({why}); is `dask scheduler` running there, "
                                 f"and is that its port?")
    client = found["client"]
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except (TimeoutError, OSError) as exc:
        client.close(timeout=CLOSE_SECONDS)
        raise ClusterUnavailable(f"no Dask worker joined the scheduler at {address} within "
                                 f"{WORKERS_SECONDS:g} s ({type(exc).__name__}); start "
                                 f"`dask worker {address}` on the grading machines") from None
    return client


def check_isolation(requested: str, isolation: str) -> None:
    """Refuse to send student code to workers without the sandbox unless asked for
    explicitly: with ``--isolation auto`` on a machine where bubblewrap does not work,
    every worker would run it with rlimits only, the network reachable."""
    if requested == "auto" and isolation != "bubblewrap":
        raise ClusterUnavailable("bubblewrap does not work on this machine, so the workers would "
                                 "grade without the sandbox (student code could reach the "
                                 "network, and the scheduler): set up bubblewrap here and on the "
                                 "workers, or pass --isolation rlimits to accept that")


def check_workers(client: "distributed.Client", limits: Limits, isolation: str,
                  expected: str) -> None:
    """Raise ClusterUnavailable unless every worker's grader key is ``expected``; the
    message names, for a few of the others, what differs and where their code is."""
    try:
        answers = client.run(probe, limits, isolation)
    except Exception as exc:  # a worker without the project, or a broken environment
        raise ClusterUnavailable(f"the workers could not check their grader "
                                 f"({type(exc).__name__}: {clean_text(str(exc))[:300]}); "
                                 f"do they run from this project's checkout and .venv?") from None
    differ = {worker: answer for worker, answer in answers.items() if answer["key"] != expected}
    if differ:
        listed = "; ".join(mismatch(worker, answer, expected)
                           for worker, answer in sorted(differ.items())[:5])
        raise ClusterUnavailable(
            f"{len(differ)} of {len(answers)} worker(s) would not grade as this machine "
            f"(code in {config.ROOT}) does: {listed}. A worker runs the code its .venv was "
            f"installed from: give the workers the same checkout, .venv and bubblewrap, then "
            f"restart them")


def mismatch(worker: str, answer: dict[str, str], expected: str) -> str:
    """What differs between the grader key ``expected`` and a worker's ``probe`` answer."""
    return (f"{worker} ({answer['host']}, code in {answer['root']}): "
            f"{', '.join(key_differences(expected, answer['key']))}")


def submit_payload(client: "distributed.Client", payload: Payload,
                   **where: Any) -> "distributed.Future":
    """Send the task of ``payload`` (``where``: the workers it may run on, as
    ``client.submit`` takes them)."""
    with warnings.catch_warnings():  # the bytes travel with the task on purpose: data
        warnings.filterwarnings("ignore", message=".*[Ll]arge graph")  # scattered
        return client.submit(grade_payload, payload, pure=False,  # to a worker dies
                             key=f"grade-{uuid.uuid4().hex}", **where)  # with it


def current_workers(client: "distributed.Client") -> set[str]:
    """The addresses of the workers the scheduler knows now (empty if it cannot say)."""
    try:
        return set(client.nthreads())
    except Exception:  # the scheduler went away at the very end: nothing to compare
        return set()


def report_losses(before: set[str], after: set[str], sent: dict[Submission, int]) -> None:
    """Tell the instructor on stderr which workers left during the batch and how many
    tasks were sent again: a loss costs nothing, but it should not go unnoticed."""
    left = sorted(str(address) for address in before - after)
    resent = sum(times - 1 for times in sent.values() if times > 1)
    if left:
        print(f"cluster: {len(left)} worker(s) left during the batch: {', '.join(left)}",
              file=sys.stderr)
    if resent:
        print(f"cluster: {resent} task(s) were sent again after a worker was lost or failed",
              file=sys.stderr)


def failure(client: "distributed.Client", error: Exception, item: Submission,
            sent: int) -> Record | None:
    """The grader_error result of ``item`` whose task raised ``error`` (``sent``: times it
    was sent); None for a task to send again (see ``_collect``). Raises ClusterUnavailable
    for a worker that does not grade as this machine does, or a lost scheduler."""
    from distributed import KilledWorker
    try:
        raise error
    except WorkerMismatch as exc:
        raise ClusterUnavailable(f"a worker does not grade as this machine does: {exc}; "
                                 f"graded submissions are saved, rerun when the workers run "
                                 f"this checkout") from None
    except ProcessKilled:
        failed = pool.killed(item)
    except KilledWorker as exc:
        failed = task.grader_error(item, f"the Dask workers grading this submission died each "
                                   f"time it was tried ({clean_text(str(exc))[:300]})", WORKERS_DIED)
    except CancelledError as exc:
        if client.status not in ("running", "connecting"):
            raise ClusterUnavailable(f"lost the connection to the Dask scheduler "
                                     f"({clean_text(str(exc))[:300]}); graded submissions are "
                                     f"saved, rerun to grade the rest") from None
        if sent <= RESENDS:
            return None
        failed = task.grader_error(item, f"the cluster lost this submission's task {sent} times "
                                   f"({clean_text(str(exc))[:300]})", WORKERS_DIED)
    except WorkerFailure as exc:  # that worker's trouble (a full disk...): try another
        if sent <= RESENDS:
            return None
        failed = task.grader_error(item, f"the grader failed on the workers {sent} times, last: "
                                   f"{clean_text(str(exc))[:500]}")
    except Exception as exc:  # the task's own error: this row only
        failed = task.grader_error(item, f"{type(exc).__name__}: {clean_text(str(exc))[:500]}")
    return failed


def needs_sandbox(item: Submission) -> bool:
    """True when grading ``item`` runs student code (so it goes to a worker)."""
    assignment = course.current().get(item.assignment)
    if assignment is None or item.path is None:
        return False
    try:
        check_path(item.path)
        return notebook_role(assignment, item.path) == "graded"
    except (OSError, ValueError):
        return False


def read_submission(item: Submission) -> tuple[bytes, tuple[tuple[str, bytes], ...]]:
    """(notebook bytes, ((relative path, bytes) of each extra file)) of ``item``, read
    as grading reads them: the notebook only when ``submission.check_path`` lets it be
    read (OSError or ValueError otherwise), the extra files within their bounds."""
    path = check_path(item.path)  # type: ignore[arg-type]  # a row with a notebook
    with open(path, "rb", opener=_no_follow) as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the check
            raise ValueError("the notebook is not a regular file")
        notebook = handle.read(MAX_NOTEBOOK_BYTES + 1)
    files, budget = [], EXTRA_BYTES
    for extra in submission_files(path.parent, path.name, limit=EXTRA_BYTES):
        try:  # as listed: a regular file, not a link, within the bytes left
            with open(extra, "rb", opener=_no_follow) as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    continue
                data = handle.read(budget + 1)
        except OSError:  # unreadable here: grading on one machine would not copy it either
            continue
        if len(data) > budget:
            break
        budget -= len(data)
        files.append((str(extra.relative_to(path.parent)), data))
    return notebook, tuple(files)


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK)
