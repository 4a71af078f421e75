"""Benchmark: plain `nbgrader autograde` vs `python -m autograder grade --jobs 2`, same 40 submissions.

Both run in this one process's lifetime, on the same machine, one after the other, so the
ratio is what to compare (absolute times vary with the machine's load). The submissions
cycle through the six demo students. Plain nbgrader executes each notebook in a Jupyter
kernel, one at a time (its normal mode, tests inside the student's kernel); ours runs
student code in the sandbox (bubblewrap when available) and the tests in the grader, and
includes recording the grades in nbgrader's gradebook.

Then, unless --no-cluster, the same batch (CSV and feedback only) on a Dask LocalCluster
of 2 worker processes (`grade --scheduler`) against the local pool of 2 processes, and on
1 worker against 2 workers. A cluster is started (and its workers connected) before its
timing starts, as a real cluster is up before a batch; each timing is a whole `grade`
command, so the grading processes each worker starts for its first task are included.

    .venv/bin/python benchmarks/grading_speed.py [--students 40] [--jobs 2] [--no-cluster]
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import config, course, demo  # noqa: E402
from autograder.build import copy_student_package, nbgrader_env  # noqa: E402
from autograder.sandbox.launch import isolation_mode  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

TLN = course.current().get("two_layer_net")


def make_submissions(folder, count):
    demos = demo.make_submissions(Path(folder) / "_demo", [TLN])
    for i in range(count):
        target = Path(folder) / "submitted" / f"s{i:02d}" / TLN.name
        target.mkdir(parents=True)
        shutil.copy(demos[i % len(demos)], target / f"{TLN.notebook}.ipynb")
    shutil.rmtree(Path(folder) / "_demo")
    return Path(folder) / "submitted"


def timed(command, cwd):
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=nbgrader_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    ours = "autograder" in command
    if done.returncode != 0 or (ours and "warning:" in done.stderr):
        raise SystemExit(f"{command[:4]} failed or warned:\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-2000:]}")
    return seconds


def gradebook_scores(database, course_id):
    """{student: score} of the assignment's submissions in an nbgrader gradebook."""
    with Gradebook(f"sqlite:///{database}", course_id) as book:
        return {s.student.id: s.score for s in book.assignment_submissions(TLN.name)}


def check_same_grades(students, plain_db, ours_out):
    """A timing only counts if both runs really graded everything, identically."""
    with open(ours_out / "grades.csv", newline="") as handle:
        csv_scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    plain = gradebook_scores(plain_db, "default_course")
    ours = gradebook_scores(ours_out / "nbgrader" / "gradebook.db", course.current().course_id)
    if not len(csv_scores) == len(ours) == len(plain) == students:
        raise SystemExit(f"expected {students} graded submissions: CSV {len(csv_scores)}, "
                         f"our gradebook {len(ours)}, plain nbgrader {len(plain)}")
    differ = {s: (plain[s], ours.get(s), csv_scores.get(s)) for s in plain
              if not plain[s] == ours.get(s) == csv_scores.get(s)}
    return differ


def timed_on_cluster(workers, submitted, out):
    """Seconds of `grade --scheduler` on a LocalCluster of ``workers`` single-threaded
    worker processes (started beforehand), CSV and feedback only."""
    from distributed import LocalCluster
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        return timed([sys.executable, "-m", "autograder", "grade", str(submitted), "--out",
                      str(out), "--scheduler", cluster.scheduler_address, "--force",
                      "--no-progress", "--no-gradebook"], config.ROOT)


def same_csv(*outs):
    """True when the grades.csv files under ``outs`` hold the same rows."""
    rows = []
    for out in outs:
        with open(Path(out) / "grades.csv", newline="") as handle:
            rows.append(sorted(tuple(row.items()) for row in csv.DictReader(handle)))
    return all(found == rows[0] for found in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-cluster", action="store_true", help="skip the Dask timings")
    args = parser.parse_args()
    cluster = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        course = Path(tmp) / "course"
        source = course / "source" / TLN.name
        source.mkdir(parents=True)
        shutil.copy(TLN.source_notebook, source / f"{TLN.notebook}.ipynb")
        copy_student_package(source, TLN)
        submitted = make_submissions(course, args.students)
        python = [sys.executable, "-m"]
        timed(python + ["nbgrader", "generate_assignment", TLN.name, "--force",
                        f"--CourseDirectory.root={course}"], course)
        plain = timed(python + ["nbgrader", "autograde", TLN.name, "--create", "--force",
                                f"--CourseDirectory.root={course}"], course)
        ours = timed(python + ["autograder", "grade", str(submitted), "--out", str(Path(tmp) / "out"),
                               "--jobs", str(args.jobs), "--force", "--no-progress"], config.ROOT)
        differ = check_same_grades(args.students, course / "gradebook.db", Path(tmp) / "out")
        ours_csv_only = timed(python + ["autograder", "grade", str(submitted), "--out",
                                        str(Path(tmp) / "out2"), "--jobs", str(args.jobs),
                                        "--force", "--no-progress", "--no-gradebook"], config.ROOT)
        if not args.no_cluster:
            for workers in (2, 1):
                cluster[workers] = timed_on_cluster(workers, submitted, Path(tmp) / f"dask{workers}")
            agree = same_csv(Path(tmp) / "out2", Path(tmp) / "dask2", Path(tmp) / "dask1")
    print(f"machine: {os.cpu_count()} CPUs; sandbox: {isolation_mode('auto')}; "
          f"{args.students} submissions")
    print(f"plain nbgrader autograde (1 at a time, in-kernel): {plain:7.1f} s "
          f"({plain / args.students:.2f} s per submission)")
    print(f"autograder grade --jobs {args.jobs} (sandbox, + gradebook): {ours:7.1f} s "
          f"({ours / args.students:.2f} s per submission)")
    print(f"autograder grade --jobs {args.jobs} --no-gradebook:        {ours_csv_only:7.1f} s")
    print(f"grades checked: {args.students} rows in grades.csv and in both gradebooks; "
          f"scores that differ between plain nbgrader and ours: {differ or 'none'}")
    print(f"speed-up over plain nbgrader: {plain / ours:.2f}x (with gradebook), "
          f"{plain / ours_csv_only:.2f}x (CSV and feedback only)")
    if cluster:
        print(f"Dask LocalCluster, 2 workers x 1 thread (CSV and feedback only): {cluster[2]:7.1f} s "
              f"({cluster[2] / ours_csv_only:.2f}x the pool's time)")
        print(f"Dask LocalCluster, 1 worker  x 1 thread (CSV and feedback only): {cluster[1]:7.1f} s "
              f"(2 workers are {cluster[1] / cluster[2]:.2f}x faster than 1)")
        print(f"grades.csv identical for pool, 2 workers and 1 worker: {agree}")


if __name__ == "__main__":
    main()
