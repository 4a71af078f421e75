"""Who made an inbound folder: its owner's user name against the student id in its name.

nbgrader's ``inbound/`` is writable by every user, and the student id is just the first
part of the folder's name: anyone can submit under anyone's name. Where each student is a
Unix user named by their student id (JupyterHub with local users: LocalProcessSpawner,
SystemdSpawner, ``nbgrader submit`` from a shell), the folder's owner says who really
made it: a user cannot make a folder owned by another. ``check`` compares the two.

``owner_check`` in course.toml's ``[serve]`` table (``OWNER_CHECK`` values):

- ``"auto"`` (the default): checked when the student id names a login user of this system
  (a user with a uid of at least ``FIRST_LOGIN_UID``, not ``nobody``): such a student
  submits as themselves, so a folder for them owned by anyone else is forged. A folder
  owned by root or by the service's own user (an instructor submitting for a student) is
  not refused. Where student ids are not user names here (containers sharing one uid,
  ids from an LTI or OAuth login), nothing is checked: there is nothing to check against.
- ``"on"``: every folder's owner must be the user named as its student id (root's too).
- ``"off"``: never checked.
"""

from __future__ import annotations

import itertools
import os
import pwd
import stat
from pathlib import Path

from autograder.serve.watch import MAX_LISTED

OWNER_CHECK = ("auto", "on", "off")
FIRST_LOGIN_UID = 1000  # login.defs' UID_MIN on Debian and most other systems
NOBODY = 65534


def _user(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def login_user(name: str) -> bool:
    """Whether ``name`` is a login user of this system (not root, a system account or
    ``nobody``)."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return False
    return FIRST_LOGIN_UID <= uid != NOBODY


def applies(mode: str, owner: int, student: str, service_uid: int) -> bool:
    """Whether a folder owned by ``owner`` and named for ``student`` is checked in
    ``mode``, the service running as ``service_uid``."""
    assert mode in OWNER_CHECK, f"owner_check must be one of {OWNER_CHECK}, got {mode!r}"
    if mode != "auto":
        return mode == "on"
    return owner not in (0, service_uid) and login_user(student)


def check(folder: Path, student: str, mode: str, service_uid: int | None = None) -> str | None:
    """Why ``folder`` (an inbound folder, not followed if a link) may not be ``student``'s
    (None when it may): it, or an entry at its top, belongs to a user other than the one
    named ``student``."""
    service_uid = os.geteuid() if service_uid is None else service_uid
    try:
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode):
            return None  # a link or a file: never followed, refused by the copy
        owner = info.st_uid
        with os.scandir(folder) as entries:
            owners = {owner} | {entry.stat(follow_symlinks=False).st_uid
                                for entry in itertools.islice(entries, MAX_LISTED)}
    except OSError:
        return None  # not readable: the copy says so
    if not applies(mode, owner, student, service_uid):
        return None
    strangers = sorted(uid for uid in owners if _user(uid) != student)
    if not strangers:
        return None
    return (f"it was submitted by another user account ({_user(strangers[0]) or strangers[0]}) "
            f"than the student it names; only a student's own account can submit for them")
