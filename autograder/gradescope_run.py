"""Gradescope's ``run_autograder``: grade the submission, write results/results.json.

Runs inside the bundle made by ``python -m autograder gradescope ASSIGNMENT`` (unpacked in
GRADESCOPE_ROOT/source, default /autograder/source), following Gradescope's autograder
specification (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
the submission is in GRADESCOPE_ROOT/submission, the results go to
GRADESCOPE_ROOT/results/results.json, and stdout is shown to instructors only.
Student code runs under bubblewrap when it works in the container, else rlimits
(GRADESCOPE_ISOLATION=rlimits|bubblewrap forces one); the results' output says which.

The submission is graded in a child process (``--grade``), so a grader that is killed
(the out-of-memory killer, student code in rlimits mode) still leaves a results.json
that says so. Students see each test's public message (``feedback.public_message``);
hidden tests are ``after_published``.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent  # the bundle's root (GRADESCOPE_ROOT/source)
CHILD_MARGIN = 60.0  # seconds past the grader's own guard before the child is killed


def gradescope_root():
    return Path(os.environ.get("GRADESCOPE_ROOT", "/autograder"))


def bundle_config():
    return json.loads((SOURCE / "gradescope.json").read_text())


def find_notebook(folder, expected):
    """(path or None, note): the submitted notebook. The folder's notebooks first (the one
    named like the assignment's, else the only one: a renamed copy), else the only one
    anywhere below it (an uploaded folder)."""
    from autograder.discovery import notebooks_in
    from autograder.grading import walk_files
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


def grade_child(target):
    """In the child process: grade the submission, write the result dict to ``target``."""
    from autograder import course, pool, sandbox, task
    from autograder.discovery import Submission
    assignment = course.current().get(bundle_config()["assignment"])
    limits = sandbox.Limits()
    # As a batch's pool process: dies with run_autograder, grader address space capped.
    pool.process_setup(os.getppid(), pool.grader_address_space(limits))
    isolation = sandbox.isolation_mode(os.environ.get("GRADESCOPE_ISOLATION", "auto"))
    line, warnings = sandbox.describe(isolation, limits)
    path, note = find_notebook(gradescope_root() / "submission", assignment.notebook)
    item = Submission("submission", assignment.name, assignment.notebook, path)
    result = task.grade_guarded(item, limits, isolation)
    if path is None and note:
        result["message"] = note
    result.update(isolation=isolation, isolation_line=line, isolation_warnings=warnings,
                  submitted=path.name if path else None)
    Path(target).write_text(json.dumps(result, default=str))


def to_gradescope(result, assignment):
    """Gradescope's results.json (a dict) from one of our result dicts."""
    from autograder import feedback
    tests = []
    for number, record in enumerate(result["tests"], 1):
        kind = "hidden" if record.get("hidden") else "visible"
        output = feedback.public_message(record) or ""
        status = record["status"]
        if status != "passed":
            output = f"[{status}] {output}"
        tests.append({
            "name": f"{record['grade_id']} ({kind} test): {record.get('summary', '')}".strip(),
            "number": str(number),
            "score": float(record["points"]),
            "max_score": float(record["max_points"]),
            "status": "passed" if status == "passed" else "failed",
            "output": output,
            "visibility": "after_published" if record.get("hidden") else "visible",
        })
    row = result["status"]
    lines = [f"{assignment.name}: status {row} "
             f"({feedback.STATUS_TEXT.get(row, row)})"]
    if result.get("message"):
        lines.append(feedback.GRADER_PROBLEM if row == "grader_error" else result["message"])
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


def failed_result(assignment, message):
    """A result whose tests did not run because the grader itself failed."""
    from autograder.grading import empty_tests
    return {"status": "grader_error", "message": message, "tests": empty_tests(
        assignment, "grader_error", "not run: the grader failed"), "seconds": 0.0}


def main():
    root = gradescope_root()
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    assignment = None
    try:
        from autograder import course, sandbox, task
        assignment = course.current().get(bundle_config()["assignment"])
        with tempfile.TemporaryDirectory(prefix="gradescope-") as folder:
            target = Path(folder) / "result.json"
            limit = sandbox.Limits().notebook_seconds + task.GUARD_MARGIN + CHILD_MARGIN
            env = dict(os.environ, PYTHONPATH=str(SOURCE), MPLBACKEND="Agg",
                       NN_COURSE=str(SOURCE / "course.toml"))
            try:
                done = subprocess.run([sys.executable, "-m", "autograder.gradescope_run",
                                       "--grade", str(target)], cwd=SOURCE, env=env,
                                      timeout=limit)
                code = done.returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
            if code == 0 and target.is_file():
                result = json.loads(target.read_text())
            else:
                result = failed_result(assignment, f"the grading process ended with {code}")
        print(f"status {result['status']}; isolation: {result.get('isolation_line')}")
        if result.get("isolation") == "rlimits" and os.geteuid() == 0:
            print("warning: rlimits mode as root: student code runs as root and could read "
                  "the tests and the reference in /autograder/source or write the results")
        for warning in result.get("isolation_warnings", []):
            print(f"warning: {warning}")
        if result["status"] == "grader_error":
            print(result.get("message", ""))
        payload = to_gradescope(result, assignment)
    except Exception:  # results.json must be written whatever happens
        print(traceback.format_exc())
        payload = {"score": 0.0, "tests": [], "extra_data": {"status": "grader_error"},
                   "output": "The grader had a problem of its own (not caused by your "
                             "code). Your instructor sees it and will regrade."}
        if assignment is not None:
            payload["tests"] = [{"name": t.grade_id, "score": 0.0, "max_score": float(t.points),
                                 "status": "failed", "output": "not run: the grader failed",
                                 "visibility": "after_published" if t.hidden else "visible"}
                                for t in assignment.tests]
    payload["execution_time"] = round(time.monotonic() - started)
    results.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--grade":
        grade_child(sys.argv[2])
    else:
        sys.exit(main())
