"""Driving one submission's student process: run its cells, call its functions.

A crash or a timeout costs only what was in flight: the process is killed and, when
the next call comes, started again and the notebook's cells are run again. A cell that
hung or crashed the process is from then on run with its function definitions and
imports only, and skipped if even that fails, so a restart always makes progress.
"""

import contextlib
import os
import select
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from autograder.sandbox import launch
from autograder.sandbox.wire import OUTPUT_LIMIT, WireError, decode, encode
from autograder.text import clean_text

REPLY_LIMIT = 256 << 20   # bytes of one reply the grader accepts
READY_SECONDS = 60.0      # for a new student process to start (before any student code)
MESSAGE_LIMIT = 4000      # characters kept of an error message from student code
CELL_RECORDS_CHARS = 400_000  # characters of cell messages and outputs kept per notebook
CELL_RECORDS_KEPT = 2_000     # cell records kept per notebook
WHERE_LIMIT = 200         # characters kept of where an error was raised ("ValueError at ...")


class StudentTimeout(Exception):
    """The student process did not answer within its time limit."""


class StudentDied(Exception):
    """The student process ended (os._exit, a crash, a signal, the CPU limit)."""


class StudentOutOfMemory(StudentDied):
    """The kernel ended the process because the submission's cgroup ran out of memory
    (its processes and its tmpfs files together reached the memory limit)."""


class GraderError(Exception):
    """The grader itself could not do its part (e.g. the sandbox would not start).

    Not the student's fault: the test gets the status ``grader_error``, never ``failed``.
    """


class StudentProcess:
    def __init__(self, cells: Iterable[tuple[int, str]], scratch: str | os.PathLike[str],
                 limits: launch.Limits, isolation: str) -> None:
        """cells: list of (index, source) to run in order; scratch: writable folder.

        ``seconds`` adds up the wall time spent starting the process until it is ready
        ("start") and running the notebook's cells ("cells"), restarts included."""
        self.cells = list(cells)
        self.scratch = scratch
        self.limits = limits
        self.isolation = isolation
        self.process: launch.SandboxProcess | None = None
        # the pipes' file descriptors, set with ``process`` (and only used while it is set)
        self.requests: int = None  # type: ignore[assignment]
        self.replies: int = None  # type: ignore[assignment]
        self.definitions_only: set[int] = set()
        self.skipped: set[int] = set()
        self.cell_results: dict[int, dict[str, Any]] = {}
        self.record_sizes: dict[int, int] = {}  # characters kept per cell,
        self.record_chars = 0  # and in all
        self.not_kept: dict[int, bool] = {}  # {cell index: ok}: cells whose records were not kept
        self.starts = 0
        self.seconds = {"start": 0.0, "cells": 0.0}
        self.deadline = time.monotonic() + limits.notebook_seconds

    # -- process lifecycle -------------------------------------------------------
    def _spawn(self) -> None:
        stderr_path = Path(self.scratch).parent / "sandbox-stderr.txt"
        try:
            self.process, self.requests, self.replies = launch.start(
                self.scratch, self.limits, self.isolation, stderr_path)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            raise GraderError(f"the sandbox ({self.isolation}) could not start: "
                              f"{type(exc).__name__}: {exc}") from exc
        self.starts += 1
        # The worker says "ready" before any student code runs: no word means the
        # sandbox itself failed (bwrap refused, the memory limit too low for Python...).
        try:
            reply = self._receive(time.monotonic() + READY_SECONDS,
                                  f"no answer within {READY_SECONDS:g} s")
            if reply.get("kind") != "ready":
                raise StudentDied(f"unexpected first message {reply.get('kind')!r}")
        except (StudentTimeout, StudentDied) as exc:
            self.kill()
            try:
                detail = stderr_path.read_text(errors="replace")[-1500:].strip()
            except OSError:
                detail = ""
            raise GraderError(f"the sandbox ({self.isolation}) did not start: {exc}"
                              + (f"; its error output: {detail}" if detail else "")) from exc

    def kill(self) -> None:
        if self.process is None:
            return
        launch.stop(self.process)  # the process group, then all of the cgroup
        for fd in (self.requests, self.replies):
            try:
                os.close(fd)
            except OSError:
                pass
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ensure_started(self) -> None:
        """Start the process if needed and run the notebook's cells in it."""
        if self.alive():
            return
        self.kill()
        for _ in range(2 * len(self.cells) + 2):
            self._check_budget()
            with self._timed("start"):
                self._spawn()
            with self._timed("cells"):
                ran = self._run_cells()
            if ran:
                return
        raise StudentDied("the notebook's cells could not be run without crashing")

    @contextlib.contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - started

    def _run_cells(self) -> bool:
        """Run every cell; on a hang or crash, demote that cell and return False."""
        for index, source in self.cells:
            if index in self.skipped:
                continue
            request = {"op": "cell", "index": index, "source": source,
                       "definitions_only": index in self.definitions_only}
            try:
                reply = self._exchange(request, self.limits.cell_seconds)
            except (StudentTimeout, StudentDied) as exc:
                if time.monotonic() >= self.deadline:  # the budget, not this cell, ran out
                    self.kill()
                    self._check_budget()
                reason = "timed out" if isinstance(exc, StudentTimeout) else "ended the process"
                self.cell_results[index] = {"ok": False, "kind": "timeout" if
                                            isinstance(exc, StudentTimeout) else "died",
                                            "message": f"cell {index} {reason}: {exc}"}
                if index in self.definitions_only:
                    self.skipped.add(index)
                self.definitions_only.add(index)
                self.kill()
                return False
            if index in self.definitions_only:
                continue  # keep the record of why the cell was demoted
            self._record_cell(index, {key: reply.get(key)
                                      for key in ("ok", "kind", "message", "output")})
        return True

    def _record_cell(self, index: int, record: dict[str, Any]) -> None:
        """Keep a cell's record while the notebook's budgets last (CELL_RECORDS_CHARS of
        messages and outputs, CELL_RECORDS_KEPT records); past them only whether it worked
        is kept, in ``not_kept`` (30,000 cells that each print and raise must not make a
        results file of hundreds of MB)."""
        size = len(record.get("message") or "") + len(record.get("output") or "")
        spent = self.record_chars - self.record_sizes.pop(index, 0)
        self.cell_results.pop(index, None)
        if spent + size > CELL_RECORDS_CHARS or len(self.cell_results) >= CELL_RECORDS_KEPT:
            self.not_kept[index] = bool(record.get("ok"))
            self.record_chars = spent
            return
        self.not_kept.pop(index, None)
        self.record_sizes[index] = size
        self.record_chars = spent + size
        self.cell_results[index] = record

    def _check_budget(self) -> None:
        if time.monotonic() >= self.deadline:
            raise StudentTimeout(f"the notebook used up its {self.limits.notebook_seconds:g} s")

    # -- calls ---------------------------------------------------------------------
    def call(self, name: str, args: Iterable[Any], kwargs: Mapping[str, Any],
             track: bool | dict[str, Any], timeout: float) -> dict[str, Any]:
        """Call a student function; returns the worker's reply dict."""
        self.ensure_started()
        request = {"op": "call", "name": name, "args": tuple(args), "kwargs": dict(kwargs),
                   "track": track}
        try:
            return self._exchange(request, timeout)
        except (StudentTimeout, StudentDied):
            self.kill()
            raise

    def _exchange(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait for its reply, all within ``timeout`` seconds."""
        budget = self.deadline - time.monotonic()
        if budget < timeout:
            timeout = max(budget, 0.0)
            reason = f"the notebook used up its {self.limits.notebook_seconds:g} s"
        else:
            reason = f"no answer within {timeout:g} s"
        deadline = time.monotonic() + timeout
        try:
            payload = encode(request)
        except WireError as exc:  # the test's own arguments: a grader bug
            raise GraderError(f"a test sent data the wire cannot carry: {exc}") from exc
        self._write(struct.pack(">Q", len(payload)), deadline, reason)
        self._write(payload, deadline, reason)
        return self._receive(deadline, reason)

    def _receive(self, deadline: float, reason: str) -> dict[str, Any]:
        """Read one reply frame by ``deadline`` (``reason`` explains a timeout)."""
        (size,) = struct.unpack(">Q", self._read(8, deadline, reason))
        if size > REPLY_LIMIT:
            raise StudentDied(f"the process sent a message of {size} bytes")
        try:
            return clean_reply(decode(self._read(size, deadline, reason), REPLY_LIMIT))
        except WireError as exc:
            raise StudentDied(f"the process sent an unreadable message ({exc})") from exc

    def _write(self, data: bytes, deadline: float, reason: str) -> None:
        """Write without blocking past the deadline: a process that stops reading its
        requests (busy, or student code holding the pipe) cannot hang the grader."""
        view = memoryview(data)
        while view:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([], [self.requests], [], wait)[1]:
                raise StudentTimeout(reason)
            try:
                written = os.write(self.requests, view[:1 << 16])
            except BlockingIOError:
                continue
            except OSError as exc:  # broken pipe: the process is gone
                raise StudentDied(self._death_reason()) from exc
            view = view[written:]

    def _read(self, count: int, deadline: float, reason: str) -> bytearray:
        """``count`` bytes, as a bytearray (the decoded arrays then use its memory)."""
        data, filled = bytearray(count), 0
        view = memoryview(data)
        while filled < count:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.replies], [], [], wait)[0]:
                raise StudentTimeout(reason)
            got = os.readv(self.replies, [view[filled:filled + (1 << 20)]])
            if not got:
                raise StudentDied(self._death_reason())
            filled += got
        return data

    def _death_reason(self) -> str:
        """Why the process ended, as a message; raises StudentOutOfMemory instead when
        the kernel's OOM killer ended it (the sandbox's cgroup counts OOM kills)."""
        try:
            code = self.process.wait(timeout=5)  # type: ignore[union-attr]  # only while it runs
        except Exception:  # still running although its pipe closed
            return "the process closed its connection to the grader"
        if code < 0 or code > 128:
            number = -code if code < 0 else code - 128
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else number
            if number == signal.SIGXCPU:
                return f"the process used up its CPU time limit ({name})"
            if number == signal.SIGKILL and launch.out_of_memory(self.process):
                raise StudentOutOfMemory(
                    f"the process was killed (SIGKILL) when the submission's processes and "
                    f"files together reached the memory limit of "
                    f"{self.limits.memory_bytes >> 20} MiB")
            return f"the process was killed by signal {name}"
        return f"the process exited with code {code} (os._exit or sys.exit in your code?)"

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.scratch, ignore_errors=True)


def _text(value: object, limit: int) -> str:
    """A student-sent text, capped at ``limit`` characters and safe to write as UTF-8."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[:limit] + f"\n[... {len(text) - limit} more characters]"
    return clean_text(text)


def clean_reply(reply: object) -> dict[str, Any]:
    """Check a reply's shape and cap its texts: the student process is not trusted."""
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise WireError("a reply must be a dict with a boolean 'ok'")
    kind = reply.get("kind")
    reply["kind"] = kind if isinstance(kind, str) else None
    reply["message"] = _text(reply.get("message") or "", MESSAGE_LIMIT)
    reply["where"] = _text(reply.get("where") or "", WHERE_LIMIT)
    reply["output"] = _text(reply.get("output") or "", OUTPUT_LIMIT)
    if reply["ok"] and "result" not in reply:
        reply["result"] = None
    if "args_after" in reply and not isinstance(reply["args_after"], tuple):
        raise WireError("args_after must be a tuple")
    return reply
