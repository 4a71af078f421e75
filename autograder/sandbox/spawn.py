"""How a sandbox process is made: its class, what runs in it between fork and exec (own
session, death with the grader, its cgroup, rlimits), its environment, the worker's
arguments and bubblewrap's command line. Which isolation to use is
``autograder.sandbox.isolation``'s; ``autograder.sandbox.launch`` puts these together."""

import ctypes
import os
import platform
import resource
import signal
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from autograder.sandbox import bubblewrap, cgroups, seccomp, uids as sandbox_uid
from autograder.sandbox.limits import Limits

WORKER = Path(__file__).with_name("student_process.py")
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


class SandboxProcess(subprocess.Popen):
    """The sandbox's top process; ``cgroup`` is its ``cgroups.Cgroup`` (or None), ``uid``
    the uid student code runs as when it is one of its own (rlimits as root), else None."""
    cgroup: cgroups.Cgroup | None = None
    uid: int | None = None


def set_limits(limits: Limits, cgroup_fds: Iterable[int] = (),
               address_space: int | None = None) -> None:
    """Between fork and exec: own session, die with the grader, join the cgroup, rlimits
    (``address_space`` defaults to the memory limit)."""
    os.setsid()  # own process group: the grader kills the whole group
    _die_with_parent()
    cgroups.Cgroup.join(cgroup_fds)
    for name, value in ((resource.RLIMIT_AS, address_space or limits.memory_bytes),
                        (resource.RLIMIT_CPU, limits.cpu_seconds),
                        (resource.RLIMIT_FSIZE, limits.file_bytes),
                        (resource.RLIMIT_CORE, 0),
                        (resource.RLIMIT_NOFILE, 256)):
        resource.setrlimit(name, (value, value))


def _load_prctl() -> Callable[..., int] | None:
    # Loaded once, at import: dlopen must not run between fork and exec (preexec_fn).
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the grader's own kill still applies
        return None


_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the process that started it dies (what bwrap's
    --die-with-parent does), so a grading process killed mid-way leaves no orphan."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def environment(sandboxed: bool = False) -> dict[str, str]:
    """The student process's environment; inside bubblewrap it names no host path."""
    env = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL") if key in os.environ}
    env.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"})
    if sandboxed:
        env.update({"PATH": SAFE_PATH, "PYTHONPATH": "/grader/lib", "HOME": "/scratch",
                    "MPLCONFIGDIR": "/scratch/.matplotlib"})
    return env


# -- the bubblewrap command -------------------------------------------------------------
def worker_args(mode: str, read_fd: int, write_fd: int, limits: Limits) -> list[str]:
    """The worker's command-line arguments after its path (see worker.main)."""
    args = [str(read_fd), str(write_fd)]
    if mode == "setuid":
        args.append(f"uid={sandbox_uid.next_uid()}")
    if mode == "setuid" or nproc_per_namespace():
        args.append(f"processes={limits.processes}")
    return args


def nproc_per_namespace() -> bool:
    """Linux 5.14 and later count RLIMIT_NPROC per user namespace."""
    numbers = platform.release().split("-")[0].split(".")
    try:
        return (int(numbers[0]), int(numbers[1])) >= (5, 14)
    except (IndexError, ValueError):
        return False


def bubblewrap_command(scratch: str | os.PathLike[str], inner: list[str], limits: Limits = Limits(),
                       mode: str = "userns", seccomp_fd: int | None = None) -> list[str]:
    """bwrap's arguments (without "bwrap") to run ``inner``, a list whose first item is
    "python": this Python as the sandbox sees it. ``mode``: "setuid" or "userns"."""
    return bubblewrap.command(scratch, inner, limits, mode, WORKER, seccomp_fd)


def start_bubblewrap(scratch: str | os.PathLike[str], inner: list[str], limits: Limits, mode: str,
                     pass_fds: Iterable[int], **popen: Any) -> SandboxProcess:
    """Start ``inner`` in bubblewrap; returns a SandboxProcess (see bubblewrap.launch)."""
    program = seccomp.program() if seccomp.supported() else None
    return bubblewrap.launch(
        lambda seccomp_fd: bubblewrap_command(scratch, inner, limits, mode, seccomp_fd),
        len(inner), program, pass_fds, SandboxProcess, **popen)
