"""Benchmark: submit-to-feedback latency of ``python -m autograder serve`` (issue 21).

Starts the service (real grader, ``--jobs 2``, gradebook on) on a temporary exchange, then:

1. idle: ``--idle`` submissions made one at a time with ``nbgrader submit`` (waiting for
   each page before the next);
2. burst: ``--burst`` submissions (the demo's foundations notebooks, in turn) that appear in
   the inbound folder at once.

Latency of one submission: from the moment its inbound folder is complete (the mtime of
``submission_secret.txt``, which ``nbgrader submit`` writes last) to the moment its page
is in the exchange's feedback folder (seen by polling every 20 ms), so the student's own
``nbgrader submit`` start-up is not counted.

3. then, with the service stopped, ``python -m autograder grade`` on the same burst's
   notebooks (``<student>/foundations/foundations.ipynb``) with the same ``--jobs`` and the
   gradebook on: the whole burst's time over grade's is how far the service is from the
   batch grading rate (1.0: a burst is served as fast as ``grade`` grades it).

Prints median and 95th percentile of each, the load average (1 minute) around each part,
the last line a summary.

    .venv/bin/python benchmarks/feedback_latency.py [--idle 5] [--burst 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import nbformat  # noqa: E402
from nbgrader.utils import notebook_hash  # noqa: E402

from autograder import course, demo  # noqa: E402
from autograder.serve.status import percentile  # noqa: E402
from exchange_helpers import make_exchange, student  # noqa: E402

POLL = 0.02


def page_path(exchange, folder: Path, notebook: str) -> Path:
    secret = (folder / "submission_secret.txt").read_text()
    return exchange.feedback / f"{notebook_hash(secret=secret, notebook_id=notebook)}.html"


def wait_for_pages(exchange, folders: list[Path], notebook: str, timeout: float) -> list[float]:
    """Latency of each folder's page (seconds from its secret's mtime to the page seen)."""
    pending = {folder: page_path(exchange, folder, notebook) for folder in folders}
    latencies, deadline = {}, time.time() + timeout
    while pending:
        assert time.time() < deadline, f"{len(pending)} page(s) not released in {timeout:.0f} s"
        for folder, page in list(pending.items()):
            if page.exists():
                latencies[folder] = time.time() - (folder / "submission_secret.txt").stat().st_mtime
                del pending[folder]
        time.sleep(POLL)
    return [latencies[folder] for folder in folders]


def burst(exchange, notebooks: list[bytes], size: int, scratch: Path) -> list[Path]:
    """``size`` complete submission folders, each renamed into inbound at once."""
    folders = []
    for n in range(size):
        staged = scratch / f"b{n:03d}"
        staged.mkdir()
        (staged / "foundations.ipynb").write_bytes(notebooks[n % len(notebooks)])
        (staged / "timestamp.txt").write_text(time.strftime("%Y-%m-%d %H:%M:%S.000000 UTC",
                                                            time.gmtime()))
        (staged / "submission_secret.txt").write_text(os.urandom(64).hex())
        folders.append(staged)
    moved = []
    for n, staged in enumerate(folders):
        target = exchange.inbound / f"burst{n:03d}+foundations+{time.time():.6f}+r"
        os.rename(staged, target)
        moved.append(target)
    return moved


def grade_time(folders: list[Path], scratch: Path, jobs: int, env: dict[str, str]) -> float:
    """Seconds ``python -m autograder grade`` takes on the notebooks of ``folders``."""
    submissions = scratch / "submissions"
    for n, folder in enumerate(folders):
        target = submissions / f"burst{n:03d}" / "foundations"
        target.mkdir(parents=True)
        shutil.copyfile(folder / "foundations.ipynb", target / "foundations.ipynb")
    started = time.time()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(submissions), "--out",
                    str(scratch / "grade_out"), "--jobs", str(jobs), "--no-progress"],
                   env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.time() - started


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def summary(name: str, latencies: list[float]) -> str:
    return (f"{name}: median {statistics.median(latencies):.2f} s, 95th percentile "
            f"{percentile(latencies, 0.95):.2f} s (n={len(latencies)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=5)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    fnd = course.current().get("foundations")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        exchange = make_exchange(tmp / "exchange", (fnd,))
        notebooks = [p.read_bytes() for p in demo.make_submissions(tmp / "demo", [fnd])]
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        service = subprocess.Popen(
            [sys.executable, "-m", "autograder", "serve", "--exchange", str(exchange.root),
             "--out", str(tmp / "out"), "--jobs", str(args.jobs), "--poll", "0.1",
             "--log", str(tmp / "serve.log")], env=env)
        try:
            idle = []
            ada = student(tmp, "ada", exchange)
            for n in range(args.idle):
                before = set(exchange.inbound.iterdir())
                ada.submit(fnd, nbformat.reads(notebooks[n % len(notebooks)].decode(), 4))
                (new,) = set(exchange.inbound.iterdir()) - before
                idle += wait_for_pages(exchange, [new], fnd.notebook, 300)
                print(f"idle submission {n + 1}: {idle[-1]:.2f} s", flush=True)
            (tmp / "scratch").mkdir()
            loads = [load()]
            started = time.time()
            folders = burst(exchange, notebooks, args.burst, tmp / "scratch")
            crowd = wait_for_pages(exchange, folders, fnd.notebook, 60 * 60)
            total = time.time() - started
            loads.append(load())
        finally:
            service.terminate()
            service.wait(timeout=60)
            if (ROOT / "build").is_dir():  # the service's JSON-lines log, for a look later
                shutil.copy(tmp / "serve.log", ROOT / "build" / "feedback_latency.log")
        print(f"burst served; grading the same {args.burst} with grade --jobs {args.jobs}",
              flush=True)
        batch = grade_time(folders, tmp / "batch", args.jobs, env)
        loads.append(load())
    print(summary("idle", idle))
    print(summary(f"burst of {args.burst}", crowd) + f"; the whole burst took {total:.1f} s "
          f"(load average {loads[0]} before, {loads[1]} after)")
    print(f"grade --jobs {args.jobs} on the same {args.burst}: {batch:.1f} s "
          f"(load average {loads[2]} after); burst / grade = {total / batch:.2f}")
    print(f"feedback latency (s): idle median {statistics.median(idle):.2f} p95 "
          f"{percentile(idle, 0.95):.2f}; burst of {args.burst} median "
          f"{statistics.median(crowd):.2f} p95 {percentile(crowd, 0.95):.2f} "
          f"(whole burst {total:.1f} s, grade {batch:.1f} s, ratio {total / batch:.2f}, "
          f"jobs {args.jobs})")


if __name__ == "__main__":
    main()
