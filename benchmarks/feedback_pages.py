"""Benchmark: size and time to render each demo student's feedback page, and the Markdown
renderer on the pathological cell that once held a grading process for 20 minutes.

Grades the demo submissions once (no gradebook), then renders each page ``--repeat`` times
and prints its size and median render time. The second part times our Markdown renderer
(markdown-it-py with tables and math) on ``"*a " * n + "b" + " c*" * n`` for growing n and,
in the same run, mistune (what the pages used before) on the smaller sizes, and prints the
ratio.

    .venv/bin/python benchmarks/feedback_pages.py [--repeat 5]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import course, demo  # noqa: E402

from autograder.outputs import feedback, markdown_html
from autograder.execution.batch import grade_all  # noqa: E402


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - started)
    return value, statistics.median(times)


def pages(repeat):
    with tempfile.TemporaryDirectory() as folder:
        subs = demo.make_submissions(Path(folder) / "subs")
        results, _ = grade_all(Path(folder) / "subs", Path(folder) / "out", jobs=2)
        print(f"{'student':<22} {'assignment':<14} {'page KiB':>9} {'render ms':>10}  "
              f"(median of {repeat})")
        for result in sorted(results, key=lambda r: (r["assignment"], r["student_id"])):
            path = next(p for p in subs if p.parts[-3:-1] == (result["student_id"],
                                                              result["assignment"]))
            page, seconds = timed(lambda: feedback.render(
                result["student_id"], result["assignment"], result, path,
                course.current().get(result["assignment"])), repeat)
            print(f"{result['student_id']:<22} {result['assignment']:<14} "
                  f"{len(page.encode()) / 1024:9.1f} "
                  f"{seconds * 1000:10.1f}")


def pathological(repeat):
    import mistune
    ours = markdown_html.markdown_renderer()
    before = mistune.create_markdown(escape=True)
    print(f"\n{'cell KiB':>8} {'markdown-it ms':>15} {'mistune ms':>11} {'ratio':>7}")
    for n in (1000, 4000, 8000, 32000):
        text = "*a " * n + "b" + " c*" * n
        _, mine = timed(lambda: ours.render(text), repeat)
        if n <= 8000:  # mistune is quadratic here: 32000 would take minutes
            _, theirs = timed(lambda: before(text), 1)
            print(f"{len(text) / 1024:8.0f} {mine * 1000:15.1f} {theirs * 1000:11.1f} "
                  f"{theirs / mine:6.0f}x")
        else:
            print(f"{len(text) / 1024:8.0f} {mine * 1000:15.1f} {'(skipped)':>11}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    pages(args.repeat)
    pathological(args.repeat)


if __name__ == "__main__":
    main()
