"""Grading a folder of submissions in parallel, resumably.

Layout read: ``SUBMISSIONS/<student_id>/<assignment>/<notebook>.ipynb`` (nbgrader's
submitted layout); the folder is only read, never modified. Written, under OUT:

- ``results/<student>/<assignment>/<notebook>.json``: every test's status and message,
  written atomically as each submission finishes; it carries the hash of the notebook
  and of the grader, so a rerun skips what is unchanged (``--force`` regrades);
- ``feedback/<student>/<assignment>/<notebook>.html``;
- ``grades.csv``: one row per submission found, rewritten atomically at the end.

Killing the batch at any moment loses only the submissions in flight; the rerun grades
them and still writes exactly one row per submission.
"""

import concurrent.futures
import csv
import dataclasses
import hashlib
import json
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from autograder import config, feedback
from autograder.grading import (empty_tests, finish, grade_notebook, submission_files,
                                suite_fingerprint, to_json)
from autograder.sandbox import Limits, isolation_mode
from autograder.suite import TESTS

ROW_FIELDS = ["student_id", "assignment", "notebook", "score", "max_score", "status"]
GUARD_MARGIN = 120.0  # seconds past the notebook limit before the grader gives up on itself


class GuardTimeout(BaseException):
    """Grading one submission overran its notebook limit plus GUARD_MARGIN (a grader bug).

    A BaseException, so that the ``except Exception`` around each test cannot swallow it.
    """


def _guard_expired(signum, frame):
    raise GuardTimeout("grading this submission overran its time limit plus the grader's "
                       f"margin of {GUARD_MARGIN:g} s")


def discover(submissions):
    """Every (student, assignment, notebook, path) to grade; path None when the notebook is
    missing. Each ``.ipynb`` in an assignment folder gets a row; see ``notebook_role``."""
    found = []
    for student in visible_folders(Path(submissions).absolute()):
        assignments = visible_folders(student)
        if not assignments:
            found.append((student.name, config.ASSIGNMENT, config.NOTEBOOK, None))
        for assignment in assignments:
            notebooks = notebooks_in(assignment)
            names = {p.stem for p in notebooks}
            if not notebooks or (assignment.name == config.ASSIGNMENT
                                 and config.NOTEBOOK not in names and len(notebooks) > 1):
                found.append((student.name, assignment.name, config.NOTEBOOK, None))
            for notebook in notebooks:
                found.append((student.name, assignment.name, notebook.stem, notebook))
    return found


def notebook_role(assignment, path):
    """How a notebook in the assignment's folder is graded:

    - "graded": it is ``config.NOTEBOOK``, or the folder's only notebook (a renamed or
      re-downloaded copy such as ``two_layer_net (1).ipynb``), graded as the assignment's;
    - "unexpected": another notebook beside the assignment's, or one of several none of
      which has the right name: it gets a row that says so, and no grade.
    """
    if assignment != config.ASSIGNMENT or path.stem == config.NOTEBOOK:
        return "graded"
    return "graded" if notebooks_in(path.parent) == [path] else "unexpected"


def visible_folders(folder):
    """Sub-folders, without hidden ones (.git, .ipynb_checkpoints, ...)."""
    return sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith("."))


def notebooks_in(folder):
    """The notebooks of a submission folder; hidden files (``._x.ipynb`` from macOS,
    ``.~x.ipynb`` lock files) are not notebooks."""
    return sorted(p for p in Path(folder).glob("*.ipynb")
                  if not p.name.startswith(".") and (p.is_file() or p.is_symlink()))


def write_atomic(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-")  # short: long names fit
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def content_key(path, fingerprint):
    """Hash of the grader and of everything grading reads: the notebook and its extra files."""
    digest = hashlib.sha256(fingerprint.encode())
    if path is not None:
        path = Path(path)
        try:
            for item in [path] + submission_files(path.parent, path.name):
                digest.update(str(item.relative_to(path.parent)).encode() + b"\0")
                if item.is_symlink():  # never followed: it may lead to /dev/zero or a FIFO
                    digest.update(b"link:" + os.readlink(item).encode())
                else:
                    digest.update(hashlib.sha256(item.read_bytes()).digest())
        except OSError as exc:  # unreadable: grading will say so; the key just must differ
            digest.update(f"unreadable:{exc}:{time.time()}".encode())
    return digest.hexdigest()


def grade_task(item, out, limits, isolation, key):
    """Grade one submission in a pool process, save its JSON and feedback page; never
    raises for anything one submission can cause."""
    result = _grade_guarded(item, limits, isolation)
    return save_result(out, item, key, result)


def _grade_guarded(item, limits, isolation):
    student, assignment, notebook, path = item
    # Last line of defence against a hang in the grader itself: every wait on the student
    # has its own deadline, but one stuck submission must never stall a class's batch.
    # (If the alarm fires after the work is done, the GuardTimeout reaches grade_all as
    # this future's exception, which also gives a grader_error row.)
    guarded = threading.current_thread() is threading.main_thread()
    if guarded:
        previous = signal.signal(signal.SIGALRM, _guard_expired)
        signal.setitimer(signal.ITIMER_REAL, limits.notebook_seconds + GUARD_MARGIN)
    try:
        if path is None:
            return not_graded("missing_notebook", f"no {notebook}.ipynb in {student}/{assignment}/",
                              "not run: no notebook submitted")
        if notebook_role(assignment, path) == "unexpected":
            return not_graded("unexpected_notebook", f"{path.name} is not graded: this "
                              f"assignment's notebook is {config.NOTEBOOK}.ipynb",
                              "not run: not the assignment's notebook")
        if assignment != config.ASSIGNMENT:
            return not_graded("unknown_assignment", f"this grader grades '{config.ASSIGNMENT}', "
                              f"not '{assignment}'", "not run: unknown assignment")
        result = grade_notebook(path, limits, isolation)
        if notebook != config.NOTEBOOK:
            result["graded_as"] = config.NOTEBOOK
            note = (f"graded as {config.NOTEBOOK}.ipynb: it is the only notebook in "
                    f"{student}/{assignment}/")
            result["message"] = f"{note}; {result['message']}" if result.get("message") else note
        return result
    except (Exception, GuardTimeout):  # a grader bug costs one row a clear status, not the batch
        return not_graded("grader_error", traceback.format_exc(limit=5), "not run: the grader failed")
    finally:
        if guarded:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def not_graded(status, message, test_message):
    return finish({"status": status, "message": message,
                   "tests": empty_tests("not_run", test_message)}, time.monotonic())


def save_result(out, item, key, result):
    """Add the row's identity to ``result`` and write its feedback page and JSON. A page or
    file that cannot be written (a full disk, a name too long) is noted, never raised."""
    student, assignment, notebook, path = item
    result.update(student_id=student, assignment=assignment, notebook=notebook,
                  path=str(path) if path else None, key=key)
    relative = Path(student) / assignment / f"{notebook}.json"
    try:
        page = feedback.render(student, assignment, result, path, config.RELEASE_NOTEBOOK)
    except Exception as exc:  # the row and its JSON must survive a page that cannot be made
        result["feedback_error"] = f"{type(exc).__name__}: {exc}"[:500]
        page = feedback.minimal_page(student, assignment, result)
    for target, text in ((out / "feedback" / relative.with_suffix(".html"), lambda: page),
                         (out / "results" / relative, lambda: to_json(result))):
        try:
            write_atomic(target, text())
        except OSError as exc:
            result.setdefault("write_errors", []).append(f"{target.name}: {exc}"[:300])
    return result


def load_previous(out, item, key, regrade=()):
    """The saved result of ``item`` if it can be reused: same key, its page exists, and its
    row status is not in ``regrade`` (nor grader_error, which is never final)."""
    student, assignment, notebook, _ = item
    path = out / "results" / student / assignment / f"{notebook}.json"
    feedback_page = out / "feedback" / student / assignment / f"{notebook}.html"
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if result.get("status") in {"grader_error", *regrade} or any(
            t.get("status") == "grader_error" for t in result.get("tests", [])):
        return None
    return result if result.get("key") == key and feedback_page.exists() else None


def write_csv(out, results):
    grade_ids = [test.grade_id for test in TESTS]
    lines = []
    for result in sorted(results, key=lambda r: (r["student_id"], r["assignment"], r["notebook"])):
        points = {t["grade_id"]: t["points"] for t in result["tests"]}
        lines.append([result["student_id"], result["assignment"], result["notebook"],
                      f"{result['score']:g}", f"{result['max_score']:g}", result["status"]]
                     + [f"{points.get(g, 0):g}" for g in grade_ids])
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".grades.csv.")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROW_FIELDS + grade_ids)
        writer.writerows(lines)
    os.replace(tmp, out / "grades.csv")
    return out / "grades.csv"


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


def grader_key(limits, isolation):
    """What, besides a submission, decides its grade: the grader's code, the release
    (locked cells are restored from it), the limits and the isolation mode."""
    release = hashlib.sha256(config.RELEASE_NOTEBOOK.read_bytes()).hexdigest()[:16]
    return f"{suite_fingerprint()}:{release}:{isolation}:{dataclasses.astuple(limits)}"


def grade_all(submissions, out, jobs=None, force=False, limits=Limits(), isolation="auto",
              progress=False, regrade=()):
    """Grade every submission under ``submissions``; returns (results, summary dict).

    ``force`` regrades everything; ``regrade`` names row statuses to regrade even when
    unchanged (e.g. ("timeout",) after a run on an overloaded machine).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    isolation = isolation_mode(isolation)
    fingerprint = grader_key(limits, isolation)
    items = discover(submissions)
    keys = {item: content_key(item[3], fingerprint) for item in items}
    results, todo = [], []
    for item in items:
        previous = None if force else load_previous(out, item, keys[item], regrade)
        if previous:
            previous["reused"] = True
            previous["path"] = str(item[3]) if item[3] else None  # the folder may have moved
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
            finished, todo = run_pool(todo, jobs, out, limits, isolation, keys, bar)
            results += finished
    for item in todo:  # lost twice: once more on its own, so it cannot blame another
        finished, lost = run_pool([item], 1, out, limits, isolation, keys, bar)
        results += finished
        if lost:
            results.append(save_result(out, item, keys[item], not_graded(
                "grader_error", "the process grading this submission was killed three "
                "times (out-of-memory killer, or student code in rlimits mode)",
                "not run: the grader's process was killed")))
            bar.step("/".join(item[:2]))
    write_csv(out, results)
    return results, summarize(results, skipped)


def _pool_process_setup():
    """In each pool process: SIGTERM (sent to the survivors when the pool breaks) exits
    through the ``finally`` blocks, so student processes and scratch folders are cleaned."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))


def run_pool(items, workers, out, limits, isolation, keys, bar):
    """Grade ``items`` in one process pool; returns (results, items lost to a broken pool).

    Ctrl-C cancels what has not started and re-raises: saved results stay, and a rerun
    grades the rest.
    """
    results, lost = [], []
    context = multiprocessing.get_context("fork")
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                  initializer=_pool_process_setup)
    try:
        futures = {}
        for item in items:
            try:
                futures[pool.submit(grade_task, item, out, limits, isolation, keys[item])] = item
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
                    "grader_error", f"{type(exc).__name__}: {exc}", "not run: the grader failed")))
            bar.step("/".join(item[:2]))
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results, lost


def summarize(results, skipped):
    counts = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    scores = [r["score"] for r in results]
    return {"submissions": len(results), "skipped_unchanged": skipped, "status_counts": counts,
            "max_score": sum(t.points for t in TESTS),
            "score_min": min(scores, default=0), "score_median": statistics.median(scores) if scores else 0,
            "score_mean": round(statistics.fmean(scores), 2) if scores else 0,
            "score_max": max(scores, default=0)}


def summary_table(results, summary):
    """Text for the terminal: the gradebook, then counts and the score distribution."""
    lines = [f"{'student':<22} {'notebook':<16} {'score':>9}  status"]
    for r in sorted(results, key=lambda r: (r["student_id"], r["notebook"])):
        lines.append(f"{r['student_id']:<22} {r['notebook']:<16} "
                     f"{r['score']:>4g}/{r['max_score']:<4g}  {r['status']}")
    lines.append("")
    lines.append("status counts: " + ", ".join(f"{k}={v}" for k, v in sorted(summary["status_counts"].items())))
    lines.append(f"scores: min {summary['score_min']:g}, median {summary['score_median']:g}, "
                 f"mean {summary['score_mean']:g}, max {summary['score_max']:g} "
                 f"(of {summary['max_score']:g}); {summary['skipped_unchanged']} unchanged "
                 f"submission(s) reused")
    return "\n".join(lines)
