"""Benchmark: is grading as fast in this checkout as in another one (e.g. before a change)?

Both checkouts grade the same submissions with `python -m autograder grade --jobs N`
(gradebook included unless --no-gradebook), taking turns, ROUNDS times each, so a machine
whose load changes during the run slows both alike; the median of each and their ratio are
printed, and the two grades.csv files must hold the same scores.

    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/grading_speed_between.py /tmp/before [--students 24]
        [--jobs 2] [--rounds 3] [--no-gradebook]
"""

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from autograder import course  # noqa: E402
from autograder.build import nbgrader_env  # noqa: E402
from grading_speed import make_submissions  # noqa: E402  (benchmarks/ is on sys.path)


def grade_once(checkout: Path, submitted: Path, out: Path, jobs: int, gradebook: bool) -> float:
    """Seconds for one whole `grade` command run from ``checkout``'s code."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
               "--jobs", str(jobs), "--no-progress"] + ([] if gradebook else ["--no-gradebook"])
    env = dict(nbgrader_env(), PYTHONPATH=str(checkout))
    started = time.perf_counter()
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"grade failed in {checkout}:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
    return seconds


def scores(out: Path) -> dict[str, str]:
    with open(out / "grades.csv", newline="") as handle:
        return {row["student_id"]: row["score"] for row in csv.DictReader(handle)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout (its .venv is not used)")
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-gradebook", action="store_true")
    args = parser.parse_args()
    other = args.other.resolve()
    if not (other / "autograder").is_dir():
        raise SystemExit(f"{other} is not a checkout of this course")
    course.current()
    times: dict[str, list[float]] = {"this": [], "other": []}
    with tempfile.TemporaryDirectory(prefix="speed-between-") as folder:
        submitted = make_submissions(folder, args.students)
        outs = {"this": Path(folder) / "out-this", "other": Path(folder) / "out-other"}
        for round_ in range(args.rounds):
            order = ("this", "other") if round_ % 2 == 0 else ("other", "this")
            for which in order:
                checkout = HERE if which == "this" else other
                seconds = grade_once(checkout, submitted, outs[which], args.jobs,
                                     not args.no_gradebook)
                times[which].append(seconds)
                print(f"round {round_ + 1}: {which:5s} {seconds:6.1f} s", flush=True)
        if scores(outs["this"]) != scores(outs["other"]):
            raise SystemExit("the two checkouts gave different scores: no timing counts")
    this, that = statistics.median(times["this"]), statistics.median(times["other"])
    print(f"\n{args.students} submissions, --jobs {args.jobs}, "
          f"{'CSV and feedback only' if args.no_gradebook else 'gradebook included'}, "
          f"{args.rounds} rounds each, same scores")
    print(f"this checkout  median {this:6.1f} s  ({HERE})")
    print(f"other checkout median {that:6.1f} s  ({other})")
    pairs = [a / b for a, b in zip(times["this"], times["other"])]
    print(f"ratio this/other: {this / that:.3f} (medians); per round "
          f"{', '.join(f'{r:.3f}' for r in pairs)}, median {statistics.median(pairs):.3f}")


if __name__ == "__main__":
    main()
