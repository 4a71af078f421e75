"""Starting the student process inside a sandbox, with limits.

Isolation, strongest available first:

- ``bubblewrap``: (Debian package ``bubblewrap``; no daemon, no root needed) new mount,
  PID, network, IPC, UTS and user namespaces, all capabilities dropped. The process sees
  only /usr, the Python installation, the student helper package ``nnlab`` and the worker
  script (all read-only); /tmp, /dev/shm and its working folder /scratch are size-capped
  tmpfs (memory, not disk), with the submission's extra files bound read-only into
  /scratch. No network interface but loopback; no access to solutions/, the tests or
  other submissions.
- ``rlimits``: when bubblewrap is missing or does not work here. The same resource
  limits, but the process runs as the grading user: it can read and write what that user
  can (it gets a private copy of nnlab) and open network connections. A warning says so.

Resource limits (both modes, set with setrlimit before exec): address space
(``memory``), CPU seconds, size of any file written, no core dumps, 256 open files.
Wall-clock limits are enforced by the grader, which kills the process.
"""

import ctypes
import dataclasses
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder import config

WORKER = Path(__file__).with_name("worker.py")
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
GIB = 1 << 30


@dataclasses.dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 * GIB     # address space of the student process
    cpu_seconds: int = 900          # CPU time of one student process
    file_bytes: int = 64 << 20      # largest file the student code may write
    cell_seconds: float = 60.0      # wall time to run one notebook cell
    notebook_seconds: float = 600.0  # wall time for a whole submission, restarts included
    call_seconds: float = 10.0      # default wall time of one call (tests may raise it)
    scratch_bytes: int = 256 << 20  # size of the student's writable folder (bubblewrap: tmpfs)
    tmp_bytes: int = 64 << 20       # size of /tmp and /dev/shm each (bubblewrap: tmpfs)


def _set_limits(limits):
    os.setsid()  # own process group: the grader kills the whole group
    _die_with_parent()
    for name, value in ((resource.RLIMIT_AS, limits.memory_bytes),
                        (resource.RLIMIT_CPU, limits.cpu_seconds),
                        (resource.RLIMIT_FSIZE, limits.file_bytes),
                        (resource.RLIMIT_CORE, 0),
                        (resource.RLIMIT_NOFILE, 256)):
        resource.setrlimit(name, (value, value))


def _load_prctl():
    # Loaded once, at import: dlopen must not run between fork and exec (preexec_fn).
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the grader's own kill still applies
        return None


_PRCTL = _load_prctl()


def _die_with_parent():
    """Linux: SIGKILL this process when the process that started it dies (what bwrap's
    --die-with-parent does), so a grading process killed mid-way leaves no orphan."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _readonly_system_binds():
    binds = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/lib", "/lib64", "/sbin"):
        path = Path(top)
        if path.is_symlink():
            binds += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            binds += ["--ro-bind", top, top]
    for prefix in sorted({sys.base_prefix, sys.prefix,
                          str(Path(os.path.realpath(sys.executable)).parent.parent)}):
        if not prefix.startswith("/usr/"):
            binds += ["--ro-bind", prefix, prefix]
    return binds


def _scratch_binds(scratch):
    """The submission's extra files, read-only, inside the tmpfs /scratch."""
    binds = []
    for path in sorted(Path(scratch).rglob("*")):
        if path.is_file() and not path.is_symlink():
            binds += ["--ro-bind", str(path), f"/scratch/{path.relative_to(scratch).as_posix()}"]
    return binds


def bubblewrap_command(scratch, read_fd, write_fd, limits=Limits()):
    # Mount order matters: /tmp and /dev first, so that a Python installation that lives
    # under /tmp (a clone in a temporary folder) is bound on top of them, not hidden.
    return ["bwrap", "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
            "--size", str(limits.tmp_bytes), "--tmpfs", "/dev/shm",
            *_readonly_system_binds(),
            "--ro-bind", str(config.STUDENT_PACKAGE), "/grader/lib/nnlab",
            "--ro-bind", str(WORKER), "/grader/worker.py",
            "--size", str(limits.scratch_bytes), "--tmpfs", "/scratch",
            *_scratch_binds(scratch), "--chdir", "/scratch",
            "--setenv", "PYTHONPATH", "/grader/lib", "--setenv", "HOME", "/scratch",
            "--setenv", "MPLCONFIGDIR", "/scratch/.matplotlib",
            sys.executable, "-B", "-s", "/grader/worker.py", str(read_fd), str(write_fd)]


@functools.lru_cache(maxsize=None)
def bubblewrap_works():
    """True when bwrap exists and can start a trivial sandbox here."""
    if shutil.which("bwrap") is None:
        return False
    with tempfile.TemporaryDirectory() as scratch:
        command = bubblewrap_command(scratch, 0, 1)
        command[command.index(sys.executable):] = [sys.executable, "-c", "import numpy"]
        try:
            done = subprocess.run(command, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0


def isolation_mode(requested="auto"):
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


def environment():
    env = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL") if key in os.environ}
    env.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def _student_library(scratch):
    """rlimits mode: a private copy of nnlab beside scratch (student code runs as this user
    and must not edit ours). Copied to a temporary name and renamed, so a copy that failed
    halfway is never used."""
    libs = Path(scratch).parent / "lib"
    if not libs.exists():
        partial = Path(tempfile.mkdtemp(dir=Path(scratch).parent, prefix=".lib-"))
        try:
            shutil.copytree(config.STUDENT_PACKAGE, partial / "nnlab",
                            ignore=shutil.ignore_patterns("__pycache__"))
            os.rename(partial, libs)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return libs


def start(scratch, limits, isolation, stderr_path=None):
    """Start the worker; returns (Popen, requests fd, replies fd).

    The requests fd is non-blocking: the runner writes to it under ``select``. The
    sandbox's own error output (bwrap's, or Python's before the worker runs) goes to
    ``stderr_path`` when given.
    """
    env = environment()
    if isolation != "bubblewrap":
        env.update({"PYTHONPATH": str(_student_library(scratch)), "HOME": str(scratch),
                    "MPLCONFIGDIR": str(Path(scratch) / ".matplotlib")})
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    stderr = None
    try:
        if isolation == "bubblewrap":
            command = bubblewrap_command(scratch, to_worker_r, from_worker_w, limits)
        else:
            command = [sys.executable, "-B", "-s", str(WORKER), str(to_worker_r), str(from_worker_w)]
        stderr = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
        process = subprocess.Popen(
            command, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=stderr,
            pass_fds=(to_worker_r, from_worker_w),
            preexec_fn=functools.partial(_set_limits, limits))
    except BaseException:
        os.close(to_worker_w)
        os.close(from_worker_r)
        raise
    finally:
        os.close(to_worker_r)
        os.close(from_worker_w)
        if stderr not in (None, subprocess.DEVNULL):
            stderr.close()
    os.set_blocking(to_worker_w, False)
    return process, to_worker_w, from_worker_r
