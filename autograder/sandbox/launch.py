"""Starting the student process inside a sandbox, with limits.

Isolation, strongest available first:

- ``bubblewrap`` (Debian package ``bubblewrap``, 0.5 or newer; no daemon): new mount, PID,
  network, IPC, UTS and cgroup namespaces. The process sees only /usr, the Python
  installation, the student helper package ``nnlab``, the worker script and its wire codec (all
  read-only); /tmp, /dev/shm and its working folder /scratch are size-capped tmpfs
  (memory, not disk), with the submission's extra files bound read-only into /scratch.
  No network interface but loopback; no access to solutions/, the tests or other
  submissions. A seccomp filter (``autograder.sandbox.seccomp``) refuses new namespaces, mounts
  and chroot. Who the process is depends on who grades:

  - as root (``setuid`` mode): bubblewrap runs without a user namespace, keeping only the
    capabilities to change user, and the worker switches to a uid and gid of its own
    (``autograder.sandbox.uids``: ``UID_BASE`` and up, one per student process, in no group)
    before it says "ready": no capabilities at all, and ``RLIMIT_NPROC`` counts only that
    sandbox's processes;
  - otherwise (``userns`` mode): a user namespace mapping the grading user, all
    capabilities dropped, ``--disable-userns`` where bubblewrap has it.
    ``RLIMIT_NPROC`` counts per user namespace on Linux 5.14 and later, so it is set
    there; on older kernels it would count all the grading user's processes, so it is not.

  /proc/1 inside is bubblewrap's reaper, started as ``bwrap --args FD`` with a minimal
  environment, so neither its command line nor its environment names host paths.
- ``rlimits``: when bubblewrap is missing or does not work here. The same resource
  limits, no namespaces: the process sees the host's files and network. Who it is:

  - as root (``rlimits_uid_mode``, after a self-check like bubblewrap's probe): the
    worker switches, before any student code, to a uid and gid of its own, as in
    bubblewrap's setuid mode (``UID_BASE`` and up, one per scratch folder; or the account
    named by ``$AUTOGRADER_SANDBOX_USER``, e.g. the Gradescope bundle's ``nnstudent``):
    no capabilities, ``no_new_privs``, ``RLIMIT_NPROC``. It can read what any user can
    (the worker and its codec are copied beside the scratch folder, the grader's temporary
    folder is 0711), write only its scratch folder, /tmp and what any user can, and
    signal only its own processes; ``stop`` kills every process of that uid
    (``sandbox_uid.kill_uid``). When the self-check fails (e.g. the Python installation is
    not readable by other users) the process runs as root, with a warning;
  - otherwise it runs as the grading user: it can read and write what that user can (it
    gets a private copy of nnlab) and signal the grader. A warning says so.

Limits, every mode: per student process and everything it starts, where a cgroup can be
made (``autograder.sandbox.cgroups``; e.g. when grading as root): ``memory`` bytes in all (tmpfs
files included; the kernel's OOM killer ends a process that would pass it, see
``out_of_memory``) and ``processes``. Per process (setrlimit before exec): address space
(``memory``, plus ``AS_HEADROOM`` when a cgroup bounds the total), CPU seconds, size of
any file written, no core dumps, 256 open files. ``describe`` says which are in force
and warns about what is missing. Wall-clock limits are enforced by the grader, which
kills the process (``stop``).
"""

import ctypes
import functools
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from autograder import config
# Limits is defined below sandbox and bubblewrap (no import cycle); import it from here.

from autograder.sandbox import bubblewrap, cgroups, seccomp, uids as sandbox_uid
from autograder.sandbox.limits import GIB, Limits

WORKER = Path(__file__).with_name("student_process.py")
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
AS_HEADROOM = GIB     # with a cgroup: address space = memory limit + this (see start)


class SandboxProcess(subprocess.Popen):
    """The sandbox's top process; ``cgroup`` is its ``cgroups.Cgroup`` (or None), ``uid``
    the uid student code runs as when it is one of its own (rlimits as root), else None."""
    cgroup: cgroups.Cgroup | None = None
    uid: int | None = None


def _set_limits(limits: Limits, cgroup_fds: Iterable[int] = (),
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


# -- the bubblewrap command -------------------------------------------------------------
def _worker_args(mode: str, read_fd: int, write_fd: int, limits: Limits) -> list[str]:
    """The worker's command-line arguments after its path (see worker.main)."""
    args = [str(read_fd), str(write_fd)]
    if mode == "setuid":
        args.append(f"uid={sandbox_uid.next_uid()}")
    if mode == "setuid" or _nproc_per_namespace():
        args.append(f"processes={limits.processes}")
    return args


def _nproc_per_namespace() -> bool:
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


def _bubblewrap(scratch: str | os.PathLike[str], inner: list[str], limits: Limits, mode: str,
                pass_fds: Iterable[int], **popen: Any) -> SandboxProcess:
    """Start ``inner`` in bubblewrap; returns a SandboxProcess (see bubblewrap.launch)."""
    program = seccomp.program() if seccomp.supported() else None
    return bubblewrap.launch(
        lambda seccomp_fd: bubblewrap_command(scratch, inner, limits, mode, seccomp_fd),
        len(inner), program, pass_fds, SandboxProcess, **popen)


# -- which isolation ----------------------------------------------------------------------
_PROBE_NOTES: dict[str, str] = {}


def _probe(mode: str) -> str | None:
    """Start the worker's self-check (``--check``: drop privileges, import numpy and
    nnlab, write to /scratch and /tmp) in a sandbox of this mode; None or what failed."""
    with tempfile.TemporaryDirectory() as scratch:
        inner = ["python", "-B", "-s", "/grader/student_process.py", "--check",
                 *_worker_args(mode, 0, 1, Limits())[2:]]
        try:
            process = _bubblewrap(scratch, inner, Limits(), mode, (), env=environment(True),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT,
                                  preexec_fn=functools.partial(_set_limits, Limits()))
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


# -- rlimits as root: a uid of its own ----------------------------------------------------
def _readable_tree(folder: Path) -> None:
    """Folders 0755 and files 0644 (0755 if executable) under ``folder``, which the grader
    made: what a sandbox uid runs must be readable by other users."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or path.stat().st_mode & 0o100
        path.chmod(0o755 if executable else 0o644)


def _grader_files(parent: Path) -> Path:
    """rlimits as root: a copy of the worker script and its wire codec in
    ``parent/grader`` (0755), readable by the sandbox uid, which cannot read
    ``autograder/``; returns the folder. Made once per grading folder, under a temporary
    name then renamed, like ``_student_library``."""
    folder = parent / "grader"
    if not folder.exists():
        partial = Path(tempfile.mkdtemp(dir=parent, prefix=".grader-"))
        try:
            for source in (WORKER, bubblewrap.WIRE):
                shutil.copyfile(source, partial / source.name)
            _readable_tree(partial)
            os.rename(partial, folder)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return folder


def _prepare_rlimits_uid(scratch: str | os.PathLike, uid: int, gid: int) -> Path:
    """Before starting student code as ``uid``: the grading folder (``scratch``'s parent)
    0711, so that the uid reaches its scratch folder but cannot list its neighbours; nnlab's
    copy and the worker's readable; ``scratch`` the uid's own. Returns the worker to run."""
    scratch = Path(scratch)
    os.chmod(scratch.parent, 0o711)
    _student_library(scratch)
    worker = _grader_files(scratch.parent) / WORKER.name
    sandbox_uid.give(scratch, uid, gid)
    return worker


def _rlimits_environment(scratch: str | os.PathLike) -> dict[str, str]:
    """The student process's environment in rlimits mode."""
    return dict(environment(), PYTHONPATH=str(_student_library(scratch)), HOME=str(scratch),
                MPLCONFIGDIR=str(Path(scratch) / ".matplotlib"))


def _probe_rlimits_uid() -> str | None:
    """Start the worker's self-check (``--check``) as a sandbox uid in rlimits mode; None or
    what failed."""
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as folder:
        scratch = Path(folder) / "scratch"
        scratch.mkdir()
        uid, gid = sandbox_uid.rlimits_identity(scratch)
        try:
            worker = _prepare_rlimits_uid(scratch, uid, gid)
            process = SandboxProcess(
                [sys.executable, "-B", "-s", str(worker), "--check", f"uid={uid}",
                 f"gid={gid}", f"processes={Limits().processes}"],
                cwd=scratch, env=_rlimits_environment(scratch), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                preexec_fn=functools.partial(_set_limits, Limits()))
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
                            mode == "userns" and os.geteuid() != 0 and _nproc_per_namespace())
                           else "not at all"))
    else:
        line += (f"; {found.describe()}: {limits.memory_bytes >> 20} MiB in all"
                 + (f" and {limits.processes} processes" if len(found.folders) > 1 else "")
                 + " per student process")
    return line, warnings


def environment(sandboxed: bool = False) -> dict[str, str]:
    """The student process's environment; inside bubblewrap it names no host path."""
    env = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL") if key in os.environ}
    env.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"})
    if sandboxed:
        env.update({"PATH": SAFE_PATH, "PYTHONPATH": "/grader/lib", "HOME": "/scratch",
                    "MPLCONFIGDIR": "/scratch/.matplotlib"})
    return env


def _student_library(scratch: str | os.PathLike) -> Path:
    """rlimits mode: a private copy of nnlab beside scratch (student code runs as this user
    and must not edit ours). Copied to a temporary name and renamed, so a copy that failed
    halfway is never used."""
    libs = Path(scratch).parent / "lib"
    if not libs.exists():
        partial = Path(tempfile.mkdtemp(dir=Path(scratch).parent, prefix=".lib-"))
        try:
            shutil.copytree(config.STUDENT_PACKAGE, partial / "nnlab",
                            ignore=shutil.ignore_patterns("__pycache__"))
            _readable_tree(partial)  # a sandbox uid imports it (rlimits as root)
            os.rename(partial, libs)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return libs


# -- starting and stopping ----------------------------------------------------------------
def start(scratch: str | os.PathLike, limits: Limits, isolation: str,
          stderr_path: str | os.PathLike | None = None) -> tuple[SandboxProcess, int, int]:
    """Start the worker; returns (SandboxProcess, requests fd, replies fd).

    The requests fd is non-blocking: the runner writes to it under ``select``. The
    sandbox's own error output (bwrap's, or Python's before the worker runs) goes to
    ``stderr_path`` when given. The process is in its own cgroup when one can be made;
    ``stop`` ends it and removes the cgroup.
    """
    mode = bubblewrap_mode() if isolation == "bubblewrap" else None
    identity = (sandbox_uid.rlimits_identity(scratch) if mode is None and rlimits_uid_mode()
                else None)
    made = cgroups.make(limits.memory_bytes, limits.processes)
    group = None if isinstance(made, str) else made
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    stderr: IO[bytes] | int | None = None
    join_fds: list[int] = []
    try:
        join_fds = group.join_files() if group else []
        stderr = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
        # With a cgroup bounding real memory, the address space limit only turns absurd
        # requests into MemoryError: the interpreter maps far more than it uses, and one
        # process may then use most of the limit. Without one, it is the limit.
        address_space = limits.memory_bytes + (AS_HEADROOM if group else 0)
        popen: dict[str, Any] = dict(
            cwd=scratch, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            preexec_fn=functools.partial(_set_limits, limits, join_fds, address_space))
        if mode is not None:
            inner = ["python", "-B", "-s", "/grader/student_process.py",
                     *_worker_args(mode, to_worker_r, from_worker_w, limits)]
            if mode == "setuid":  # the sandbox uid must be able to read its own files
                for path in Path(scratch).rglob("*"):
                    if path.is_file() and not path.is_symlink():
                        path.chmod(path.stat().st_mode | 0o444)
            process = _bubblewrap(scratch, inner, limits, mode, (to_worker_r, from_worker_w),
                                  env=environment(True), **popen)
        else:
            worker, options = WORKER, []
            if identity is not None:  # as root: the worker becomes that uid first
                worker = _prepare_rlimits_uid(scratch, *identity)
                options = [f"uid={identity[0]}", f"gid={identity[1]}",
                           f"processes={limits.processes}"]
            process = SandboxProcess(
                [sys.executable, "-B", "-s", str(worker), str(to_worker_r), str(from_worker_w),
                 *options], env=_rlimits_environment(scratch),
                pass_fds=(to_worker_r, from_worker_w), **popen)
            process.uid = identity[0] if identity is not None else None
        process.cgroup = group
    except BaseException:
        os.close(to_worker_w)
        os.close(from_worker_r)
        if group:
            group.remove()
        raise
    finally:
        for fd in (to_worker_r, from_worker_w, *join_fds):
            os.close(fd)
        if stderr not in (None, subprocess.DEVNULL):
            stderr.close()  # type: ignore[union-attr]  # a file: not None, not DEVNULL
    os.set_blocking(to_worker_w, False)
    return process, to_worker_w, from_worker_r


def stop(process: SandboxProcess) -> int | None:
    """Kill the sandbox (its process group, then all of its cgroup, then every process of
    its own uid in rlimits mode as root), wait for it, and remove its cgroup. Returns the
    cgroup's peak memory in bytes, or None."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    group = getattr(process, "cgroup", None)
    peak = None
    if group is not None:
        group.kill()
        peak = group.peak_bytes()
    if getattr(process, "uid", None) is not None:
        sandbox_uid.kill_uid(process.uid)  # type: ignore[arg-type]  # not None (above)
    process.wait()
    if group is not None:
        group.remove()
        process.cgroup = None
    return peak


def out_of_memory(process: object) -> bool:
    """True when the kernel's OOM killer ended a process of this sandbox's cgroup."""
    group = getattr(process, "cgroup", None)
    return group is not None and group.oom_kills() > 0
