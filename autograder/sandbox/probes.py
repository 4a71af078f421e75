"""The self-checks of the isolation modes, each run once per grading process: the student
process's ``--check`` in each bubblewrap mode (``bubblewrap_mode``) and as a sandbox uid in
rlimits mode (``rlimits_uid_mode``); why a mode was passed over is kept in ``_PROBE_NOTES``
for ``isolation.describe``."""

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.sandbox import rlimits_files, spawn, uids as sandbox_uid
from autograder.sandbox.limits import Limits

_PROBE_NOTES: dict[str, str] = {}


def _probe(mode: str) -> str | None:
    """Start the worker's self-check (``--check``: drop privileges, import numpy and
    nnlab, write to /scratch and /tmp) in a sandbox of this mode; None or what failed."""
    with tempfile.TemporaryDirectory() as scratch:
        inner = ["python", "-B", "-s", "/grader/student_process.py", "--check",
                 *spawn.worker_args(mode, 0, 1, Limits())[2:]]
        try:
            process = spawn.start_bubblewrap(
                scratch, inner, Limits(), mode, (), env=spawn.environment(True),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                preexec_fn=functools.partial(spawn.set_limits, Limits()))
            output, _ = process.communicate(timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{type(exc).__name__}: {exc}"
        if process.returncode != 0:
            return output.decode(errors="replace").strip()[-500:] or f"exit {process.returncode}"
    return None


@functools.lru_cache(maxsize=None)
def bubblewrap_mode() -> str | None:
    """"setuid" (grading as root), "userns", or None when bubblewrap does not work here.
    Probed once; why a mode was passed over is in ``describe``."""
    if shutil.which("bwrap") is None:
        _PROBE_NOTES["bubblewrap"] = "bwrap is not installed"
        return None
    for mode in (("setuid", "userns") if os.geteuid() == 0 else ("userns",)):
        failure = _probe(mode)
        if failure is None:
            return mode
        _PROBE_NOTES[mode] = failure
    return None


def _probe_rlimits_uid() -> str | None:
    """Start the worker's self-check (``--check``) as a sandbox uid in rlimits mode; None or
    what failed."""
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as folder:
        scratch = Path(folder) / "scratch"
        scratch.mkdir()
        uid, gid = sandbox_uid.rlimits_identity(scratch)
        try:
            worker = rlimits_files.prepare_rlimits_uid(scratch, uid, gid)
            process = spawn.SandboxProcess(
                [sys.executable, "-B", "-s", str(worker), "--check", f"uid={uid}",
                 f"gid={gid}", f"processes={Limits().processes}"],
                cwd=scratch, env=rlimits_files.rlimits_environment(scratch),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                preexec_fn=functools.partial(spawn.set_limits, Limits()))
            try:
                output, _ = process.communicate(timeout=30)
            finally:
                process.kill()
                process.wait()
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            sandbox_uid.kill_uid(uid)
            sandbox_uid.forget_identity(scratch)
        if process.returncode != 0:
            return output.decode(errors="replace").strip()[-500:] or f"exit {process.returncode}"
    return None


@functools.lru_cache(maxsize=None)
def rlimits_uid_mode() -> bool:
    """True when, in rlimits mode, student code runs as a uid of its own: the grader is
    root and the worker's self-check passed as that uid (probed once; why not is in
    ``describe``)."""
    if os.geteuid() != 0:
        _PROBE_NOTES["rlimits-uid"] = f"the grader runs as uid {os.geteuid()}, not root"
        return False
    failure = _probe_rlimits_uid()
    if failure is not None:
        _PROBE_NOTES["rlimits-uid"] = failure
        return False
    return True


def rlimits_uid_failure() -> str | None:
    """Why ``rlimits_uid_mode`` is False (None when it is True)."""
    return None if rlimits_uid_mode() else _PROBE_NOTES.get("rlimits-uid", "?")
