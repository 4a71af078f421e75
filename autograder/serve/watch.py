"""Watching nbgrader's inbound folder: which submissions are new and completely written.

``nbgrader submit`` (and the Assignments tab) copies the student's folder to
``<exchange>/<course>/inbound/<student>+<assignment>+<timestamp>+<random>/``, then writes
``timestamp.txt`` and, last, ``submission_secret.txt``. A folder counts as complete when
its secret is there, or (an older nbgrader, or a folder made by hand) when it has a
``timestamp.txt`` and its listing has not changed for ``settle`` seconds, or when it has not
changed for ``abandon`` seconds at all (it is then graded as it is, and its page says what
is missing). Everything in a folder name is the student's: it is parsed here and checked
before it is used (``parse_name``).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from pathlib import Path

from nbgrader.utils import parse_utc

from autograder.text import unsafe_id_reason
from autograder.text import display_name, is_plain_name

TIMESTAMP = "timestamp.txt"
SECRET = "submission_secret.txt"
MAX_LISTED = 1_000      # entries of one submission folder looked at for its signature
MAX_NAME = 255          # bytes of a folder name
MAX_TIMESTAMP = 100     # bytes read of timestamp.txt


@dataclasses.dataclass(frozen=True)
class FolderName:
    """What an inbound folder's name says: student, assignment, nbgrader's timestamp text;
    ``problem`` says why it cannot be used (then the others may be None)."""

    student: str | None
    assignment: str | None
    timestamp: str | None
    problem: str | None = None


def parse_name(name: str, assignments: tuple[str, ...]) -> FolderName:
    """Split ``<student>+<assignment>+<timestamp>[+<random>]`` and check each part: the
    student id must be one nbgrader's gradebook can hold and print (``unsafe_id_reason``)
    and the assignment one of ``assignments``."""
    parts = name.split("+")
    if len(parts) not in (3, 4) or len(os.fsencode(name)) > MAX_NAME:
        return FolderName(None, None, None, f"the folder name {display_name(name)} is not "
                          f"<student>+<assignment>+<timestamp>+<random> as nbgrader makes it")
    student, assignment, timestamp = parts[:3]
    reason = unsafe_id_reason(student) or (None if is_plain_name(student) else
                                           "the student id holds invisible characters")
    if reason:
        return FolderName(None, None, timestamp, f"the student id cannot be used: {reason}")
    if assignment not in assignments:
        return FolderName(student, None, timestamp,
                          f"'{display_name(assignment)}' is not an assignment of this course "
                          f"({', '.join(assignments)})")
    return FolderName(student, assignment, timestamp)


def submitted_time(folder: Path, seen_at: float, not_before: float | None) -> float:
    """When a submission counts as made: the time nbgrader wrote in its ``timestamp.txt``
    (read with nbgrader's ``parse_utc``; the student's machine wrote it, so it is only
    believed between the service's scan before the folder appeared, ``not_before``, and
    ``seen_at``), else ``seen_at``."""
    try:
        with open(folder / TIMESTAMP, "rb") as handle:
            text = handle.read(MAX_TIMESTAMP).decode("utf-8", "replace")
        claimed = parse_utc(text.strip()).replace(tzinfo=datetime.timezone.utc).timestamp()
    except (OSError, ValueError, OverflowError, TypeError, AttributeError):  # nbgrader's parser
        return seen_at
    return min(seen_at, max(claimed, not_before if not_before is not None else claimed))


def _signature(folder: Path) -> tuple | None:
    """The folder's top-level listing with sizes and times (None when unreadable)."""
    try:
        with os.scandir(folder) as entries:
            listed = []
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                listed.append((entry.name, info.st_size, info.st_mtime_ns))
                if len(listed) >= MAX_LISTED:
                    break
        return tuple(sorted(listed))
    except OSError:
        return None


class Watcher:
    """Polls ``inbound`` for folders not in ``known``; ``ready(now)`` returns the complete
    new ones (names), oldest first by nbgrader's timestamp in the name."""

    def __init__(self, inbound: Path, known: set[str], settle: float = 1.0,
                 abandon: float = 60.0) -> None:
        self.inbound, self.known = Path(inbound), set(known)
        self.settle, self.abandon = settle, abandon
        self.pending: dict[str, tuple[tuple | None, float]] = {}  # name: (signature, since)

    def _complete(self, folder: Path, name: str, now: float) -> bool:
        if folder.is_symlink() or not folder.is_dir():
            return True  # never followed: recorded as a submission that cannot be graded
        signature = _signature(folder)
        previous = self.pending.get(name)
        since = previous[1] if previous and previous[0] == signature else now
        self.pending[name] = (signature, since)
        if signature is None:
            return now - since >= self.abandon
        names = {entry[0] for entry in signature}
        if SECRET in names:
            return True
        stable = now - since
        return stable >= self.abandon or (TIMESTAMP in names and stable >= self.settle)

    def ready(self, now: float) -> list[str]:
        """Names of new, completely written submission folders (links and files in inbound
        are returned too: the service records them as not gradable)."""
        try:
            with os.scandir(self.inbound) as entries:
                names = [e.name for e in entries if e.name not in self.known
                         and not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        found = [name for name in names if self._complete(self.inbound / name, name, now)]
        for name in found:
            self.pending.pop(name, None)
            self.known.add(name)
        return sorted(found, key=lambda n: (n.split("+")[2:3], n))
