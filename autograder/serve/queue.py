"""The service's memory: one SQLite row per inbound submission, and its state.

Each folder of the exchange's inbound folder is recorded once, by its name (the UNIQUE
``folder`` column, the name's bytes), with an arrival number (``id``, the order grading
follows). A row moves ``queued -> grading -> graded | failed``; every move is one
transaction. ``failed`` means the submission could not be graded (its page says why), not
that anything was lost. A service killed at any moment (even ``kill -9``) leaves at most
the rows it was grading in ``grading``: ``recover`` puts them back in ``queued`` at the
next start, and since the move to ``graded`` / ``failed`` and the count of completed
gradings (``grade_count``) are written in one transaction, every submission is graded to
completion exactly once (what was published before the kill is published again,
identically).
"""

from __future__ import annotations

import dataclasses
import enum
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS submission (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    folder BLOB NOT NULL UNIQUE,
    label TEXT NOT NULL,
    student TEXT,
    assignment TEXT,
    seen_at REAL NOT NULL,
    submitted_at REAL NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    grade_count INTEGER NOT NULL DEFAULT 0,
    finished_at REAL,
    status TEXT,
    score REAL,
    max_score REAL,
    counted INTEGER NOT NULL DEFAULT 0,
    hidden_shown INTEGER NOT NULL DEFAULT 0,
    hidden_release_at REAL,
    problem TEXT
);
CREATE INDEX IF NOT EXISTS by_state ON submission (state, id);
CREATE INDEX IF NOT EXISTS by_owner ON submission (student, assignment);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class State(enum.StrEnum):
    """Where a submission is: waiting, being graded, done (graded, or could not be)."""

    QUEUED = "queued"
    GRADING = "grading"
    GRADED = "graded"
    FAILED = "failed"


FINAL = (State.GRADED, State.FAILED)


@dataclasses.dataclass(frozen=True)
class Arrival:
    """A new inbound folder: its name (as the file system gives it), the name printable
    (``label``), the student and assignment it names (None when not usable), when the
    service first saw it and when it counts as submitted (epoch seconds)."""

    folder: str
    label: str
    student: str | None
    assignment: str | None
    seen_at: float
    submitted_at: float


@dataclasses.dataclass(frozen=True)
class Row(Arrival):
    """One recorded submission, as read back from the database: its arrival, its arrival
    number (``id``), its state and what grading it came to."""

    id: int
    state: State
    attempts: int
    grade_count: int
    finished_at: float | None
    status: str | None
    score: float | None
    max_score: float | None
    counted: bool
    hidden_shown: bool
    hidden_release_at: float | None
    problem: str | None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What grading one submission came to, recorded with its final state."""

    state: State
    status: str
    score: float | None = None
    max_score: float | None = None
    counted: bool = False
    hidden_shown: bool = True
    hidden_release_at: float | None = None
    problem: str | None = None


def _row(values: sqlite3.Row) -> Row:
    data = dict(values)
    data["folder"] = os.fsdecode(data["folder"])
    data["state"] = State(data["state"])
    data["counted"], data["hidden_shown"] = bool(data["counted"]), bool(data["hidden_shown"])
    return Row(**data)


class Queue:
    """The submissions database at ``path`` (created with its folder when missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def known_folders(self) -> set[str]:
        """Every folder name recorded so far."""
        return {os.fsdecode(r[0]) for r in self.db.execute("SELECT folder FROM submission")}

    def add(self, arrivals: list[Arrival]) -> int:
        """Record ``arrivals`` as queued, in the given order (their arrival order); a folder
        already recorded is left as it is. Returns how many were new."""
        added = 0
        with self.transaction() as db:
            for a in arrivals:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO submission (folder, label, student, assignment, "
                    "seen_at, submitted_at, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (os.fsencode(a.folder), a.label, a.student, a.assignment, a.seen_at,
                     a.submitted_at, State.QUEUED.value))
                added += cursor.rowcount
        return added

    def recover(self) -> int:
        """Put back in the queue what a killed service left in ``grading``; returns how many."""
        with self.transaction() as db:
            return db.execute("UPDATE submission SET state = ? WHERE state = ?",
                              (State.QUEUED.value, State.GRADING.value)).rowcount

    def claim(self, limit: int) -> list[Row]:
        """Move up to ``limit`` of the oldest queued submissions to ``grading`` (arrival
        order) and return them."""
        assert limit >= 1, f"claim needs a positive limit, got {limit}"
        with self.transaction() as db:
            ids = [r[0] for r in db.execute(
                "SELECT id FROM submission WHERE state = ? ORDER BY id LIMIT ?",
                (State.QUEUED.value, limit))]
            db.executemany("UPDATE submission SET state = ?, attempts = attempts + 1 WHERE id = ?",
                           [(State.GRADING.value, i) for i in ids])
        return [self.get(i) for i in ids]

    def finish(self, row_id: int, outcome: Outcome, now: float) -> None:
        """Record ``outcome`` for a submission being graded: its final state, and one more
        completed grading, in one transaction. A counted submission becomes the only
        counted one of its student and assignment."""
        assert outcome.state in FINAL, f"finish needs a final state, got {outcome.state}"
        with self.transaction() as db:
            row = db.execute("SELECT state, student, assignment FROM submission WHERE id = ?",
                             (row_id,)).fetchone()
            assert row is not None and row["state"] == State.GRADING.value, (
                f"submission {row_id} is not being graded ({row and row['state']})")
            if outcome.counted:
                db.execute("UPDATE submission SET counted = 0 WHERE student = ? AND "
                           "assignment = ?", (row["student"], row["assignment"]))
            db.execute(
                "UPDATE submission SET state = ?, grade_count = grade_count + 1, finished_at = ?, "
                "status = ?, score = ?, max_score = ?, counted = ?, hidden_shown = ?, "
                "hidden_release_at = ?, problem = ? WHERE id = ?",
                (outcome.state.value, now, outcome.status, outcome.score, outcome.max_score,
                 int(outcome.counted), int(outcome.hidden_shown), outcome.hidden_release_at,
                 outcome.problem, row_id))

    def hidden_released(self, row_id: int) -> None:
        """Record that a submission's page now shows its hidden tests' results (its
        ``hidden_release_at`` stays: it was not shown at once, so it used no quota)."""
        with self.transaction() as db:
            db.execute("UPDATE submission SET hidden_shown = 1 WHERE id = ?", (row_id,))

    def get(self, row_id: int) -> Row:
        """The row ``row_id``."""
        found = self.db.execute("SELECT * FROM submission WHERE id = ?", (row_id,)).fetchone()
        assert found is not None, f"no submission {row_id} in {self.path}"
        return _row(found)

    def rows(self, where: str = "1", params: tuple[Any, ...] = ()) -> list[Row]:
        """Rows matching the SQL condition ``where`` (the service's own, never a student's
        text), in arrival order."""
        return [_row(r) for r in self.db.execute(
            f"SELECT * FROM submission WHERE {where} ORDER BY id", params)]

    def waiting(self) -> int:
        """How many submissions are queued or being graded."""
        return int(self.db.execute("SELECT count(*) FROM submission WHERE state IN (?, ?)",
                                   (State.QUEUED.value, State.GRADING.value)).fetchone()[0])

    def due_for_release(self, now: float) -> list[Row]:
        """Graded submissions whose withheld hidden results are due to be shown."""
        return self.rows("state = ? AND hidden_shown = 0 AND hidden_release_at IS NOT NULL "
                         "AND hidden_release_at <= ?", (State.GRADED.value, now))

    def latest_counted(self, student: str | None, assignment: str | None) -> Row | None:
        """The submission of ``student`` that counts for ``assignment``, if any."""
        found = self.rows("student = ? AND assignment = ? AND counted = 1", (student, assignment))
        return found[-1] if found else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a service setting or mark (heartbeat, last scan)."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        """A value stored by ``set_meta``, or None."""
        found = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if found is None else found[0]


def now() -> float:
    """The wall clock, in epoch seconds (the default clock of the service)."""
    return time.time()
