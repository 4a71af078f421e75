"""One control group per student process: memory and process count of the whole sandbox.

Resource limits (setrlimit) bound each process on its own, so a submission that forks
can use the limit once per process. A cgroup bounds them together: every process of the
sandbox, its threads, and what it writes to its tmpfs folders (/scratch, /tmp, /dev/shm
are charged to the cgroup as shared memory), with the kernel's OOM killer ending a
process when the total would pass the limit.

Where the grader may make a child of its own cgroup it uses, in this order:

- cgroup v2 with the ``memory`` controller delegated (``memory.max``, ``memory.swap.max``,
  ``pids.max``; OOM kills counted in ``memory.events``);
- cgroup v1 ``memory`` (``memory.limit_in_bytes``, ``memory.memsw.limit_in_bytes`` where
  swap accounting exists; OOM kills in ``memory.oom_control``) with ``pids`` when that
  hierarchy is mounted too.

Otherwise ``hierarchy()`` returns the reason, and the sandbox keeps its per-process limits.
The process joins its cgroup between fork and exec (``join`` writes "0", meaning "this
process", to ``cgroup.procs``), before anything of the sandbox runs.
"""

import dataclasses
import functools
import itertools
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

PREFIX = "autograder-"   # our cgroups: autograder-<pid namespace>-<grader pid>-<n>
MOUNTINFO = Path("/proc/self/mountinfo")
PROC_CGROUP = Path("/proc/self/cgroup")
_names = itertools.count()


@dataclasses.dataclass(frozen=True)
class Hierarchy:
    """Where child cgroups can be made: ``folders`` maps "memory" (always) and "pids"
    (when available) to the grader's own cgroup folder in that controller's hierarchy."""
    version: int
    folders: tuple[tuple[str, Path], ...]  # ((controller, folder), ...)

    def describe(self) -> str:
        controllers = "+".join(name for name, _ in self.folders)
        return f"cgroup v{self.version} ({controllers})"


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """[(fstype, mount root, mount point, super options)] of the cgroup file systems."""
    found = []
    for line in MOUNTINFO.read_text().splitlines():
        head, _, rest = line.partition(" - ")
        fields, tail = head.split(), rest.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((tail[0], fields[3], fields[4], set(tail[2].split(","))))
    return found


def _folder(point: str, root: str, path: str) -> Path:
    """The folder of cgroup ``path`` (as /proc/self/cgroup names it) under a mount."""
    relative = os.path.relpath(path, root) if root != "/" else path.lstrip("/")
    if relative.startswith(".."):
        raise OSError(f"the cgroup {path} is outside the mounted {root}")
    return Path(point) / ("" if relative == "." else relative)


def find_folders() -> dict[int, dict[str, Path]]:
    """{version: {controller: folder}} of the cgroups this process is in, per hierarchy."""
    memberships: dict[str, str] = {}
    for line in PROC_CGROUP.read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        if number == "0" and controllers == "":
            memberships["v2"] = path
        else:
            for controller in controllers.split(","):
                memberships[controller] = path
    folders: dict[int, dict[str, Path]] = {1: {}, 2: {}}
    for fstype, root, point, options in _mounts():
        if fstype == "cgroup2" and "v2" in memberships:
            for name in ("memory", "pids"):
                folders[2][name] = _folder(point, root, memberships["v2"])
        elif fstype == "cgroup":
            for name in ("memory", "pids"):
                if name in options and name in memberships:
                    folders[1][name] = _folder(point, root, memberships[name])
    return folders


def _v2_ready(folder: Path) -> bool:
    """Enable memory and pids for children of ``folder``; True when memory is on."""
    try:
        available = (folder / "cgroup.controllers").read_text().split()
        if "memory" not in available:
            return False
        enabled = (folder / "cgroup.subtree_control").read_text().split()
        wanted = [f"+{name}" for name in ("memory", "pids") if name in available
                  and name not in enabled]
        if wanted:
            (folder / "cgroup.subtree_control").write_text(" ".join(wanted))
        return "memory" in (folder / "cgroup.subtree_control").read_text().split()
    except OSError:  # not delegated to us, or processes in the folder (EBUSY)
        return False


def _owner() -> str:
    """<pid namespace>-<pid> of this process: unique on the machine while it lives."""
    return f"{os.stat('/proc/self/ns/pid').st_ino}-{os.getpid()}"


def _can_make_children(folder: Path, limit_file: str) -> bool:
    trial = folder / f"{PREFIX}{_owner()}-probe"
    try:
        trial.mkdir()
    except OSError:
        return False
    try:
        return (trial / limit_file).exists()
    finally:
        trial.rmdir()


@functools.lru_cache(maxsize=None)
def hierarchy() -> Hierarchy | str:
    """A ``Hierarchy`` where this process may make child cgroups, else a reason (str).

    Checked once per process; also removes empty cgroups left by graders that died.
    """
    try:
        folders = find_folders()
    except (OSError, ValueError) as exc:
        return f"cannot read this process's cgroups ({exc})"
    v2, v1 = folders[2], folders[1]
    if v2 and _v2_ready(v2["memory"]) and _can_make_children(v2["memory"], "memory.max"):
        version, chosen = 2, v2
    elif "memory" in v1 and _can_make_children(v1["memory"], "memory.limit_in_bytes"):
        version, chosen = 1, v1
    else:
        return ("no cgroup with a memory controller that this user may divide (cgroup v2 "
                "needs the memory controller delegated, e.g. systemd's Delegate=yes)")
    with_pids = "pids" in chosen and _can_make_children(chosen["pids"], "pids.max")
    found = Hierarchy(version, (("memory", chosen["memory"]),)
                      + ((("pids", chosen["pids"]),) if with_pids else ()))
    _remove_leftovers(found)
    return found


def _remove_leftovers(found: Hierarchy) -> None:
    """Remove the empty cgroups of graders of this PID namespace that have ended."""
    namespace = _owner().split("-")[0]
    for _, folder in found.folders:
        for child in folder.glob(f"{PREFIX}{namespace}-*"):
            owner = child.name.split("-")[2]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                try:
                    child.rmdir()
                except OSError:  # still has processes: left alone
                    pass


class Cgroup:
    """The cgroup of one student process (one folder per hierarchy used)."""

    def __init__(self, found: Hierarchy, memory_bytes: int, processes: int) -> None:
        """Make the folders and write the limits; raises OSError (nothing left behind)."""
        self.version = found.version
        name = f"{PREFIX}{_owner()}-{next(_names)}"
        self.folders: dict[str, Path] = {}
        try:
            for controller, parent in found.folders:
                folder = parent / name
                if folder not in self.folders.values():
                    folder.mkdir()
                self.folders[controller] = folder
            if self.version == 2:
                self._write("memory", "memory.max", memory_bytes)
                self._write("memory", "memory.swap.max", 0, optional=True)
            else:
                self._write("memory", "memory.limit_in_bytes", memory_bytes)
                self._write("memory", "memory.memsw.limit_in_bytes", memory_bytes, optional=True)
            if "pids" in self.folders:
                self._write("pids", "pids.max", processes)
        except OSError:
            self.remove()
            raise

    def _write(self, controller: str, file: str, value: int, optional: bool = False) -> None:
        path = self.folders[controller] / file
        if optional and not path.exists():
            return
        path.write_text(str(value))

    def _read(self, file: str) -> str:
        try:
            return (self.folders["memory"] / file).read_text()
        except OSError:
            return ""

    def join_files(self) -> list[int]:
        """fds of the ``cgroup.procs`` files, opened for ``join`` (the caller closes them)."""
        return [os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
                for folder in set(self.folders.values())]

    @staticmethod
    def join(fds: Iterable[int]) -> None:
        """Move the calling process into the cgroup (between fork and exec)."""
        for fd in fds:
            os.write(fd, b"0")

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer ended in this cgroup."""
        text = self._read("memory.events" if self.version == 2 else "memory.oom_control")
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def peak_bytes(self) -> int | None:
        """Most memory the cgroup held at once (None where the kernel does not say)."""
        text = self._read("memory.peak" if self.version == 2 else "memory.max_usage_in_bytes")
        return int(text) if text.strip().isdigit() else None

    def pids(self) -> set[int]:
        return {int(pid) for folder in set(self.folders.values())
                for pid in (folder / "cgroup.procs").read_text().split()}

    def kill(self, seconds: float = 5.0) -> None:
        """SIGKILL every process in the cgroup (new ones too) until it is empty, looking
        again after 1 ms, then 2, 4, 8 and every 10 ms (killed processes go within a few)."""
        deadline, pause = time.monotonic() + seconds, 0.001
        while time.monotonic() < deadline:
            try:
                pids = self.pids()
            except OSError:  # already removed
                return
            if not pids:
                return
            if self.version == 2 and (self.folders["memory"] / "cgroup.kill").exists():
                (self.folders["memory"] / "cgroup.kill").write_text("1")
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(pause)
            pause = min(2 * pause, 0.01)

    def remove(self) -> None:
        """Kill what is left and remove the folders (children first: v2 nests nothing)."""
        self.kill()
        for folder in set(self.folders.values()):
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY while the last processes exit
                    time.sleep(0.02)
        self.folders = {}


def make(memory_bytes: int, processes: int) -> Cgroup | str:
    """A new ``Cgroup`` with these limits, or the reason (str) why none can be made."""
    found = hierarchy()
    if isinstance(found, str):
        return found
    try:
        return Cgroup(found, memory_bytes, processes)
    except OSError as exc:
        return f"could not make a cgroup under {found.folders[0][1]} ({exc})"
