"""Grading a folder of submissions in parallel, resumably.

Layout read: ``SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb`` (nbgrader's
submitted layout, found by ``autograder.discovery``); the folder is only read, never
modified. Written under OUT (``autograder.storage``): one result JSON and one feedback
page per submission as each finishes, and ``grades.csv`` at the end.

Every per-submission step runs in a pool process under a time limit: grading under the
guard (the notebook limit plus GUARD_MARGIN), the feedback page under RENDER_SECONDS;
whatever one submission does costs only its own row. Killing the batch at any moment
loses only the submissions in flight; the rerun grades them and still writes exactly
one row per submission. Pool processes die with the process that started them.
"""

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import multiprocessing
import os
import resource
import signal
import statistics
import sys
import threading
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from autograder import course, feedback, manual, visibility
from autograder.discovery import discover, notebook_role
from autograder.grading import empty_tests, finish, grade_notebook, suite_fingerprint, to_json
from autograder.records import RowStatus, TestStatus
from autograder.sandbox import Limits, isolation_key, isolation_mode
from autograder.storage import (content_key, feedback_path, load_previous, result_path,
                                saved_results, write_atomic, write_csv)
from autograder.text import clean_text, display_name

GUARD_MARGIN = 120.0  # seconds past the notebook limit before the grader gives up on itself
RENDER_SECONDS = 60.0  # to make one feedback page; past it, a page of scores only
GRADER_MEMORY_MARGIN = 2 << 30  # address space of a grading process beyond the student limit
PR_SET_PDEATHSIG = 1


class GuardTimeout(BaseException):
    """Grading one submission overran its notebook limit plus GUARD_MARGIN (a grader bug).

    A BaseException, so that the ``except Exception`` around each test cannot swallow it.
    """


class RenderTimeout(BaseException):
    """Making one feedback page took longer than RENDER_SECONDS."""


class Terminated(BaseException):
    """The pool process was asked to stop (SIGTERM) while grading."""


@contextlib.contextmanager
def time_limit(seconds, error):
    """Raise ``error`` in this block after ``seconds`` (SIGALRM; main thread only, where
    the pool runs its tasks; elsewhere, e.g. in a test's thread, no limit applies)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise error(f"over its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def grade_task(item, out, limits, isolation, key, written):
    """Grade one submission in a pool process, save its JSON and feedback page; never
    raises for anything one submission can cause. A SIGTERM ends the process once the
    student's processes and scratch folders are cleaned up."""
    global _BUSY
    _BUSY = True
    try:
        result = _grade_guarded(item, limits, isolation)
        return save_result(out, item, key, result, written)
    except Terminated:
        os._exit(143)
    finally:
        _BUSY = False


def _grade_guarded(item, limits, isolation):
    student, assignment, notebook, path = item
    # Last line of defence against a hang in the grader itself: every wait on the student
    # has its own deadline, but one stuck submission must never stall a class's batch.
    try:
        with time_limit(limits.notebook_seconds + GUARD_MARGIN, GuardTimeout):
            return _grade(item, limits, isolation)
    except (Exception, GuardTimeout):  # a grader bug costs one row a clear status, not the batch
        return not_graded(RowStatus.GRADER_ERROR, clean_text(traceback.format_exc(limit=5)),
                          "not run: the grader failed", course.current().get(item.assignment))


def _grade(item, limits, isolation):
    student, name, notebook, path = item
    assignment = course.current().get(name)
    where = f"{display_name(student)}/{display_name(name)}/"
    if assignment is None:
        return not_graded(RowStatus.UNKNOWN_ASSIGNMENT, f"'{display_name(name)}' is not an assignment "
                          f"of this course ({', '.join(course.current().names)})",
                          "not run: unknown assignment", None)
    if path is None:
        return not_graded(RowStatus.MISSING_NOTEBOOK, f"no {display_name(notebook)}.ipynb in {where}",
                          "not run: no notebook submitted", assignment)
    if notebook_role(assignment, path) == "unexpected":
        return not_graded(RowStatus.UNEXPECTED_NOTEBOOK, f"{display_name(path.name)} is not graded: "
                          f"this assignment's notebook is {assignment.notebook}.ipynb",
                          "not run: not the assignment's notebook", assignment)
    result = grade_notebook(path, assignment, limits, isolation)
    if notebook != assignment.notebook:
        result["graded_as"] = assignment.notebook
        note = f"graded as {assignment.notebook}.ipynb: it is the only notebook in {where}"
        result["message"] = f"{note}; {result['message']}" if result.get("message") else note
    return result


def not_graded(status, message, test_message, assignment):
    """A result whose tests did not run (``assignment`` None: an unknown assignment)."""
    return finish({"status": status, "message": message,
                   "tests": empty_tests(assignment, TestStatus.NOT_RUN, test_message)},
                  time.monotonic(), assignment)


def save_result(out, item, key, result, written=()):
    """Add the row's identity, the TAs' grades of its written answers (``written``, from
    ``autograder.manual``) and its total to ``result``, then write its feedback page and
    JSON. A page that cannot be made in RENDER_SECONDS, or at all, becomes a page of
    scores only; a file that cannot be written (a full disk, a name too long) is noted,
    never raised."""
    student, assignment, notebook, path = item
    result.update(student_id=student, assignment=assignment, notebook=notebook,
                  path=str(path) if path else None, key=key)
    for stale in ("feedback_error", "write_errors"):  # from an earlier save of this result
        result.pop(stale, None)
    manual.add_totals(result, written)
    withhold = not visibility.hidden_released(out)  # OUT/release.json (autograder.visibility)
    try:
        with time_limit(RENDER_SECONDS, RenderTimeout):
            page = feedback.render(student, assignment, result, path,
                                   course.current().get(assignment), withhold_hidden=withhold)
    except (Exception, RenderTimeout) as exc:  # the row and its JSON must survive its page
        result["feedback_error"] = clean_text(f"{type(exc).__name__}: {exc}")[:500]
        page = feedback.minimal_page(student, assignment, result, withhold_hidden=withhold)
    for target, text in ((feedback_path(out, item), lambda: page),
                         (result_path(out, item), lambda: to_json(result))):
        try:
            write_atomic(target, text())
        except (OSError, ValueError) as exc:
            result.setdefault("write_errors", []).append(
                clean_text(f"{display_name(target.name)}: {exc}")[:300])
    return result


class Progress:
    """A one-line progress bar with an ETA, on stderr."""

    def __init__(self, total, enabled):
        self.total, self.done, self.enabled = total, 0, enabled
        self.started = time.monotonic()

    def step(self, label):
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        filled = int(30 * self.done / max(self.total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                         f"elapsed {elapsed:5.1f}s ETA {eta:5.1f}s {label[:30]:30s}")
        if self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def written_grades(out, items):
    """{item: [WrittenGrade]}: what TAs gave each submission's written answers so far, from
    OUT's gradebook (all ungraded before the first TA grading; none for a row of an
    unknown assignment)."""
    found = {}
    for assignment in course.current().assignments:
        mine = {item for item in items if item.assignment == assignment.name}
        if not mine:
            continue
        cells = manual.written_cells(assignment)
        graded = sorted({item.student for item in mine if item.path is not None})
        try:
            grades = manual.read_gradebook(Path(out) / "nbgrader", assignment, graded, cells)
        except manual.GradebookUnreadable as exc:  # grading goes on; the warning says so
            print(f"warning: {exc}; written answers are shown as not graded", file=sys.stderr)
            grades = {}
        for item in mine:
            found[item] = grades.get(item.student) if item.path is not None else None
            found[item] = found[item] or manual.ungraded(cells)
    return {item: found.get(item, []) for item in items}


def grader_key(limits, isolation):
    """What, besides a submission, decides its grade: the grader's code, the releases
    (locked cells are restored from them), the limits and the isolation mode."""
    digest = hashlib.sha256()
    for assignment in course.current().assignments:
        digest.update(assignment.name.encode() + b"\0" + assignment.release_notebook.read_bytes())
    release = digest.hexdigest()[:16]
    return (f"{suite_fingerprint()}:{release}:{isolation_key(isolation)}:"
            f"{dataclasses.astuple(limits)}")


def grade_all(submissions, out, jobs=None, force=False, limits=Limits(), isolation="auto",
              progress=False, regrade=(), assignments=None):
    """Grade every submission under ``submissions``; returns (results, summary dict).

    ``assignments``: names to grade (default: every assignment of the course);
    ``force`` regrades everything; ``regrade`` names row statuses to regrade even when
    unchanged (e.g. ("timeout",) after a run on an overloaded machine).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    isolation = isolation_mode(isolation)
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
    jobs = jobs or os.cpu_count() or 1
    # A pool process that dies (the out-of-memory killer; student code in rlimits mode
    # killing its parent) breaks the whole pool: its unfinished submissions are retried in
    # a new pool, then one by one, and only then get a grader_error row.
    for _ in range(2):
        if todo:
            finished, todo = run_pool(todo, jobs, out, limits, isolation, keys, written, bar)
            results += finished
    for item in todo:  # lost twice: once more on its own, so it cannot blame another
        finished, lost = run_pool([item], 1, out, limits, isolation, keys, written, bar)
        results += finished
        if lost:
            results.append(save_result(out, item, keys[item], not_graded(
                RowStatus.GRADER_ERROR, "the process grading this submission was killed three "
                "times (out-of-memory killer, or student code in rlimits mode)",
                "not run: the grader's process was killed", course.current().get(item.assignment)),
                written[item]))
            bar.step(display_name(f"{item.student}/{item.assignment}"))
    # grades.csv keeps the rows of the assignments this run did not grade (--assignment)
    others = saved_results(out, {a.name for a in chosen}) if assignments else []
    write_csv(out, results + others)
    return results, summarize(results, skipped)


_BUSY = False  # in a pool process: grading a submission right now


def _pool_process_setup(parent, address_space):
    """In each pool process: die with the parent (SIGTERM when it goes, even by SIGKILL);
    on SIGTERM, a busy process unwinds through its ``finally`` blocks (student processes
    and scratch folders cleaned) and exits, an idle one exits at once; the address space
    is capped, so a student's return value cannot make the grader allocate without bound
    (a MemoryError fails that test)."""
    _prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(143)
    signal.signal(signal.SIGTERM, _terminate)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if address_space and (hard == resource.RLIM_INFINITY or address_space < hard):
        resource.setrlimit(resource.RLIMIT_AS, (address_space, hard))


def _terminate(signum, frame):
    if _BUSY:
        raise Terminated()
    os._exit(143)


def _prctl(option, value):
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the parent's own shutdown still applies
        pass


def grader_address_space(limits):
    """The address-space cap of a grading process: the student limit plus a margin."""
    return limits.memory_bytes + GRADER_MEMORY_MARGIN


def run_pool(items, workers, out, limits, isolation, keys, written, bar):
    """Grade ``items`` in one process pool; returns (results, items lost to a broken pool).

    Ctrl-C cancels what has not started and re-raises: saved results stay, and a rerun
    grades the rest.
    """
    results, lost = [], []
    context = multiprocessing.get_context("fork")
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_pool_process_setup,
        initargs=(os.getpid(), grader_address_space(limits)))
    try:
        futures = {}
        for item in items:
            try:
                futures[pool.submit(grade_task, item, out, limits, isolation, keys[item],
                                    written[item])] = item
            except BrokenProcessPool:  # a process died while the queue was being filled
                lost.append(item)
        for future in concurrent.futures.as_completed(futures):
            item = futures[future]
            try:
                results.append(future.result())
            except BrokenProcessPool:
                lost.append(item)
                continue
            except (Exception, GuardTimeout) as exc:
                results.append(save_result(out, item, keys[item], not_graded(
                    RowStatus.GRADER_ERROR, f"{type(exc).__name__}: {exc}", "not run: the grader failed",
                    course.current().get(item.assignment)), written[item]))
            bar.step(display_name(f"{item.student}/{item.assignment}"))
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results, lost


def summarize(results, skipped):
    """Counts per status and, per assignment, the score distribution."""
    counts, scores = {}, {}
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


def summary_table(results, summary):
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
