"""Gradescope's ``run_autograder``: grade the submission, write results/results.json.

Runs inside the bundle made by ``python -m autograder gradescope ASSIGNMENT`` (unpacked in
GRADESCOPE_ROOT/source, default /autograder/source), following Gradescope's autograder
specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
the submission is in GRADESCOPE_ROOT/submission, the results go to
GRADESCOPE_ROOT/results/results.json, and stdout is shown to instructors only.
Student code runs under bubblewrap when it works in the container, else rlimits
(GRADESCOPE_ISOLATION=rlimits|bubblewrap forces one); the results' output says which.

As root (Gradescope), before anything else ``protect`` makes GRADESCOPE_ROOT's folders
(source/ with the tests, the reference and the course secret, submission/, results/) root's
only; in rlimits mode student code runs as ``$AUTOGRADER_SANDBOX_USER`` (``nnstudent``)
or a uid of its own (``probes.rlimits_uid_mode``), without capabilities, so it can neither
read them, nor write the results, nor signal the grader. When that uid switch does not
work, the submission is not graded (``grader_error``): student code never runs as root.
Run as another user, the grader cannot switch uid and says so in its output.

The submission is graded in a child process (``--grade``), so a grader that is killed
(the out-of-memory killer) still leaves a results.json that says so. This process is a
child subreaper: once the child has ended, every process it left behind (reparented here,
even after a double fork) is killed, as root also every process of the sandbox's uid, and
only then is results.json written, atomically replacing whatever is there. Students see
each test's public message (``feedback_results.public_message``); hidden tests are
``after_published``.
"""

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.records import GradescopeStatus, RowStatus, TestStatus

if TYPE_CHECKING:
    from autograder.course import Assignment

SOURCE = Path(__file__).resolve().parents[2]  # the bundle's root (GRADESCOPE_ROOT/source)
CHILD_MARGIN = 60.0  # seconds past the grader's own guard before the child is killed
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
SHARED = ("venv",)  # GRADESCOPE_ROOT's entries that student code may read


def gradescope_root() -> Path:
    return Path(os.environ.get("GRADESCOPE_ROOT", "/autograder"))


def bundle_config() -> dict[str, Any]:
    return json.loads((SOURCE / "gradescope.json").read_text())


def find_notebook(folder: Path, expected: str) -> tuple[Path | None, str]:
    """(path or None, note): the submitted notebook. The folder's notebooks first (the one
    named like the assignment's, else the only one: a renamed copy), else the only one
    anywhere below it (an uploaded folder)."""
    from autograder.discovery import notebooks_in
    from autograder.submission import walk_files
    try:
        found = notebooks_in(folder)
    except OSError:
        found = []
    if not found:
        found = [p for p in walk_files(folder) if p.suffix == ".ipynb"
                 and ".ipynb_checkpoints" not in p.parts]
    named = [p for p in found if p.stem == expected]
    if named:
        return named[0], ""
    if len(found) == 1:
        return found[0], ""
    if found:
        names = ", ".join(sorted(p.name for p in found)[:10])
        return None, (f"several notebooks were submitted ({names}) and none is named "
                      f"{expected}.ipynb: submit only the assignment's notebook")
    return None, f"no .ipynb file was found in the submission: submit {expected}.ipynb"


def grade_child(target: str | os.PathLike) -> None:
    """In the child process: grade the submission, write the result dict to ``target``."""
    from autograder import course
    from autograder.discovery import Submission
    from autograder.execution import pool, task
    from autograder.sandbox import isolation as sandbox_isolation, launch, probes
    assignment = course.current().get(bundle_config()["assignment"])
    assert assignment is not None  # the bundle's course.toml lists its assignment (bundle.py)
    limits = launch.Limits()
    # As a batch's pool process: dies with run_autograder, grader address space capped.
    pool.process_setup(os.getppid(), pool.grader_address_space(limits))
    isolation = sandbox_isolation.isolation_mode(os.environ.get("GRADESCOPE_ISOLATION", "auto"))
    line, warnings = sandbox_isolation.describe(isolation, limits)
    path, note = find_notebook(gradescope_root() / "submission", assignment.notebook)
    item = Submission("submission", assignment.name, assignment.notebook, path)
    if isolation == "rlimits" and os.geteuid() == 0 and not probes.rlimits_uid_mode():
        result = failed_result(assignment, (
            "not graded: student code would run as root (rlimits mode, and the switch to "
            f"the sandbox's own uid failed: {probes.rlimits_uid_failure()}). Check that "
            "the Python installation and /autograder/venv are readable by other users."))
    else:
        result = task.grade_guarded(item, limits, isolation)
    if path is None and note:
        result["message"] = note
    result.update(isolation=isolation, isolation_line=line, isolation_warnings=warnings,
                  submitted=path.name if path else None)
    Path(target).write_text(json.dumps(result, default=str))


def to_gradescope(result: dict[str, Any], assignment: "Assignment") -> dict[str, Any]:
    """Gradescope's results.json (a dict) from one of our result dicts."""
    from autograder.outputs import feedback, feedback_results
    tests: list[dict[str, Any]] = []
    for number, record in enumerate(result["tests"], 1):
        kind = "hidden" if record.get("hidden") else "visible"
        output = feedback_results.public_message(record) or ""
        status = record["status"]
        if status != TestStatus.PASSED:
            output = f"[{status}] {output}"
        tests.append({
            "name": f"{record['grade_id']} ({kind} test): {record.get('summary', '')}".strip(),
            "number": str(number),
            "score": float(record["points"]),
            "max_score": float(record["max_points"]),
            "status": (GradescopeStatus.PASSED if status == TestStatus.PASSED
                       else GradescopeStatus.FAILED),
            "output": output,
            "visibility": "after_published" if record.get("hidden") else "visible",
        })
    row = result["status"]
    lines = [f"{assignment.name}: status {row} "
             f"({feedback.STATUS_TEXT.get(row, row)})"]
    if result.get("message"):
        lines.append(feedback_results.GRADER_PROBLEM if row == RowStatus.GRADER_ERROR
                     else result["message"])
    if result.get("submitted"):
        lines.append(f"Graded file: {result['submitted']} (as {assignment.notebook}.ipynb)")
    lines.append(f"Student code ran in isolation: {result.get('isolation_line') or result.get('isolation', 'unknown')}")
    hidden = sum(1 for t in result["tests"] if t.get("hidden"))
    if hidden:
        lines.append(f"{hidden} hidden test(s) are shown when grades are published.")
    return {
        "score": round(sum(t["score"] for t in tests), 6),
        "execution_time": round(float(result.get("seconds", 0.0))),
        "output": "\n".join(lines),
        "output_format": "text",
        "tests": tests,
        "extra_data": {"status": row, "isolation": result.get("isolation", "unknown"),
                       "assignment": assignment.name},
    }


def failed_result(assignment: "Assignment | None", message: str) -> dict[str, Any]:
    """A result whose tests did not run because the grader itself failed (no tests when
    ``assignment`` is None)."""
    from autograder.grading.notebook_grader import empty_tests
    return {"status": RowStatus.GRADER_ERROR, "message": message, "tests": empty_tests(
        assignment, TestStatus.GRADER_ERROR, "not run: the grader failed"), "seconds": 0.0}


def protect(root: Path) -> None:
    """As root: every entry of ``root`` but ``SHARED`` (source/ with the tests, the
    reference and the course secret; submission/; results/; the submission's
    metadata) owned by root with no access for group and others, so that a
    sandbox uid can neither read nor write them. Symbolic links are left alone. Does
    nothing for another user (the grader cannot protect anything from student code
    that runs as itself)."""
    if os.geteuid() != 0:
        return
    for entry in os.scandir(root):
        if entry.name in SHARED or entry.is_symlink():
            continue
        os.chown(entry.path, 0, 0, follow_symlinks=False)
        os.chmod(entry.path, 0o700 if entry.is_dir(follow_symlinks=False) else 0o600)


def become_subreaper() -> bool:
    """Linux: make this process the reaper of its orphaned descendants (a student process
    that double-forks is reparented here, not to init), so ``kill_leftovers`` finds them."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def _children() -> list[int]:
    """The live processes whose parent is this one (from /proc)."""
    me, found = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in ("Z", "X") and int(fields[1]) == me:
            found.append(int(name))
    return found


def _reap() -> None:
    """Collect the exit status of every ended child (zombies)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_leftovers(seconds: float = 10.0) -> bool:
    """After the grading child has ended: SIGKILL the processes it left behind (this
    process's children, as a subreaper: their children come here when they die, and are
    killed in the next round), and as root every process of the sandbox's uid
    (``choose_sandbox_user``). True when none is left within ``seconds``."""
    from autograder.sandbox import uids
    deadline = time.monotonic() + seconds

    def children() -> list[int]:
        _reap()
        return _children()

    if not uids.kill_until_gone(children, seconds):
        return False
    named = uids.sandbox_user() if os.geteuid() == 0 else None
    if named is not None:
        return uids.kill_uid(named[1], max(1.0, deadline - time.monotonic()))
    return True


def choose_sandbox_user() -> None:
    """As root: keep ``$AUTOGRADER_SANDBOX_USER`` when it names an account other than root
    (``nnstudent``, made by setup.sh), else set it to a uid of this run's own (no account;
    ``sandbox_uid.UID_BASE`` and up, from this process's id), so that the grading child runs
    student code as that uid and ``kill_leftovers`` knows whose processes to kill."""
    from autograder.sandbox import uids
    if os.geteuid() == 0 and uids.sandbox_user() is None:
        os.environ[uids.SANDBOX_USER_ENV] = str(
            uids.UID_BASE + ((os.getpid() & 0x3FFFFF) << 6) + 63)


def write_results(path: Path, payload: dict) -> None:
    """Write ``payload`` to ``path`` atomically, replacing whatever is there (a file, a
    symbolic link or a folder planted by student code)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(json.dumps(payload, indent=1))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main() -> int:
    """run_autograder: protect the tree, grade in a child, kill what it left, write
    results.json (whatever happens)."""
    root = gradescope_root()
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    assignment = None
    try:
        protect(root)  # failing, nothing is graded: student code could read the tests
        subreaper = become_subreaper()
        choose_sandbox_user()
        from autograder import course
        from autograder.execution import task
        from autograder.sandbox import launch
        assignment = course.current().get(bundle_config()["assignment"])
        with tempfile.TemporaryDirectory(prefix="gradescope-") as folder:
            target = Path(folder) / "result.json"
            limit = launch.Limits().notebook_seconds + task.GUARD_MARGIN + CHILD_MARGIN
            env = dict(os.environ, PYTHONPATH=str(SOURCE), MPLBACKEND="Agg",
                       NN_COURSE=str(SOURCE / "course.toml"))
            try:
                done = subprocess.run([sys.executable, "-m", "autograder.gradescope.run",
                                       "--grade", str(target)], cwd=SOURCE, env=env,
                                      timeout=limit)
                code: int | str = done.returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
            if code == 0 and target.is_file():
                result = json.loads(target.read_text())
            else:
                result = failed_result(assignment, f"the grading process ended with {code}")
        if not kill_leftovers():
            print("warning: some student processes could not be killed")
        elif not subreaper:
            print("warning: not a child subreaper: student processes that left the grader's "
                  "process tree may still run")
        print(f"status {result['status']}; isolation: {result.get('isolation_line')}")
        if result.get("isolation") == "rlimits" and os.geteuid() != 0:
            print(f"warning: the grader runs as uid {os.geteuid()}, not root: student code "
                  "ran as the same user, so it could read the tests and the reference, "
                  "write the results and signal the grader")
        for warning in result.get("isolation_warnings", []):
            print(f"warning: {warning}")
        if result["status"] == RowStatus.GRADER_ERROR:
            print(result.get("message", ""))
        assert assignment is not None  # None: failed above (the child found no assignment)
        payload = to_gradescope(result, assignment)
    except Exception:  # results.json must be written whatever happens
        print(traceback.format_exc())
        payload = {"score": 0.0, "tests": [], "extra_data": {"status": RowStatus.GRADER_ERROR},
                   "output": "The grader had a problem of its own (not caused by your "
                             "code). Your instructor sees it and will regrade."}
        if assignment is not None:
            payload["tests"] = [{"name": t.grade_id, "score": 0.0, "max_score": float(t.points),
                                 "status": GradescopeStatus.FAILED,
                                 "output": "not run: the grader failed",
                                 "visibility": "after_published" if t.hidden else "visible"}
                                for t in assignment.tests]
    payload["execution_time"] = round(time.monotonic() - started)
    try:
        kill_leftovers()  # again: nothing may run while the results are written
    except Exception:  # results.json must be written whatever happens
        print(traceback.format_exc())
    write_results(results, payload)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--grade":
        grade_child(sys.argv[2])
    else:
        sys.exit(main())
