"""Which isolation this machine gives student code: the worker's self-checks in each
bubblewrap mode and as a sandbox uid in rlimits mode (each probed once), the choice between
bubblewrap and rlimits, and the words for what is in force (``describe``, ``isolation_key``).
The modes themselves are described in ``autograder.sandbox.launch``."""

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.sandbox import cgroups, rlimits_files, seccomp, spawn, uids as sandbox_uid
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


def bubblewrap_works() -> bool:
    """True when bwrap exists and can start the worker's self-check here."""
    return bubblewrap_mode() is not None


def isolation_mode(requested: str = "auto") -> str:
    """'bubblewrap' or 'rlimits'; 'auto' picks bubblewrap when it works."""
    if requested not in ("auto", "bubblewrap", "rlimits"):
        raise ValueError(f"unknown isolation {requested!r}")
    if requested == "rlimits":
        return "rlimits"
    if bubblewrap_works():
        return "bubblewrap"
    if requested == "bubblewrap":
        raise RuntimeError("bubblewrap was requested but does not work here "
                           "(install the 'bubblewrap' package)")
    return "rlimits"


def isolation_key(isolation: str) -> str:
    """A short string naming what is really in force (e.g. "bubblewrap/setuid/cgroup-v1"),
    for keys that must change when the protection does."""
    found = cgroups.hierarchy()
    group = "no-cgroup" if isinstance(found, str) else f"cgroup-v{found.version}"
    if isolation == "bubblewrap":
        mode = bubblewrap_mode()
    else:
        mode = "sandbox-uid" if rlimits_uid_mode() else "grader-uid"
    return f"{isolation}/{mode}/{group}"


def describe(isolation: str, limits: Limits = Limits()) -> tuple[str, list[str]]:
    """(one line saying how student code is isolated and limited, [warnings])."""
    warnings = []
    mode = bubblewrap_mode() if isolation == "bubblewrap" else None
    if mode is not None:
        who = (f"as uid {sandbox_uid.UID_BASE}+ without capabilities" if mode == "setuid" else
               "in a user namespace without capabilities")
        line = f"bubblewrap ({who}, seccomp {'on' if seccomp.supported() else 'off'})"
        if mode == "userns" and os.geteuid() == 0:
            warnings.append("grading as root, but the sandbox could not switch to its own "
                            f"uid ({_PROBE_NOTES.get('setuid', '?')}): student code runs as "
                            "root without capabilities, with no process-count limit")
    elif rlimits_uid_mode():
        named = sandbox_uid.sandbox_user()
        who = named[0] if named else f"uid {sandbox_uid.UID_BASE}+"
        line = (f"rlimits (student code runs as {who} without capabilities; it sees the "
                "host's files that any user may read, and the network)")
    elif os.geteuid() == 0:
        line = "rlimits (student code runs as root)"
        warnings.append("grading as root, but student code could not switch to a uid of its "
                        f"own ({rlimits_uid_failure()}): it runs as root and can read and "
                        "write everything, the tests and the grader's results included")
    else:
        line = (f"rlimits (student code runs as the grading user, uid {os.geteuid()}: it can "
                "read and write what the grader can and signal the grader)")
    found = cgroups.hierarchy()
    if isinstance(found, str):
        line += f"; memory {limits.memory_bytes >> 20} MiB per process"
        warnings.append(f"no cgroup: {found}. Memory is limited per process only (a "
                        f"submission that forks can use {limits.memory_bytes >> 20} MiB "
                        f"in each process), and the number of processes "
                        + ("by RLIMIT_NPROC" if mode == "setuid" or (
                            mode == "userns" and os.geteuid() != 0
                            and spawn.nproc_per_namespace())
                           else "not at all"))
    else:
        line += (f"; {found.describe()}: {limits.memory_bytes >> 20} MiB in all"
                 + (f" and {limits.processes} processes" if len(found.folders) > 1 else "")
                 + " per student process")
    return line, warnings
