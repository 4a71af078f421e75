"""Benchmark: where grading time goes per submission, phase by phase (issue 12).

Grades N two_layer_net submissions (the demo students, cycled, as in grading_speed.py)
one at a time in this process, as a pool process would (grade_notebook, then the feedback
page and the JSON written as save_result does), after one warm-up submission that is not
counted. Prints the mean wall seconds per submission of each phase: the student process's
start (until it says "ready"), the notebook's cells, the tests (the 5 slowest by name),
stopping the process, the rest of grade_notebook (reading the notebook, scratch folder),
the feedback page, the JSON; the grader process's CPU time; and what a fresh pool process
imports on its first submission. A digest of the results (less their seconds) and pages
is printed, so that two trees can be checked to grade identically.

    .venv/bin/python benchmarks/where_time_goes.py [--submissions 12] [--isolation auto]

Figures, and what the phases are made of, are in BENCHMARKS.md ("Where the time goes").
"""

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import course, demo  # noqa: E402

from autograder.outputs import feedback
from autograder.grading.notebook_grader import grade_notebook, to_json  # noqa: E402
from autograder.sandbox.isolation import describe, isolation_mode  # noqa: E402
from autograder.sandbox.launch import Limits  # noqa: E402
from autograder.outputs.storage import write_atomic  # noqa: E402

TLN = course.current().get("two_layer_net")
IMPORTED_BY_THE_PARENT = set(sys.modules)  # roughly what a forked pool process inherits


def make_submissions(folder, count):
    """``count`` notebooks cycling through the demo students; returns their paths."""
    demos = demo.make_submissions(Path(folder) / "_demo", [TLN])
    paths = []
    for i in range(count):
        target = Path(folder) / "submitted" / f"s{i:02d}" / TLN.name / f"{TLN.notebook}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(demos[i % len(demos)], target)
        paths.append(target)
    shutil.rmtree(Path(folder) / "_demo")
    return paths


def grade_one(path, out, isolation):
    """Grade, render and write one submission; returns ({phase: seconds}, digest text)."""
    timing = {}
    cpu = time.process_time()
    started = time.perf_counter()
    result = grade_notebook(path, TLN, Limits(), isolation, timing=timing)
    graded = time.perf_counter()
    page = feedback.render(path.parts[-3], TLN.name, result, path, TLN)
    rendered = time.perf_counter()
    write_atomic(out / f"{path.parts[-3]}.html", page)
    written = time.perf_counter()
    write_atomic(out / f"{path.parts[-3]}.json", to_json(result))
    done = time.perf_counter()
    tests = timing.get("tests", {})
    phases = {"sandbox start (until ready)": timing.get("start", 0.0),
              "notebook cells": timing.get("cells", 0.0),
              "tests": sum(tests.values()),
              "stop the student process": timing.get("close", 0.0)}
    phases["rest of grade_notebook"] = graded - started - sum(phases.values())
    phases.update({"feedback page": rendered - graded, "JSON write": done - written})
    phases.update({f"test {name}": seconds for name, seconds in tests.items()})
    phases["cpu grader process"] = time.process_time() - cpu
    kept = {key: value for key, value in result.items() if key != "seconds"}
    digest = json.dumps(kept, sort_keys=True, default=str) + page
    return phases, digest


def fresh_process_imports(modules):
    """Seconds a new process that imported what the parent has takes to import ``modules``."""
    code = ("import sys, time; sys.path.insert(0, sys.argv[1]); import autograder.execution.batch; "
            "started = time.perf_counter()\n"
            "for name in sys.argv[2:]:\n"
            "    try: __import__(name)\n"
            "    except ImportError: pass\n"
            "print(time.perf_counter() - started)")
    done = subprocess.run([sys.executable, "-c", code, str(ROOT), *modules],
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=12)
    parser.add_argument("--isolation", default="auto")
    args = parser.parse_args()
    import autograder.execution.batch  # noqa: F401 (a pool process is forked from a parent that has it)
    inherited = set(sys.modules) | IMPORTED_BY_THE_PARENT
    isolation = isolation_mode(args.isolation)
    with tempfile.TemporaryDirectory(prefix="where-") as tmp:
        paths = make_submissions(tmp, args.submissions + 1)
        out = Path(tmp) / "out"
        grade_one(paths[0], out, isolation)  # warm-up: lazy imports, caches
        lazily = sorted(set(sys.modules) - inherited)
        runs, digest = [], hashlib.sha256()
        for path in paths[1:]:
            phases, text = grade_one(path, out, isolation)
            runs.append(phases)
            digest.update(text.encode())
    mean = {key: statistics.fmean(run.get(key, 0.0) for run in runs) for key in runs[0]}
    total = sum(value for key, value in mean.items() if not key.startswith(("test ", "cpu ")))
    print(f"{args.submissions} two_layer_net submissions, one at a time; isolation: "
          f"{describe(isolation)[0]}")
    print(f"{'phase':<40} {'s/submission':>12} {'share':>6}")
    for key, value in mean.items():
        if not key.startswith(("test ", "cpu ")):
            print(f"{key:<40} {value:12.3f} {value / total:6.1%}")
    print(f"{'total (wall)':<40} {total:12.3f}")
    print(f"{'CPU time of the grader process':<40} {mean['cpu grader process']:12.3f}")
    tests = sorted(((value, key[5:]) for key, value in mean.items() if key.startswith("test ")),
                   reverse=True)
    print("slowest tests (their hints included; the process start and cells they set off "
          "excluded):")
    for value, name in tests[:5]:
        print(f"  {name:<38} {value:12.3f}")
    rest = sum(value for value, _ in tests[5:])
    print(f"  {f'the other {len(tests[5:])} tests':<38} {rest:12.3f}")
    imports = fresh_process_imports(lazily)
    print(f"a fresh pool process imports {len(lazily)} more modules on its first submission: "
          f"{imports:.3f} s once per process")
    print(f"digest of results and pages: {digest.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
