"""Grading a folder of submissions in parallel, resumably.

Layout read: ``SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb`` (nbgrader's
submitted layout, found by ``autograder.discovery``); the folder is only read, never
modified. Written under OUT (``autograder.outputs.storage``): one result JSON and one feedback
page per submission as each finishes, and ``grades.csv`` at the end.

Each submission is graded by ``autograder.execution.task`` under a time limit, on an
executor (``autograder.execution.executor``): local pool processes
(``autograder.execution.pool``) or, with a Dask scheduler, a cluster's workers
(``autograder.execution.dask_executor``, which sends the submission's bytes). Either returns
the raw result, and this process alone completes and writes it (``task.save_result``);
whatever one submission does costs only its own row. Killing the batch at any moment loses
only the submissions in flight; the rerun grades them and still writes exactly one row per
submission.
"""

import os
import statistics
import sys
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder import course
from autograder.discovery import Submission, discover
from autograder.execution import executor, pool
from autograder.grading import written_grades as manual
# grader_code, grader_key, key_differences and Progress live below batch, in the modules
# that cluster and cluster_worker import too (no import cycle); still importable from here.
from autograder.execution.pool import Progress
from autograder.execution.task import grade_guarded, save_result
from autograder.grader_key import grader_code, grader_key, key_differences
from autograder.outputs.out_folder import OutFolder
from autograder.outputs.storage import content_key, load_previous, saved_results, write_csv
from autograder.records import Record
from autograder.sandbox.launch import Limits, isolation_mode
from autograder.text import display_name

if TYPE_CHECKING:
    import distributed


def written_grades(out: str | Path,
                   items: Collection[Submission]) -> dict[Submission, list[manual.WrittenGrade]]:
    """{item: [WrittenGrade]}: what TAs gave each submission's written answers so far, from
    OUT's gradebook (all ungraded before the first TA grading; none for a row of an
    unknown assignment)."""
    found: dict[Submission, list[manual.WrittenGrade]] = {}
    for assignment in course.current().assignments:
        mine = {item for item in items if item.assignment == assignment.name}
        if not mine:
            continue
        cells = manual.written_cells(assignment)
        graded = sorted({item.student for item in mine if item.path is not None})
        try:
            grades = manual.read_gradebook(OutFolder(out).nbgrader, assignment, graded, cells)
        except manual.GradebookUnreadable as exc:  # grading goes on; the warning says so
            print(f"warning: {exc}; written answers are shown as not graded", file=sys.stderr)
            grades = {}
        for item in mine:
            found[item] = ((grades.get(item.student) if item.path is not None else None)
                           or manual.ungraded(cells))
    return {item: found.get(item, []) for item in items}


def grade_all(submissions: str | Path, out: str | Path, jobs: int | None = None,
              force: bool = False, limits: Limits = Limits(), isolation: str = "auto",
              progress: bool = False, regrade: Iterable[str] = (),
              assignments: Collection[str] | None = None,
              scheduler: "str | distributed.Client | None" = None,
              using: executor.Executor | None = None,
              ) -> tuple[list[Record], dict[str, Any]]:
    """Grade every submission under ``submissions``; returns (results, summary dict).

    ``assignments``: names to grade (default: every assignment of the course);
    ``force`` regrades everything; ``regrade`` names row statuses to regrade even when
    unchanged (e.g. ("timeout",) after a run on an overloaded machine); ``scheduler``: a
    Dask scheduler's address (or a ``distributed.Client``) to grade on its workers instead
    of ``jobs`` local processes (``cluster.ClusterUnavailable`` when it cannot be used);
    ``using``: another ``executor.Executor`` to grade on (closed at the end).
    """
    requested, isolation = isolation, isolation_mode(isolation)
    if scheduler:
        from autograder.execution import dask_cluster as cluster  # Dask is imported only when a cluster is used
        cluster.check_isolation(requested, isolation)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = grader_key(limits, isolation)
    chosen = course.current().assignments
    if assignments:
        chosen = tuple(a for a in chosen if a.name in set(assignments))
    items = discover(submissions, chosen, restricted=bool(assignments))
    keys = {item: content_key(item.path, fingerprint) for item in items}
    written = written_grades(out, items)
    results, todo = [], []
    for item in items:
        previous = None if force else load_previous(out, item, keys[item], regrade)
        if previous:
            previous["reused"] = True
            previous["path"] = str(item.path) if item.path else None  # the folder may have moved
            if previous.get("written") != [grade.to_dict() for grade in written[item]]:
                previous = save_result(out, item, keys[item], previous, written[item])
            results.append(previous)
        else:
            todo.append(item)
    skipped = len(results)
    bar = Progress(len(todo), progress)

    def publish(item: Submission, raw: Record) -> Record:
        return save_result(out, item, keys[item], raw, written[item])

    if using is not None:
        try:
            results += executor.run(using, todo, publish, bar)
        finally:
            using.close()
    elif scheduler:
        results += _on_cluster(todo, scheduler, limits, isolation, fingerprint, publish, bar)
    else:
        local = pool.LocalPool(jobs or os.cpu_count() or 1, limits, isolation)
        try:
            results += executor.run(local, todo, publish, bar)
        finally:
            local.close()
    # grades.csv keeps the rows of the assignments this run did not grade (--assignment)
    others = saved_results(out, {a.name for a in chosen}) if assignments else []
    write_csv(out, results + others)
    return results, summarize(results, skipped)


def _on_cluster(todo: list[Submission], scheduler: "str | distributed.Client", limits: Limits,
                isolation: str, fingerprint: str, publish: executor.Publish,
                bar: Progress) -> list[Record]:
    """Grade ``todo`` on the workers of ``scheduler`` (an address, or a
    ``distributed.Client`` that stays open): every worker must grade as this machine does
    (``fingerprint``), else ClusterUnavailable before anything is sent. Workers that left
    and tasks sent again are reported on stderr at the end."""
    from autograder.execution import dask_cluster as cluster  # Dask is imported only when a cluster is used
    from autograder.execution.dask_executor import DaskExecutor
    if not any(cluster.needs_sandbox(item) for item in todo):  # settled here: no cluster
        return executor.run(executor.InlineExecutor(
            lambda item: grade_guarded(item, limits, isolation, execute=False)), todo, publish, bar)
    client = cluster.connect(scheduler) if isinstance(scheduler, str) else scheduler
    try:
        cluster.check_workers(client, limits, isolation, fingerprint)
        before = set(client.nthreads())
        workers = DaskExecutor(client, limits, isolation, fingerprint)
        try:
            results = executor.run(workers, todo, publish, bar)
        finally:
            workers.close()
        cluster.report_losses(before, cluster.current_workers(client), workers.sent)
        return results
    finally:
        if client is not scheduler:
            client.close(timeout=cluster.CLOSE_SECONDS)


def summarize(results: list[Record], skipped: int) -> dict[str, Any]:
    """Counts per status and, per assignment, the score distribution."""
    counts: dict[str, int] = {}
    scores: dict[str, list[float]] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
        scores.setdefault(result["assignment"], []).append(result["score"])
    per_assignment = {}
    for assignment in course.current().assignments:
        found = scores.pop(assignment.name, [])
        if found:
            per_assignment[assignment.name] = {
                "max_score": assignment.max_score, "min": min(found),
                "median": statistics.median(found), "mean": round(statistics.fmean(found), 2),
                "max": max(found)}
    return {"submissions": len(results), "skipped_unchanged": skipped, "status_counts": counts,
            "scores": per_assignment}


def summary_table(results: list[Record], summary: dict[str, Any]) -> str:
    """Text for the terminal: the gradebook, then counts and the score distributions."""
    width = max([22] + [len(display_name(r["student_id"])) + 1 for r in results])
    lines = [f"{'student':<{width}} {'notebook':<16} {'score':>9}  status"]
    for r in sorted(results, key=lambda r: (r["student_id"], r["assignment"], r["notebook"])):
        lines.append(f"{display_name(r['student_id']):<{width}} {display_name(r['notebook']):<16} "
                     f"{r['score']:>4g}/{r['max_score']:<4g}  {r['status']}")
    lines.append("")
    lines.append("status counts: " + ", ".join(f"{k}={v}" for k, v in sorted(summary["status_counts"].items())))
    for name, found in summary["scores"].items():
        lines.append(f"{name} scores: min {found['min']:g}, median {found['median']:g}, "
                     f"mean {found['mean']:g}, max {found['max']:g} (of {found['max_score']:g})")
    lines.append(f"{summary['skipped_unchanged']} unchanged submission(s) reused")
    return "\n".join(lines)
