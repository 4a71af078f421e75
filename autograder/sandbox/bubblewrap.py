"""The bubblewrap command line for the student process, and starting it.

``command`` builds bwrap's arguments for one of the two modes ``autograder.sandbox.launch``
chooses between ("setuid" when grading as root, "userns" otherwise; see there), and
``launch`` starts bwrap with those options on a file descriptor (``--args``) so that the
command line of the sandbox's process 1 names no host path.
"""

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from autograder import config
from autograder.sandbox.limits import Limits

P = TypeVar("P")  # the process class ``launch`` starts

WIRE = Path(__file__).with_name("wire.py")  # the worker's wire codec, bound beside it


def _folders(path: str | Path, made: set[str]) -> list[str]:
    """bwrap arguments making ``path`` and its missing parents with mode 0755 (bwrap
    would make them 0700, which a sandbox uid could not enter); ``made`` is updated."""
    args = []
    for parent in reversed([Path(path), *Path(path).parents][:-1]):
        if str(parent) not in made:
            made.add(str(parent))
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def python_binds() -> tuple[list[str], str]:
    """(bwrap binds, interpreter path inside) for this Python. A virtual environment is
    bound at /grader/venv, so that the repository's path does not appear in the sandbox;
    the base installation stays at its own path, where the environment's pyvenv.cfg
    points."""
    made = {"/", "/usr", "/tmp", "/dev", "/grader"}
    binds = []
    for prefix in sorted({os.path.realpath(sys.base_prefix),
                          str(Path(os.path.realpath(sys.executable)).parent.parent)}):
        if not prefix.startswith("/usr/"):
            binds += [*_folders(Path(prefix).parent, made), "--ro-bind", prefix, prefix]
    # normalised: a grader started as tests/../.venv/bin/python is still in its venv
    executable, prefix = Path(os.path.abspath(sys.executable)), os.path.abspath(sys.prefix)
    if sys.prefix != sys.base_prefix and executable.is_relative_to(prefix):
        binds += ["--ro-bind", prefix, "/grader/venv"]
        return binds, str("/grader/venv" / executable.relative_to(prefix))
    return binds, os.path.realpath(sys.executable)


def system_binds() -> list[str]:
    """/usr, read-only, and /bin, /lib, /lib64, /sbin as the host has them."""
    binds = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/lib", "/lib64", "/sbin"):
        path = Path(top)
        if path.is_symlink():
            binds += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            binds += ["--ro-bind", top, top]
    return binds


def scratch_binds(scratch: str | os.PathLike[str]) -> list[str]:
    """The submission's extra files, read-only, inside the tmpfs /scratch."""
    binds, made = [], {"/scratch"}
    for path in sorted(Path(scratch).rglob("*")):
        if path.is_file() and not path.is_symlink():
            target = f"/scratch/{path.relative_to(scratch).as_posix()}"
            binds += [*_folders(Path(target).parent, made), "--ro-bind", str(path), target]
    return binds


@functools.lru_cache(maxsize=None)
def has_option(option: str) -> bool:
    """True when this bwrap knows ``option`` (e.g. --disable-userns, new in 0.8)."""
    try:
        return option in subprocess.run(["bwrap", "--help"], capture_output=True,
                                        text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False


def command(scratch: str | os.PathLike[str], inner: list[str], limits: Limits, mode: str,
            worker: str | os.PathLike[str], seccomp_fd: int | None = None) -> list[str]:
    """bwrap's arguments (without "bwrap") to run ``inner``, a list whose first item
    "python" stands for this Python as the sandbox sees it. ``limits``: sizes of the
    tmpfs folders; ``worker``: the script bound at /grader/student_process.py; ``seccomp_fd``:
    a file descriptor holding the filter to load (see autograder.sandbox.seccomp)."""
    python_args, python = python_binds()
    if mode == "setuid":  # no user namespace; the worker gives up its uid with these
        identity = ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                    "--cap-add", "CAP_SETPCAP"]
    elif mode == "userns":
        identity = ["--unshare-user", "--cap-drop", "ALL"]
        if has_option("--disable-userns"):
            identity.append("--disable-userns")
    else:
        raise ValueError(f"unknown bubblewrap mode {mode!r}")
    # Mount order matters: /tmp and /dev first, so that a Python installation that lives
    # under /tmp is bound on top of them, not hidden.
    return ["--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid",
            "--unshare-net", "--unshare-uts", "--unshare-cgroup-try", *identity,
            *(["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []),
            "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
            "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/dev/shm",
            *system_binds(), "--perms", "0755", "--dir", "/grader", *python_args,
            "--perms", "0755", "--dir", "/grader/lib",
            "--ro-bind", str(config.STUDENT_PACKAGE), "/grader/lib/nnlab",
            "--ro-bind", str(worker), "/grader/student_process.py",
            "--ro-bind", str(WIRE), "/grader/wire.py",
            "--perms", "1777", "--size", str(limits.scratch_bytes), "--tmpfs", "/scratch",
            *scratch_binds(scratch), "--chdir", "/scratch",
            python if inner[0] == "python" else inner[0], *inner[1:]]


def data_fd(data: bytes) -> int:
    """A file descriptor reading ``data`` from its start (a memfd: no size limit)."""
    fd = os.memfd_create("autograder", os.MFD_CLOEXEC)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def launch(make_arguments: Callable[[int | None], list[str]], inner_length: int,
           seccomp_program: bytes | None, pass_fds: Iterable[int],
           popen_class: Callable[..., P], **popen: Any) -> P:
    """Start bwrap: ``make_arguments(seccomp_fd)`` gives its arguments, of which the last
    ``inner_length`` are the command to run. The options go on a file descriptor
    (``--args``: bwrap reads only options there), so process 1 in the sandbox, bwrap's
    reaper, shows "bwrap --args N -- COMMAND" as its command line."""
    extra = []
    try:
        if seccomp_program is not None:
            extra.append(data_fd(seccomp_program))
        arguments = make_arguments(extra[0] if extra else None)
        options, inner = arguments[:-inner_length], arguments[-inner_length:]
        extra.append(data_fd(b"".join(arg.encode() + b"\0" for arg in options)))
        return popen_class([shutil.which("bwrap") or "bwrap", "--args", str(extra[-1]), "--",
                            *inner], pass_fds=(*pass_fds, *extra), **popen)
    finally:
        for fd in extra:
            os.close(fd)
