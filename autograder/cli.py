"""Command line of the autograder.

  python -m autograder build [ASSIGNMENT ...] [--check]
  python -m autograder grade SUBMISSIONS --out OUT [--assignment NAME] [--jobs N | --scheduler ADDR]
                             [--force] [limits...]
  python -m autograder feedback OUT [--release-hidden | --withhold-hidden]
  python -m autograder similarity OUT [--assignment NAME] [--top N]
  python -m autograder gradescope ASSIGNMENT [--out PATH]
  python -m autograder release ASSIGNMENT [--zip PATH]
  python -m autograder export OUT --to canvas|moodle|csv --ids MAPPING [--percent] [--include-hidden]
  python -m autograder demo [--out OUT]
  python -m autograder serve --exchange DIR --out OUT [--jobs N] | --out OUT --status | --health

``build`` regenerates the instructor's source notebooks and the student releases of the
course's assignments (``course.toml``);
``grade`` grades a folder of submissions (see autograder.execution.batch for the layout);
``feedback`` re-renders the feedback pages from saved results; ``demo`` does build,
makes the bundled demo submissions and grades them, printing the gradebook.
"""

import argparse
import filecmp
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from autograder import build, config, course, demo, export, serve
from autograder.discovery import Submission
from autograder.execution import batch, task
from autograder.execution.dask_cluster import ClusterUnavailable
from autograder.gradebook import sync as gradebook
from autograder.gradescope import bundle
from autograder.outputs import similarity, storage, visibility
from autograder.outputs.out_folder import OutFolder
from autograder.sandbox import isolation as sandbox
# The options grade, demo and serve share are in autograder.options, below cli and serve
# (serve.command still reaches them as cli.add_grading_options and cli.limits_from).
from autograder.options import DEFAULTS, add_grading_options, limits_from
from autograder.sandbox.launch import isolation_mode
from autograder.text import clean_text, display_name

def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="generate the source notebooks and the student releases")
    b.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="the assignments to build (default: all of the course)")
    b.add_argument("--check", action="store_true",
                   help="do not write; exit 1 if the committed files are out of date")
    g = commands.add_parser("grade", help="grade SUBMISSIONS/<student>/<assignment>/<nb>.ipynb")
    g.add_argument("submissions", type=Path)
    g.add_argument("--out", type=Path, required=True, help="folder for grades.csv, results, feedback")
    g.add_argument("--assignment", action="append", metavar="NAME",
                   help="grade only this assignment (repeatable; default: every assignment "
                        "of the course found in SUBMISSIONS)")
    g.add_argument("--withhold-hidden", action="store_true",
                   help="withhold hidden tests' results from the feedback pages until "
                        "`feedback OUT --release-hidden` (kept in OUT/release.json)")
    add_grading_options(g)
    r = commands.add_parser("release", help="zip an assignment's student release to hand out")
    r.add_argument("assignment", help="the assignment")
    r.add_argument("--zip", type=Path, default=None,
                   help="where to write the zip (default: build/<assignment>.zip)")
    f = commands.add_parser("feedback", help="re-render feedback pages from OUT/results")
    f.add_argument("out", type=Path)
    shown = f.add_mutually_exclusive_group()
    shown.add_argument("--release-hidden", action="store_true",
                       help="show hidden tests' results on the pages from now on")
    shown.add_argument("--withhold-hidden", action="store_true",
                       help="show only visible tests' results (and the number and points of "
                            "the hidden ones) until --release-hidden")
    d = commands.add_parser("demo", help="build, then grade the bundled demo submissions")
    d.add_argument("--out", type=Path, default=config.ROOT / "build" / "demo")
    add_grading_options(d)
    export.add_parser(commands)
    similarity.add_parser(commands)
    bundle.add_parser(commands)
    serve.add_parser(commands)
    return top


def chosen(names: Sequence[str] | None) -> list[course.Assignment]:
    """The course's assignments called ``names`` (all when empty); raises SystemExit(2)
    with the known names for an unknown one."""
    known = course.current()
    unknown = [name for name in names or () if known.get(name) is None]
    if unknown:
        print(f"error: unknown assignment(s) {', '.join(unknown)}; this course has "
              f"{', '.join(known.names)}", file=sys.stderr)
        raise SystemExit(2)
    return [a for a in known.assignments if not names or a.name in names]


def command_build(args: argparse.Namespace) -> int:
    assignments = chosen(args.assignments) if not args.check else chosen([])
    if not args.check:
        for assignment in assignments:
            source, release = build.build(assignment)
            print(f"wrote {shown(source)} and {shown(release)}/")
        return 0
    stale = []
    for assignment in assignments:
        with tempfile.TemporaryDirectory() as tmp:
            source, release = build.build(assignment, Path(tmp) / "source.ipynb",
                                          Path(tmp) / "release")
            committed = assignment.source_notebook
            if not committed.exists() or not filecmp.cmp(source, committed, shallow=False):
                stale.append(shown(committed))
            stale += differing_files(release, assignment.release_dir)
    if stale:
        print("out of date (run `python -m autograder build`): " + ", ".join(stale))
        return 1
    print(f"source notebooks and releases are up to date ({', '.join(a.name for a in assignments)})")
    return 0


def shown(path: str | os.PathLike[str]) -> str:
    """A path as the user reads it: relative to the repository when inside it."""
    path = Path(path)
    return str(path.relative_to(config.ROOT)) if path.is_relative_to(config.ROOT) else str(path)


def all_files(folder: str | os.PathLike[str]) -> set[Path]:
    """Files below folder, editor debris and caches excluded (``build.is_debris``)."""
    found = set()
    for top, _, files in os.walk(folder):
        for name in files:
            path = Path(top, name).relative_to(folder)
            if not build.is_debris(path):
                found.add(path)
    return found


def differing_files(fresh: str | os.PathLike[str],
                    committed: str | os.PathLike[str]) -> list[str]:
    fresh, committed = Path(fresh), Path(committed)
    names = all_files(fresh) | (all_files(committed) if committed.exists() else set())
    return sorted(shown(committed / name) for name in names
                  if not (fresh / name).exists() or not (committed / name).exists()
                  or not filecmp.cmp(fresh / name, committed / name, shallow=False))


def command_grade(args: argparse.Namespace, submissions: Path | None = None) -> int:
    submissions = submissions or args.submissions
    if not submissions.is_dir():
        print(f"error: {submissions} is not a folder", file=sys.stderr)
        return 2
    chosen(args.assignment)  # an unknown name: exit 2 with the course's names
    if args.jobs is not None and args.jobs < 1 or args.memory_mib < 64:
        print("error: --jobs must be at least 1 and --memory-mib at least 64", file=sys.stderr)
        return 2
    out, folder = args.out.resolve(), submissions.resolve()
    if out == folder or out.is_relative_to(folder):
        print(f"error: --out {args.out} is inside {submissions}: its files would be graded as "
              f"submissions on the next run; choose a folder outside it", file=sys.stderr)
        return 2
    try:
        with storage.locked(args.out):
            return _grade_locked(args, submissions)
    except storage.OutputLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _grade_locked(args: argparse.Namespace, submissions: Path) -> int:
    """``grade`` while holding OUT's lock (one run per OUT at a time)."""
    isolation = isolation_mode(args.isolation)
    if isolation != "bubblewrap":
        why = ("as requested" if args.isolation == "rlimits" else
               "because bubblewrap is not available (install the 'bubblewrap' package)")
        print(f"warning: student code runs with resource limits only, {why}: it can read and "
              f"write what this user can and use the network.", file=sys.stderr)
    rerender = getattr(args, "withhold_hidden", False) and visibility.hidden_released(args.out)
    if rerender:  # pages reused from an earlier run still show hidden results: redo them below
        visibility.set_hidden_released(args.out, False)
    line, warnings = sandbox.describe(isolation, limits_from(args))
    print(f"isolation: {line}", file=sys.stderr)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        results, summary = batch.grade_all(submissions, args.out, jobs=args.jobs,
                                           force=args.force, limits=limits_from(args),
                                           regrade=tuple(filter(None, args.regrade.split(","))),
                                           isolation=isolation, assignments=args.assignment,
                                           progress=not args.no_progress and sys.stderr.isatty(),
                                           scheduler=args.scheduler)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished submissions are saved under {args.out / 'results'}; "
              f"run the same command again to grade the rest.", file=sys.stderr)
        return 130
    except ClusterUnavailable as exc:
        print(f"error: {clean_text(str(exc))}", file=sys.stderr)
        return 2
    except storage.WriteFailed as exc:
        print(f"error: {exc}. Each graded submission is saved under {args.out / 'results'}: "
              f"make room, then run the same command again.", file=sys.stderr)
        return 1
    if rerender and _feedback_locked(args) != 0:
        return 1
    print(batch.summary_table(results, summary))
    print(f"\nwrote {OutFolder(args.out).grades_csv} and {len(results)} feedback page(s) under "
          f"{args.out / 'feedback'}")
    for result in results:
        for problem in result.get("write_errors", []) + ([f"feedback page: {result['feedback_error']}"]
                                                         if result.get("feedback_error") else []):
            print(f"warning: {display_name(result['student_id'])}/"
                  f"{display_name(result['assignment'])}: {display_name(problem)}",
                  file=sys.stderr)
    if not args.no_gradebook:
        try:
            database, problems = gradebook.sync(args.out, results)
        except KeyboardInterrupt:
            print("\ninterrupted while recording the gradebook: grades.csv is complete; run the "
                  "same command again to finish the gradebook.", file=sys.stderr)
            return 130
        except Exception as exc:  # grades.csv stands; say what went wrong
            print(f"error: the grades could not be recorded in nbgrader's gradebook "
                  f"({type(exc).__name__}): {clean_text(str(exc))}\ngrades.csv is complete; "
                  f"rerun the same command to retry.", file=sys.stderr)
            return gradebook.EXIT_NOT_RECORDED
        for problem in problems:
            print(f"warning: gradebook: {problem}", file=sys.stderr)
        print(f"nbgrader course directory (formgrader, export, feedback): {database.parent}")
        if problems:
            print(f"error: nbgrader's gradebook disagrees with grades.csv: {len(problems)} "
                  f"submission(s) not recorded (warnings above; it may show no score or an older "
                  f"one for them). Fix what the warnings name and rerun the same command.",
                  file=sys.stderr)
            return gradebook.EXIT_NOT_RECORDED
    return 0


def command_feedback(args: argparse.Namespace) -> int:
    """Re-render every feedback page from OUT/results with the TAs' current grades of the
    written answers (from OUT/nbgrader's gradebook), and rewrite grades.csv to match."""
    if not OutFolder(args.out).results.is_dir():
        print(f"error: {args.out} has no results/ folder: is it the --out of `grade`?",
              file=sys.stderr)
        return 2
    try:
        with storage.locked(args.out):
            return _feedback_locked(args)
    except storage.OutputLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _feedback_locked(args: argparse.Namespace) -> int:
    if getattr(args, "release_hidden", False) or getattr(args, "withhold_hidden", False):
        visibility.set_hidden_released(args.out, bool(getattr(args, "release_hidden", False)))
    skipped: list[str] = []
    results = storage.saved_results(args.out, warn=skipped.append)
    for warning in skipped:
        print(warning, file=sys.stderr)
    failed = len(skipped)
    items = {id(r): Submission(r["student_id"], r["assignment"], r["notebook"],
                               Path(r["path"]) if isinstance(r.get("path"), str) else None)
             for r in results}
    written = batch.written_grades(args.out, list(items.values()))
    for result in results:
        item = items[id(result)]
        # A result saved without a key keeps None (save_result's ``key`` is really
        # ``str | None``; autograder/execution/ is not retyped here).
        task.save_result(args.out, item, result.get("key"), result,  # type: ignore[arg-type]
                         written[item])
        for problem in result.get("write_errors", []) + (
                [f"only scores shown ({result['feedback_error']})"]
                if result.get("feedback_error") else []):
            print(f"warning: {display_name(item[0])}/{display_name(item[1])}: "
                  f"{display_name(problem)}", file=sys.stderr)
    try:
        storage.write_csv(args.out, results)
    except storage.WriteFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(results)} feedback page(s) under {args.out / 'feedback'} and "
          f"{OutFolder(args.out).grades_csv}" + (f"; {failed} result file(s) unreadable" if failed else ""))
    return 0


def command_release(args: argparse.Namespace) -> int:
    (assignment,) = chosen([args.assignment])
    if command_build(argparse.Namespace(check=True, assignments=[])) != 0:
        print("error: the release is out of date: run `python -m autograder build` first",
              file=sys.stderr)
        return 1
    target = build.zip_release(assignment, args.zip or config.ROOT / "build" / f"{assignment.name}.zip")
    print(f"wrote {target}: unzip it anywhere, then `pip install -r requirements.txt` and open "
          f"{assignment.notebook}.ipynb")
    return 0


def command_demo(args: argparse.Namespace) -> int:
    for assignment in course.current().assignments:
        build.build(assignment)
    submissions = demo.make_submissions(args.out / "submissions")
    print(f"built the releases and {len(submissions)} demo submissions in {args.out / 'submissions'}")
    args.assignment = None
    return command_grade(args, args.out / "submissions")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return {"build": command_build, "grade": command_grade, "feedback": command_feedback,
            "release": command_release, "demo": command_demo,
            "export": export.run, "similarity": similarity.run,
            "gradescope": bundle.run, "serve": serve.run}[args.command](args)
