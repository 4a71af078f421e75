"""Grading on a Dask cluster: ``grade SUBMISSIONS --out OUT --scheduler tcp://HOST:8786``.

This process is the coordinator. It connects to the scheduler, asks every worker for
its grader key (same checkout of the grader and releases, same limits and isolation,
else it stops before grading anything), then sends one task per submission: the
submission's bytes in a ``cluster_worker.Payload``, never a path, since workers need
not see the coordinator's disk. At most IN_FLIGHT_PER_THREAD tasks per worker thread
are out at once, so a class of large notebooks is never all in memory. Each returned
record and page is written here as it arrives (only the coordinator writes under OUT),
so stopping at any moment loses only the submissions in flight, as with the local pool.

Submissions that need no sandbox (no notebook, an unknown assignment, a notebook that
is not the assignment's, a path the grader refuses to read) are settled here, by the
same code as on a worker, without sending anything.

A worker that dies mid-task costs nothing: the scheduler gives its tasks to another. A
submission whose tasks keep killing workers (the scheduler's
``distributed.scheduler.allowed-failures``, 3 by default) gets a grader_error row.
"""

import contextlib
import os
import stat
import sys
import threading
import uuid
import warnings
from concurrent.futures import CancelledError
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder import config, course
from autograder.execution import pool, task
from autograder.outputs import visibility
from autograder.execution.dask_worker import (Payload, ProcessKilled, WorkerFailure, WorkerMismatch,
                                       grade_payload, probe)
from autograder.discovery import Submission, notebook_role
from autograder.grader_key import key_differences
from autograder.grading.written_grades import WrittenGrade
from autograder.records import Record
from autograder.sandbox.launch import Limits
from autograder.submission import MAX_NOTEBOOK_BYTES, check_path, submission_files
from autograder.text import clean_text, display_name

if TYPE_CHECKING:
    import distributed  # imported only when a cluster is used

Written = dict[Submission, list[WrittenGrade]]  # the TAs' grades of each submission

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


def run_cluster(todo: list[Submission], scheduler: "str | distributed.Client", out: Path,
                limits: Limits, isolation: str, keys: dict[Submission, str], written: Written,
                bar: pool.Progress, fingerprint: str) -> list[Record]:
    """Grade ``todo`` on the Dask cluster at ``scheduler`` (an address, or a
    ``distributed.Client`` that stays open); returns the saved results. ``fingerprint``
    is this machine's ``grader_key``. Ctrl-C cancels the tasks out and re-raises."""
    withhold = not visibility.hidden_released(out)
    local: list[Submission] = []
    remote: list[Submission] = []
    for item in todo:
        (remote if needs_sandbox(item) else local).append(item)
    results = [_settle_here(out, item, limits, isolation, keys, written, bar) for item in local]
    if not remote:
        return results
    client = connect(scheduler) if isinstance(scheduler, str) else scheduler
    try:
        check_workers(client, limits, isolation, fingerprint)
        results += _dispatch(client, remote, out, limits, isolation, keys, written, bar,
                             fingerprint, withhold)
    finally:
        if client is not scheduler:
            client.close(timeout=CLOSE_SECONDS)
    return results


def _dispatch(client: "distributed.Client", items: list[Submission], out: Path, limits: Limits,
              isolation: str, keys: dict[Submission, str], written: Written,
              bar: pool.Progress, fingerprint: str, withhold: bool) -> list[Record]:
    import distributed
    threads = max(2, sum(client.nthreads().values()))
    workers_at_start = set(client.nthreads())
    waiting = list(reversed(items))
    futures: dict[distributed.Future, Submission] = {}
    results: list[Record] = []
    sent: dict[Submission, int] = {}
    running = distributed.as_completed(loop=client.loop)

    def submit_next() -> None:
        item = waiting.pop()
        try:
            contents = read_submission(item)
        except (OSError, ValueError):  # changed since it was checked: refused here, as locally
            results.append(_settle_here(out, item, limits, isolation, keys, written, bar))
            return
        future = submit_payload(client, Payload(item, *contents, keys[item], tuple(written[item]),
                                                withhold, limits, isolation, fingerprint))
        futures[future] = item
        sent[item] = sent.get(item, 0) + 1
        running.add(future)

    try:
        while waiting and running.count() < IN_FLIGHT_PER_THREAD * threads:
            submit_next()
        for future in running:
            item = futures.pop(future)
            result = _collect(client, future, item, out, keys, written, sent[item])
            future.release()
            if result is None:  # lost with a worker or the connection: sent again
                waiting.append(item)
            else:
                results.append(result)
                bar.step(display_name(f"{item.student}/{item.assignment}"))
            while waiting and running.count() < IN_FLIGHT_PER_THREAD * threads:
                submit_next()
    except (KeyboardInterrupt, ClusterUnavailable, OSError) as exc:
        with contextlib.suppress(Exception):  # the scheduler may be gone already
            client.cancel([f for f in futures if not f.done()])
        if isinstance(exc, OSError):  # the connection to the scheduler broke
            raise ClusterUnavailable(f"lost the Dask scheduler ({type(exc).__name__}: {exc}); "
                                     f"graded submissions are saved, rerun to grade the "
                                     f"rest") from None
        raise
    report_losses(workers_at_start, _current_workers(client), sent)
    return results


def _current_workers(client: "distributed.Client") -> set[str]:
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


def _collect(client: "distributed.Client", future: "distributed.Future", item: Submission,
             out: Path, keys: dict[Submission, str], written: Written, sent: int) -> Record | None:
    """Write what the task of ``item`` returned and return the saved result; a task that
    failed is a grader_error row. None for a task to send again (``sent``: times it was
    sent), unless it was sent RESENDS + 1 times already: one the cluster lost (cancelled
    with its worker), or one whose worker failed (``WorkerFailure``)."""
    try:
        result, page = future.result()
    except Exception as exc:
        failed = failure(client, exc, item, sent)
        if failed is None:
            return None
        return task.save_result(out, item, keys[item], failed, written[item])
    return task.write_outputs(out, item, result, page)


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


def _settle_here(out: Path, item: Submission, limits: Limits, isolation: str,
                 keys: dict[Submission, str], written: Written, bar: pool.Progress) -> Record:
    """Settle here, never running student code, what is refused before it would run."""
    result = task.save_result(out, item, keys[item],
                              task.grade_guarded(item, limits, isolation, execute=False),
                              written[item])
    bar.step(display_name(f"{item.student}/{item.assignment}"))
    return result


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
