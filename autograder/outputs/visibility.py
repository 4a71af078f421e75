"""Whether the results of hidden tests are shown on the feedback pages of an OUT folder.

OUT/release.json holds ``{"hidden_released": true|false}``. Without the file, hidden
results are released (the pages show every test, as they always did). While they are
withheld, a page shows the visible tests' results and, for the hidden ones, only how many
there are and their points (``autograder.outputs.feedback.render(..., withhold_hidden=True)``).
``grade --withhold-hidden`` withholds them; ``feedback --release-hidden`` releases them and
``feedback --withhold-hidden`` withholds them again (both re-render every page).

A file that exists but cannot be read as such a setting counts as withheld: a broken
setting must not show students what the instructor meant to keep back.

The setting covers what students see: the pages, and what ``export`` writes for the
LMS (``visible_only``: visible tests' points plus the written answers, unless
``export --include-hidden``). ``grades.csv``, the result files and nbgrader's gradebook
keep every score.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from autograder.outputs.out_folder import OutFolder
from autograder.outputs.storage import write_atomic
from autograder.records import TEST_STATUS_TO_ROW, row_status



def setting_path(out: str | Path) -> Path:
    """OUT/release.json."""
    return OutFolder(out).release_setting


def hidden_released(out: str | Path) -> bool:
    """True when the pages of OUT may show hidden tests' results (the default)."""
    path = setting_path(out)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return True
    except (OSError, ValueError, RecursionError):
        return False
    value = data.get("hidden_released") if isinstance(data, dict) else None
    return value if isinstance(value, bool) else False


def set_hidden_released(out: str | Path, released: bool) -> Path:
    """Record in OUT/release.json whether hidden results are released; returns the path."""
    path = setting_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"hidden_released": bool(released)}, indent=1) + "\n")
    return path


def hidden_tests(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of ``result``'s hidden tests."""
    return [t for t in result.get("tests") or [] if t.get("hidden")]


def visible_only(result: dict[str, Any]) -> dict[str, Any]:
    """What a student may see of ``result`` while hidden results are withheld: a copy
    whose ``tests``, ``score``, ``max_score``, ``total`` and ``total_max`` count the visible
    tests (and the written answers) only, and whose ``status``, when it came from the tests,
    is recomputed from the visible ones (a hidden test's timeout is one of its results).
    ``withheld_tests`` / ``withheld_points`` say how many hidden tests, worth how much, are
    left out (both 0, and the copy equal to ``result``, when it has no hidden test)."""
    shown = copy.deepcopy(result)
    hidden = hidden_tests(result)
    shown["withheld_tests"] = len(hidden)
    shown["withheld_points"] = sum(t.get("max_points", 0) for t in hidden)
    if not hidden:
        return shown
    visible = [t for t in shown["tests"] if not t.get("hidden")]
    shown["tests"] = visible
    shown["score"] = round(sum(t["points"] for t in visible), 6)
    shown["max_score"] = round(sum(t.get("max_points", 0) for t in visible), 6)
    if shown["status"] in set(TEST_STATUS_TO_ROW.values()):
        shown["status"] = str(row_status(t["status"] for t in visible))
    written = shown.get("written") or []
    shown["total"] = round(shown["score"] + sum(g.get("score") or 0 for g in written), 6)
    shown["total_max"] = round(shown["max_score"] + sum(g.get("points") or 0 for g in written), 6)
    return shown
