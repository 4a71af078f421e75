"""Starting the student process inside a sandbox, with limits.

Isolation, strongest available first (``autograder.sandbox.isolation`` chooses among the
backends of ``autograder.sandbox.backend``; ``probes`` has their self-checks):

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

  - as root (``probes.rlimits_uid_mode``, after a self-check like bubblewrap's probe): the
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
any file written, no core dumps, 256 open files. ``isolation.describe`` says which are in force
and warns about what is missing. Wall-clock limits are enforced by the grader, which
kills the process (``stop``).
"""

import functools
import os
import signal
import subprocess
from typing import IO, Any

# Limits and SandboxProcess are defined below (no import cycle); callers import them from here.
from autograder.sandbox import cgroups, isolation as sandbox_isolation, spawn
from autograder.sandbox import uids as sandbox_uid
from autograder.sandbox.limits import GIB, Limits
from autograder.sandbox.spawn import SandboxProcess
# Many callers import isolation_mode from here; the rest of the choice is in isolation.
from autograder.sandbox.isolation import isolation_mode  # noqa: F401

AS_HEADROOM = GIB     # with a cgroup: address space = memory limit + this (see start)


# -- starting and stopping ----------------------------------------------------------------
def start(scratch: str | os.PathLike, limits: Limits, isolation: str,
          stderr_path: str | os.PathLike | None = None) -> tuple[SandboxProcess, int, int]:
    """Start the worker; returns (SandboxProcess, requests fd, replies fd).

    The requests fd is non-blocking: the runner writes to it under ``select``. The
    sandbox's own error output (bwrap's, or Python's before the worker runs) goes to
    ``stderr_path`` when given. The process is in its own cgroup when one can be made;
    ``stop`` ends it and removes the cgroup.
    """
    backend = sandbox_isolation.backend(isolation)
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
            preexec_fn=functools.partial(spawn.set_limits, limits, join_fds, address_space))
        process = backend.start(scratch, limits, (to_worker_r, from_worker_w), popen)
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
