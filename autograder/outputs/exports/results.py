"""What the export reads from OUT: each student's result per assignment, its total, and
the one-line feedback comment written beside a grade."""

from __future__ import annotations

import math
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from autograder import course
from autograder.outputs import storage
from autograder.records import RowStatus
from autograder.text import display_name

NOT_GRADED_STATUSES = {RowStatus.UNEXPECTED_NOTEBOOK, RowStatus.UNKNOWN_ASSIGNMENT}


def finite(value: object) -> float | None:
    """``value`` as a float when it is a finite real number (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def points(value: object) -> float:
    """``value`` as points: a finite number, else 0."""
    return finite(value) or 0.0


def total(result: dict[str, Any]) -> tuple[Any, Any]:
    """(total, its maximum) of a result: autograded plus written, as saved."""
    return result.get("total", result["score"]), result.get("total_max", result["max_score"])


def _rank_total(result: dict[str, Any]) -> tuple[float, float]:
    got, most = total(result)
    return finite(got) or 0.0, finite(most) or 0.0


def load_results(out: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
    """{student_id: {assignment: result}} from OUT/results, course assignments only, keyed
    by the real student id (the folder name as the file system gives it). Of several
    notebooks of one assignment the one named like it counts, else the best graded."""
    chosen: dict[str, dict[str, dict[str, Any]]] = {}
    for result in storage.saved_results(out, warn=lambda text: print(text, file=sys.stderr)):
        assignment = course.current().get(result["assignment"])
        if assignment is None or result["status"] in NOT_GRADED_STATUSES:
            continue
        rank = (result["notebook"] == assignment.notebook, _rank_total(result))
        slot = chosen.setdefault(result["student_id"], {})
        old = slot.get(assignment.name)
        if old is None or rank > (old["notebook"] == assignment.notebook, _rank_total(old)):
            slot[assignment.name] = result
    return chosen


def comment(result: dict[str, Any], feedback_url: str | None = None) -> str:
    """One line for the student: status, autograded and written scores, total out of its
    maximum, and the feedback page (BASE/<student>/<assignment>/<notebook>.html, else its
    path under OUT). For a ``visibility.visible_only`` result with hidden tests left out,
    the scores and total are the visible part's, and the line says so."""
    withheld = result.get("withheld_tests") or 0
    parts = ["graded" if result["status"] == RowStatus.OK else f"status {result['status']}",
             f"autograded {points(result['score']):g}/{points(result['max_score']):g}"
             + (f" (visible tests only: {withheld} hidden test(s) worth "
                f"{points(result.get('withheld_points')):g} points not released yet)"
                if withheld else "")]
    written = [g for g in result.get("written") or [] if isinstance(g, dict)]
    if written:
        got = sum(points(g.get("score")) for g in written)
        most = sum(points(g.get("points")) for g in written)
        waiting = sum(g.get("score") is None for g in written)
        if waiting == len(written):
            parts.append("written answers not graded yet")
        else:
            parts.append(f"written {got:g}/{most:g}"
                         + (f" ({waiting} answer(s) not graded yet)" if waiting else ""))
    got_total, total_max = total(result)
    parts.append(f"total {points(got_total):g}/{points(total_max):g}"
                 + (" without the hidden tests" if withheld else ""))
    names = [result["student_id"], result["assignment"], f"{result['notebook']}.html"]
    if feedback_url:
        link = feedback_url.rstrip("/") + "/" + "/".join(
            urllib.parse.quote(n, errors="surrogateescape") for n in names)
    else:
        link = "/".join(["feedback"] + [display_name(n) for n in names])  # relative to OUT
    parts.append(f"feedback: {link}")
    return "; ".join(parts)
