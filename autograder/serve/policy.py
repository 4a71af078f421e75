"""Per-assignment policy of the service, read from course.toml's ``[[assignment]]`` tables.

Keys (all optional)::

    [[assignment]]
    name = "foundations"
    due = "2026-12-20T23:59:00+00:00"     # or a TOML date-time; an offset is required
    hidden_per_day = 3                     # submissions a day (UTC) whose pages show hidden results
    min_interval = "2h"                    # or: at least this long between such submissions
    withhold_hidden_until_due = false      # true: hidden results of every submission at `due`

Which submission counts (goes to the gradebook and OUT): the latest one submitted before
``due`` (without ``due``, the latest). A submission past ``hidden_per_day`` or
``min_interval`` gets its visible tests' results at once and its hidden ones when the
quota allows again (the next UTC day; ``min_interval`` after the last one that showed
them). A value of the wrong kind is a ``PolicyError`` naming the assignment and the key.

The ``[serve]`` table holds the service's own settings: ``owner_check`` (see ``owner``).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from autograder import course
from autograder.serve.owner import OWNER_CHECK

DAY = 86_400.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY}


class PolicyError(ValueError):
    """A policy key of course.toml has a value the service cannot use (the message says which)."""


@dataclasses.dataclass(frozen=True)
class Policy:
    """One assignment's policy; times are epoch seconds, None when not set."""

    due: float | None = None
    hidden_per_day: int | None = None
    min_interval: float | None = None
    withhold_hidden_until_due: bool = False

    def counts(self, submitted_at: float) -> bool:
        """True when a submission made at ``submitted_at`` may be the one that counts."""
        return self.due is None or submitted_at <= self.due

    def hidden_release_at(self, submitted_at: float, shown_today: int,
                          last_shown: float | None) -> float | None:
        """When a submission's hidden results may be shown (None: at once), given how many
        of the student's submissions of the day (UTC) showed them at once (``shown_today``)
        and when the last one did (``last_shown``)."""
        if self.withhold_hidden_until_due and self.due is not None and submitted_at <= self.due:
            return self.due
        release = None
        if self.hidden_per_day is not None and shown_today >= self.hidden_per_day:
            release = (submitted_at // DAY + 1) * DAY  # the next midnight, UTC
        if self.min_interval is not None and last_shown is not None \
                and submitted_at < last_shown + self.min_interval:
            release = max(release or 0.0, last_shown + self.min_interval)
        return release


def _where(course_file: Path, name: str, key: str) -> str:
    return f"{course_file}: assignment {name!r}: {key}"


def _due(value: Any, where: str) -> float:
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise PolicyError(f"{where} = {value!r} is not a date-time such as "
                              f"\"2026-12-20T23:59:00+00:00\"") from None
    if not isinstance(value, datetime.datetime):
        raise PolicyError(f"{where} must be a date-time such as \"2026-12-20T23:59:00+00:00\", "
                          f"not {type(value).__name__}")
    if value.tzinfo is None:
        raise PolicyError(f"{where} = {value.isoformat()!r} has no time zone offset: add one, "
                          f"e.g. +00:00")
    return value.timestamp()


def _duration(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PolicyError(f"{where} must be seconds or a duration such as \"90m\" or \"2h\"")
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise PolicyError(f"{where} = {value!r} is not a duration such as \"90m\" or \"2h\"")
        value = float(match.group(1)) * _UNITS[match.group(2)]
    if not value > 0:
        raise PolicyError(f"{where} must be positive, got {value!r}")
    return float(value)


def parse(raw: dict[str, Any], course_file: Path) -> Policy:
    """The policy of one ``[[assignment]]`` table of ``course_file``."""
    name = raw.get("name", "?")
    due = raw.get("due")
    per_day = raw.get("hidden_per_day")
    if per_day is not None and (isinstance(per_day, bool) or not isinstance(per_day, int)
                                or per_day < 0):
        raise PolicyError(f"{_where(course_file, name, 'hidden_per_day')} must be a whole "
                          f"number of 0 or more, got {per_day!r}")
    interval = raw.get("min_interval")
    withhold = raw.get("withhold_hidden_until_due", False)
    if not isinstance(withhold, bool):
        raise PolicyError(f"{_where(course_file, name, 'withhold_hidden_until_due')} must be "
                          f"true or false, got {withhold!r}")
    policy = Policy(
        due=None if due is None else _due(due, _where(course_file, name, "due")),
        hidden_per_day=per_day,
        min_interval=None if interval is None else _duration(
            interval, _where(course_file, name, "min_interval")),
        withhold_hidden_until_due=withhold)
    if withhold and policy.due is None:
        raise PolicyError(f"{_where(course_file, name, 'withhold_hidden_until_due')} needs a "
                          f"due date (add due = \"...\")")
    return policy


def _read(course_file: str | Path | None) -> tuple[Path, dict[str, Any]]:
    path = Path(course_file or os.environ.get("NN_COURSE") or course.COURSE_FILE)
    try:
        return path, tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"cannot read the course file {path}: {exc}") from exc


def owner_check(course_file: str | Path | None = None) -> str:
    """``[serve] owner_check`` of the course file (``owner.OWNER_CHECK``; default "auto");
    TOML's true and false mean "on" and "off"."""
    path, data = _read(course_file)
    table = data.get("serve", {})
    if not isinstance(table, dict):
        raise PolicyError(f"{path}: [serve] must be a table")
    value = table.get("owner_check", "auto")
    value = {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value
    if value not in OWNER_CHECK:
        raise PolicyError(f"{path}: [serve] owner_check = {value!r} must be \"auto\", true "
                          f"or false")
    return str(value)


def load(course_file: str | Path | None = None) -> dict[str, Policy]:
    """{assignment name: Policy} for every assignment of the course file (default: the one
    ``autograder.course`` uses: NN_COURSE, else course.toml)."""
    path, data = _read(course_file)
    entries = data.get("assignment", [])
    return {raw["name"]: parse(raw, path) for raw in entries
            if isinstance(raw, dict) and isinstance(raw.get("name"), str)}
