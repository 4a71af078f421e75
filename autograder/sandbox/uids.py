"""Sandbox uids: who student code runs as when the grader is root, and ending a uid's
processes.

A sandbox uid is ``UID_BASE`` and up (``next_uid``), far above any account's or container's
range: one per student process in bubblewrap's setuid mode, one per scratch folder in
rlimits mode (``rlimits_identity``), unless ``$AUTOGRADER_SANDBOX_USER`` names the account
to use there (``sandbox_user``; e.g. the Gradescope bundle's ``nnstudent``). ``give`` makes
a scratch folder that uid's own; ``kill_uid`` kills every process of a uid, those that left
the sandbox's process group included. The worker makes the switch itself, before any student
code runs; ``autograder.sandbox.launch`` decides when."""

import itertools
import os
import pwd
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path

SANDBOX_USER_ENV = "AUTOGRADER_SANDBOX_USER"  # rlimits as root: run student code as this account
UID_BASE = 1 << 30    # sandbox uids: far above any account's or container's range
_uid_counter = itertools.count()
_scratch_identities: dict[str, tuple[int, int]] = {}  # rlimits as root: scratch -> (uid, gid)


def next_uid() -> int:
    """A sandbox uid (``UID_BASE`` and up): unique while this grader has at most 64
    sandboxes at once."""
    return UID_BASE + ((os.getpid() & 0x3FFFFF) << 6) + next(_uid_counter) % 64


def sandbox_user() -> tuple[str, int, int] | None:
    """(who, uid, gid) for ``$AUTOGRADER_SANDBOX_USER``: an account's name (the Gradescope
    bundle's ``nnstudent``; who is "user NAME (uid N)") or a number (the uid and gid; who
    is "uid N"). None when unset, unknown, or root's uid or gid. Only for graders that run
    one sandbox at a time: its processes are killed by uid."""
    name = os.environ.get(SANDBOX_USER_ENV, "")
    if name.isdigit():
        uid = gid = int(name)
        who = f"uid {uid}"
    else:
        try:
            entry = pwd.getpwnam(name) if name else None
        except KeyError:
            entry = None
        if entry is None:
            return None
        uid, gid, who = entry.pw_uid, entry.pw_gid, f"user {entry.pw_name} (uid {entry.pw_uid})"
    if uid == 0 or gid == 0 or uid >= 1 << 32 or gid >= 1 << 32:
        return None
    return who, uid, gid


def rlimits_identity(scratch: str | os.PathLike) -> tuple[int, int]:
    """(uid, gid) for the student processes of ``scratch``: ``sandbox_user``'s, else a
    sandbox uid of its own, the same for every restart of that submission (so its files
    stay its own)."""
    named = sandbox_user()
    if named is not None:
        return named[1], named[2]
    key = os.path.abspath(scratch)
    if key not in _scratch_identities:
        while len(_scratch_identities) >= 64:  # submissions graded long ago
            _scratch_identities.pop(next(iter(_scratch_identities)))
        uid = next_uid()
        _scratch_identities[key] = (uid, uid)
    return _scratch_identities[key]


def forget_identity(scratch: str | os.PathLike) -> None:
    """Drop ``scratch``'s uid from those ``rlimits_identity`` keeps (a probe's folder)."""
    _scratch_identities.pop(os.path.abspath(scratch), None)


def give(scratch: Path, uid: int, gid: int) -> None:
    """Make ``scratch`` (0700) and what it holds the sandbox uid's. Symbolic links are
    neither followed nor changed, and a file with more than one link is left alone (a
    hard link to someone else's file must not become the student's)."""
    for where, folders, files in os.walk(scratch):
        for name in [*folders, *files]:
            path = os.path.join(where, name)
            status = os.lstat(path)
            if stat.S_ISDIR(status.st_mode) or (stat.S_ISREG(status.st_mode)
                                                and status.st_nlink == 1):
                os.chown(path, uid, gid, follow_symlinks=False)
    os.chown(scratch, uid, gid)
    os.chmod(scratch, 0o700)


def _processes(match: Callable[[int], bool]) -> list[int]:
    """Live processes (not zombies, not this one) whose real, effective or saved uid
    satisfies ``match``, from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle.read().splitlines()
                              if ":" in line)
        except OSError:  # gone meanwhile
            continue
        uids = fields.get("Uid", "").split()[:3]
        state = fields.get("State", "").strip()[:1]
        if state not in ("Z", "X") and any(match(int(uid)) for uid in uids):
            found.append(int(name))
    return found


def kill_until_gone(find: Callable[[], list[int]], seconds: float = 10.0) -> bool:
    """SIGKILL every process ``find()`` lists, again and again until it lists none (processes
    forked meanwhile included); True when none is left within ``seconds``. Only root may
    kill other users' processes."""
    deadline = time.monotonic() + seconds
    while True:
        found = find()
        if not found:
            return True
        if time.monotonic() > deadline:
            return False
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)


def kill_processes(match: Callable[[int], bool], seconds: float = 10.0) -> bool:
    """SIGKILL every process whose uid satisfies ``match`` (see ``_processes``) until none
    is left; see ``kill_until_gone``."""
    return kill_until_gone(lambda: _processes(match), seconds)


def kill_uid(uid: int, seconds: float = 10.0) -> bool:
    """``pkill -KILL -U uid`` until none is left; see ``kill_processes``."""
    return kill_processes(lambda found: found == uid, seconds)
