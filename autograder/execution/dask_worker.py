"""The worker's side of grading on a Dask cluster (the coordinator's is ``autograder.execution.dask_cluster``).

A task receives a ``Payload``: the submission's bytes (its notebook and extra files, as
the coordinator read them), its identity, and how to grade it. The Dask worker hands it
to a grading process of its own, one per worker thread, spawned once and kept: like a
local pool process (``autograder.execution.pool.process_setup``) it dies with the worker, has its
address space capped, and runs the task in its main thread, where the guard's alarm
works. There the bytes are written to a scratch folder and graded in the sandbox
(``autograder.execution.task``); the raw result goes back to the coordinator, which alone
completes it, makes its page and writes under OUT. A grading process that dies is
replaced and the submission retried, three times in all, as on one machine.
"""

import contextlib
import dataclasses
import os
import pickle
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from autograder import config
from autograder.discovery import Submission
from autograder.execution import pool, task
from autograder.grader_key import grader_code, grader_key, key_differences
from autograder.records import Record
from autograder.sandbox.launch import Limits

ATTEMPTS = 3  # grading processes a submission may kill before it is a grader_error


class ProcessKilled(RuntimeError):
    """The grading processes of this submission were killed ATTEMPTS times: the coordinator
    records it as the local pool does (``pool.killed``)."""


class WorkerFailure(RuntimeError):
    """The grading process failed on this worker (its scratch folder, a reply it could not
    send): the grader's fault, not the student's. Its text says what happened."""


class WorkerMismatch(RuntimeError):
    """This worker does not grade as the coordinator would (another checkout of the
    grader or the releases, other limits, another isolation): nothing it grades counts."""


@dataclasses.dataclass(frozen=True)
class Payload:
    """One submission as a task: everything a worker needs, nothing read from the
    coordinator's disk.

    Fields: ``item`` (``discovery.Submission``, its path the coordinator's, kept in the
    record); ``notebook`` (the notebook's bytes); ``files`` ((path relative to the
    notebook's folder, bytes) of each extra file); ``limits``, ``isolation`` (resolved
    mode) and ``grader`` (the coordinator's ``grader_key`` for them, which this worker
    must match).
    """

    item: Submission
    notebook: bytes
    files: tuple[tuple[str, bytes], ...]
    limits: Limits
    isolation: str
    grader: str


def grade_payload(payload: Payload) -> Record:
    """The Dask task: the raw result of ``payload`` (``task.grade_guarded``'s). Raises
    WorkerMismatch when this worker cannot grade as the coordinator would, ProcessKilled
    when its grading process died ATTEMPTS times, WorkerFailure on a grader failure."""
    for attempt in range(ATTEMPTS):
        try:
            process = _process(payload.limits)
        except OSError as exc:  # this machine cannot start one (no memory, no processes left)
            raise WorkerFailure(f"on {socket.gethostname()}: the grading process could not "
                                f"start ({type(exc).__name__}: {exc})") from None
        try:
            return process.call(payload)
        except ProcessDied:  # the grading process died: a fresh one, same submission
            _discard_process()
        except WorkerMismatch:
            if attempt:
                raise
            _discard_process()  # perhaps a process started before the checkout changed
    raise ProcessKilled(pool.KILLED_THRICE)


def probe(limits: Limits, isolation: str) -> dict[str, str]:
    """Run on each worker before a batch: its ``grader_key`` for these settings, its
    host and where its code is ({"key", "host", "root"})."""
    return {"key": grader_key(limits, isolation), "host": socket.gethostname(),
            "root": str(config.ROOT)}


class ProcessDied(RuntimeError):
    """The grading process ended before it answered."""


class GradingProcess:
    """A grading process of this worker (``python -m autograder.execution.dask_worker``), fed
    pickled payloads on a pipe of its own (not stdout, which grading code may print to).

    A subprocess rather than a ``multiprocessing`` child: a worker started by a Dask
    nanny is a daemonic process, which ``multiprocessing`` forbids to have children.
    """

    def __init__(self, address_space: int) -> None:
        to_child, self._requests = os.pipe()
        self._replies, from_child = os.pipe()
        self.address_space = address_space
        self._process = subprocess.Popen(
            [sys.executable, "-m", "autograder.execution.dask_worker", str(os.getpid()),
             str(address_space), str(to_child), str(from_child)],
            pass_fds=(to_child, from_child), cwd=config.ROOT, stdin=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)

    def call(self, payload: Payload) -> Any:
        """What the process returns for ``payload``; raises what it raised, or ProcessDied."""
        try:
            _send(self._requests, pickle.dumps(payload))
            ok, value = pickle.loads(_receive(self._replies))
        except (OSError, EOFError) as exc:
            raise ProcessDied(f"the grading process ended ({type(exc).__name__})") from None
        if not ok:
            raise value
        return value

    def close(self) -> None:
        for fd in (self._requests, self._replies):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)  # it exits at the end of its input
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _send(fd: int, data: bytes) -> None:
    view = memoryview(struct.pack("<Q", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int) -> bytes:
    header = _read_exactly(fd, 8)
    return _read_exactly(fd, struct.unpack("<Q", header)[0])


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the pipe was closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


_LOCAL = threading.local()  # this worker thread's grading process
_CODE: str | None = None  # in a grading process: grader_code() when it started


def _process(limits: Limits) -> GradingProcess:
    address_space = pool.grader_address_space(limits)
    found = getattr(_LOCAL, "process", None)
    if found is not None and found.address_space == address_space:
        return found
    _discard_process()
    _LOCAL.process = GradingProcess(address_space)
    return _LOCAL.process


def _discard_process() -> None:
    found = getattr(_LOCAL, "process", None)
    _LOCAL.process = None
    if found is not None:
        found.close()


def serve(parent: int, address_space: int, requests: int, replies: int) -> None:
    """The grading process's loop: set up as a pool process, note which grader code it
    imported (a checkout changed later makes its results not count), then answer each
    payload on ``requests`` with (True, (result, page)), or (False, the WorkerMismatch or
    WorkerFailure that stopped it)."""
    global _CODE
    pool.process_setup(parent, address_space)
    _CODE = grader_code()
    while True:
        try:
            payload = pickle.loads(_receive(requests))
        except EOFError:
            return
        try:
            reply = pickle.dumps((True, pool.busy_call(_grade_here, payload)))
        except WorkerMismatch as exc:
            reply = pickle.dumps((False, exc))
        except Exception as exc:  # the grader's failure: said, and the process goes on
            reply = pickle.dumps((False, WorkerFailure(f"on {socket.gethostname()}: "
                                                       f"{type(exc).__name__}: {exc}"[:1000])))
        _send(replies, reply)


def _grade_here(payload: Payload) -> Record:
    """In the grading process (busy: a SIGTERM unwinds through the clean-up): write the
    bytes to a scratch folder and grade them; the raw result."""
    found = grader_key(payload.limits, payload.isolation, _CODE)
    if found != payload.grader:
        raise WorkerMismatch(f"on {socket.gethostname()} (code in {config.ROOT}): "
                             f"{', '.join(key_differences(payload.grader, found))} "
                             f"differ from the coordinator's")
    folder = Path(tempfile.mkdtemp(prefix="cluster-grade-"))
    try:
        local = _unpack(payload, folder / "submission")
        item = payload.item._replace(path=local)
        return task.grade_guarded(item, payload.limits, payload.isolation)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _unpack(payload: Payload, folder: Path) -> Path:
    """Write the payload's notebook and extra files under ``folder``; the notebook's path."""
    folder.mkdir()
    notebook = folder / Path(payload.item.path).name  # type: ignore[arg-type]  # has a notebook
    notebook.write_bytes(payload.notebook)
    for relative, data in payload.files:
        target = (folder / relative).resolve()
        if folder.resolve() not in target.parents:  # the coordinator only sends relative paths
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return notebook


if __name__ == "__main__":  # run as the module itself, so what it pickles names it
    from autograder.execution import dask_worker as cluster_worker
    cluster_worker.serve(*map(int, sys.argv[1:5]))
