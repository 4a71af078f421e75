"""``serve --status`` and ``serve --health``: what the queue database says.

``--status`` prints the queue (queued and grading), the latency from arrival to released
page (median, 95th percentile, worst) of the last LATENCY_WINDOW submissions, the
failures (submissions that could not be graded, latest first) and, per assignment, how
many submissions are in each state. ``--health`` exits 0 when the service looked at the
inbound folder in the last ``max_silence`` seconds and no submission has waited longer
than ``max_wait`` seconds; else 1, saying why.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

from autograder.serve.queue import Queue, State

LATENCY_WINDOW = 1000
FAILURES_SHOWN = 5


@dataclasses.dataclass(frozen=True)
class Report:
    """The numbers of ``--status`` (seconds; None when there is nothing to measure)."""

    counts: dict[str, int]
    per_assignment: dict[str, dict[str, int]]
    oldest_wait: float | None
    latency_median: float | None
    latency_p95: float | None
    latency_max: float | None
    failures: list[tuple[str, str]]
    heartbeat_age: float | None


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (nearest rank)."""
    assert values, "percentile of no values"
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))]


def report(queue: Queue, now: float | None = None) -> Report:
    """What the database of ``queue`` says now."""
    now = time.time() if now is None else now
    counts = {state.value: 0 for state in State}
    per_assignment: dict[str, dict[str, int]] = {}
    for assignment, state, number in queue.db.execute(
            "SELECT coalesce(assignment, '(not usable)'), state, count(*) FROM submission "
            "GROUP BY 1, 2"):
        counts[state] += number
        per_assignment.setdefault(assignment, {})[state] = number
    oldest = queue.db.execute("SELECT min(seen_at) FROM submission WHERE state IN (?, ?)",
                              (State.QUEUED.value, State.GRADING.value)).fetchone()[0]
    latencies = [r[0] for r in queue.db.execute(
        "SELECT finished_at - seen_at FROM submission WHERE finished_at IS NOT NULL "
        "ORDER BY id DESC LIMIT ?", (LATENCY_WINDOW,))]
    failures = [(r[0], r[1] or "") for r in queue.db.execute(
        "SELECT label, problem FROM submission WHERE state = ? ORDER BY id DESC LIMIT ?",
        (State.FAILED.value, FAILURES_SHOWN))]
    beat = queue.meta("heartbeat")
    return Report(counts, per_assignment, None if oldest is None else now - oldest,
                  statistics.median(latencies) if latencies else None,
                  percentile(latencies, 0.95) if latencies else None,
                  max(latencies) if latencies else None, failures,
                  None if beat is None else now - float(beat))


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def text(found: Report) -> str:
    """``--status`` as lines of text."""
    c = found.counts
    lines = [f"queue: {c['queued']} queued, {c['grading']} grading (oldest waiting "
             f"{_seconds(found.oldest_wait)})",
             f"done: {c['graded']} graded, {c['failed']} could not be graded",
             f"latency (arrival to feedback, last {LATENCY_WINDOW}): median "
             f"{_seconds(found.latency_median)}, 95th percentile {_seconds(found.latency_p95)}, "
             f"max {_seconds(found.latency_max)}",
             f"service last looked at the inbound folder {_seconds(found.heartbeat_age)} ago"]
    for assignment, states in sorted(found.per_assignment.items()):
        lines.append(f"  {assignment}: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
    if found.failures:
        lines.append("latest failures:")
        lines += [f"  {label}: {problem}" for label, problem in found.failures]
    return "\n".join(lines)


def health(found: Report, max_silence: float, max_wait: float) -> list[str]:
    """Why the service is unhealthy (empty when it is healthy)."""
    problems = []
    if found.heartbeat_age is None or found.heartbeat_age > max_silence:
        problems.append(f"the service has not looked at the inbound folder for "
                        f"{_seconds(found.heartbeat_age)} (limit {max_silence:g} s): is it running?")
    if found.oldest_wait is not None and found.oldest_wait > max_wait:
        problems.append(f"a submission has waited {found.oldest_wait:.0f} s (limit {max_wait:g} s)")
    return problems
