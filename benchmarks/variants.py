"""Benchmark: held-out variants (issue 18). Does the grader give full marks to correct code
written otherwise, charge each realistic mistake to its own function only, and does check()
agree?

The variants live in ``benchmarks/variants/<assignment>/{correct,buggy}/<name>.py``: each file
holds only the function(s) that differ from the reference (whole sources; a correct variant may
bring helper functions of its own), and its first line is a comment saying what it is (for a
bug: which function is wrong). Nothing here is part of the test suite: the variants are
held out, to measure the grader and check() on code they were not written against.

For each variant this script

- builds the reference notebook with the variant's functions replaced (the notebook's setup
  cell run, every reference function defined in one namespace, as a notebook's cells define
  them, so callers call the variant), with the in-process grading helpers of the test suite
  (``tests/known_mistakes``: ``reference_notebook``, ``failing_tests``), and grades it with the assignment's graded tests, hidden ones included,
  with the inputs of one grading run;
- runs ``check(<function>)`` on that notebook, for each student function the file defines,
  in a subprocess (forked from this one, so nothing is imported again, and started before the
  grading so that the two overlap), which no variant shares with another.

deep_mlp's training tests (train_mlp's: a network trained for about a minute under load) are
graded only for the variants of train_mlp, as the test suite's mistake tables do; ``--all-tests``
grades them for every variant.

It prints, per assignment: correct variants with full marks, buggy variants that lose points on
their own function's tests, buggy variants that also lose points on OTHER functions' tests
(one charge per mistake violated), check()'s verdicts, then every miss by name with what
happened. The last line gives the totals.

    .venv/bin/python benchmarks/variants.py [--assignment NAME ...] [--only NAME ...] [--verbose]
                                            [--all-tests]

Grading in-process (``LocalStudent``) runs the same test functions as ``python -m autograder
grade``, with the student's functions called directly instead of in the sandboxed student
process; ``failing_tests`` ignores RuntimeWarnings, as the test suite does.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import sys
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the in-process grading helpers live in the test suite (tests/known_mistakes/), imported as
# the tests import it, as a top-level package: both folders go on the path
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from autograder import course  # noqa: E402
from autograder.demo import functions_in  # noqa: E402
from known_mistakes import failing_tests, reference_notebook  # type: ignore[import-not-found]  # noqa: E402

VARIANTS = ROOT / "benchmarks" / "variants"
KINDS = ("correct", "buggy")
CHECK_TIMEOUT = 300.0  # seconds for one variant's check() calls
# functions whose tests train a network for a minute: graded only for their own variants
# (unless --all-tests), as tests/known_mistakes does for deep_mlp
SLOW_TRAINING = {"deep_mlp": ("train_mlp",)}
# A buggy variant's first line ends with this tag when its bug raises, returns a wrong shape or
# modifies an input: README ("A mistake costs the tests of its own function") lets such a bug
# reach the functions calling it, by necessity.
REACHES_CALLERS = "[reaches callers:"


@dataclass(frozen=True)
class Variant:
    """One held-out variant: its file and the functions it defines."""

    assignment: str
    kind: str               # "correct" or "buggy"
    name: str
    path: Path
    description: str        # the file's first-line comment
    sources: dict[str, str]  # every function of the file, name -> source

    @property
    def reaches_callers(self) -> str | None:
        """Why README lets this bug reach its callers ("raises", "wrong shape", "modifies an
        input"), from the first line's tag; None for the others."""
        if REACHES_CALLERS not in self.description:
            return None
        return self.description.split(REACHES_CALLERS, 1)[1].split("]", 1)[0].strip()

    def targets(self, functions: tuple[str, ...] | list[str]) -> list[str]:
        """The student functions (of ``functions``, in their order) this variant replaces."""
        return [name for name in functions if name in self.sources]


@dataclass
class Outcome:
    """What grading and check() made of one variant."""

    variant: Variant
    targets: list[str]
    lost: dict[str, str]                     # grade_id -> message, the tests that failed
    lost_by_function: dict[str, list[str]]   # student function -> its failed grade_ids
    check_verdicts: dict[str, bool | None]   # target -> check()'s result (None: no answer)
    check_output: str
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # why this variant is a miss
    exceptions: list[str] = field(default_factory=list)  # other functions charged, as README allows

    @property
    def full_marks(self) -> bool:
        """No test lost."""
        return not self.lost

    @property
    def own_charged(self) -> bool:
        """Some test of a function this variant replaces was lost."""
        return any(name in self.lost_by_function for name in self.targets)

    @property
    def others_charged(self) -> list[str]:
        """The grade_ids lost on functions this variant does not replace."""
        return [grade_id for name, ids in self.lost_by_function.items()
                if name not in self.targets for grade_id in ids]

    @property
    def check_passed(self) -> bool | None:
        """check() passed every target (None when a verdict is missing)."""
        verdicts = [self.check_verdicts.get(name) for name in self.targets]
        if any(verdict is None for verdict in verdicts):
            return None
        return all(verdicts)


def load_variants(assignment: course.Assignment, only: set[str] | None = None) -> list[Variant]:
    """The variants of ``assignment`` (correct first, then buggy, each sorted by name),
    restricted to the names in ``only`` when given."""
    variants = []
    for kind in KINDS:
        for path in sorted((VARIANTS / assignment.name / kind).glob("*.py")):
            if only and path.stem not in only:
                continue
            lines = path.read_text().splitlines()
            description = lines[0].lstrip("#").strip() if lines else ""
            sources = {name: source for name, source in functions_in(path).items() if source}
            variants.append(Variant(assignment.name, kind, path.stem, path, description, sources))
    return variants


def notebook_namespace(assignment: course.Assignment, variant: Variant) -> dict:
    """The notebook's globals of a student who wrote the reference but for the variant's
    functions (the setup cell's names, ``check`` included, and every function)."""
    return reference_notebook(assignment, *variant.sources.values())


def start_check(assignment: course.Assignment, variant: Variant) -> tuple[BaseProcess, Connection]:
    """Fork the process that runs check() on the variant's functions (``check_worker``);
    returns it and the end of the pipe its answer comes through."""
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(
        target=check_worker, args=(assignment, variant, sender), daemon=True)
    process.start()
    sender.close()
    return process, receiver


def finish_check(process: BaseProcess, receiver: Connection,
                 targets: list[str]) -> tuple[dict[str, bool | None], str]:
    """check()'s verdict for each target (None: no answer) and what it printed."""
    verdicts: dict[str, bool | None] = {name: None for name in targets}
    output = ""
    try:
        if receiver.poll(CHECK_TIMEOUT):
            answer, output = receiver.recv()
            verdicts.update(answer)
        else:
            output = f"[check() gave no answer within {CHECK_TIMEOUT:.0f} s]"
    except EOFError:
        output = "[the check() process ended without an answer]"
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if process.exitcode:
        output += f"\n[the check() process exited with code {process.exitcode}]"
    return verdicts, output


def check_worker(assignment: course.Assignment, variant: Variant, sender: Connection) -> None:
    """In the forked process: check(<function>) for each student function of the variant,
    on its notebook, what it prints captured; sends ({function: passed or None}, output).
    Warnings are left as a notebook shows them (check() may look for them)."""
    verdicts: dict[str, bool | None] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        namespace = notebook_namespace(assignment, variant)
        for target in variant.targets(assignment.functions):
            print(f"--- check({target!r})")
            try:
                verdicts[target] = bool(namespace["check"](target, namespace))
            except Exception:  # check() itself failed: no verdict
                print("[check() raised]\n" + traceback.format_exc(limit=3))
                verdicts[target] = None
    sender.send((verdicts, out.getvalue()))
    sender.close()


def evaluate(assignment: course.Assignment, variant: Variant, all_tests: bool = False) -> Outcome:
    """Grade the variant's notebook (every test but other functions' slow training tests,
    unless ``all_tests``; one grading run) while check() runs in a subprocess; the variant's
    misses are filled in."""
    started = time.perf_counter()
    targets = variant.targets(assignment.functions)
    skip = () if all_tests else [name for name in SLOW_TRAINING.get(assignment.name, ())
                                 if name not in targets]
    process, receiver = start_check(assignment, variant)
    try:
        lost = failing_tests(assignment, notebook_namespace(assignment, variant), skip)
    except BaseException:
        process.kill()
        raise
    by_function: dict[str, list[str]] = {}
    for grade_id in lost:
        by_function.setdefault(assignment.target_of(assignment.by_id[grade_id]), []).append(grade_id)
    verdicts, output = finish_check(process, receiver, targets)
    outcome = Outcome(variant, targets, lost, by_function, verdicts, output,
                      time.perf_counter() - started)
    outcome.problems, outcome.exceptions = misses(outcome)
    return outcome


def misses(outcome: Outcome) -> tuple[list[str], list[str]]:
    """(what went wrong for this variant, one line each; the other functions' tests it lost
    that README lets it lose, its bug being tagged REACHES_CALLERS). Both empty: as expected."""
    problems: list[str] = []
    exceptions: list[str] = []
    lost = "; ".join(f"{g}: {m}" for g, m in outcome.lost.items())
    if not outcome.targets:
        problems.append("defines no student function of the assignment")
    if outcome.variant.kind == "correct":
        if not outcome.full_marks:
            problems.append(f"expected full marks, lost {sorted(outcome.lost)} -- {lost}")
        if outcome.check_passed is not True:
            problems.append(f"expected check() to pass, got {outcome.check_verdicts}")
    else:
        if not outcome.own_charged:
            problems.append(f"expected to lose points on {outcome.targets}'s tests, lost "
                            f"{sorted(outcome.lost) or 'nothing'}" + (f" -- {lost}" if lost else ""))
        others = outcome.others_charged
        if others:
            lines = exceptions if outcome.variant.reaches_callers else problems
            lines.append("one charge violated: also lost " + "; ".join(
                f"{g}: {outcome.lost[g]}" for g in others))
        if outcome.check_passed is not False:
            problems.append(f"expected check() to catch it, got {outcome.check_verdicts}")
    return problems, exceptions


def check_excerpt(output: str, lines: int = 6) -> str:
    """The last non-empty lines of check()'s output, indented, for a miss's report."""
    kept = [line for line in output.splitlines() if line.strip()][-lines:]
    return "\n".join("        | " + line for line in kept)


def report(assignment: course.Assignment, outcomes: list[Outcome], verbose: bool) -> dict[str, int]:
    """Print the assignment's table and its misses; return its counts."""
    correct = [o for o in outcomes if o.variant.kind == "correct"]
    buggy = [o for o in outcomes if o.variant.kind == "buggy"]
    counts = {
        "correct": len(correct), "buggy": len(buggy),
        "full_marks": sum(o.full_marks for o in correct),
        "own_charged": sum(o.own_charged for o in buggy),
        "others_charged": sum(bool(o.others_charged) for o in buggy),
        "others_charged_allowed": sum(bool(o.exceptions) for o in buggy),
        "check_pass": sum(o.check_passed is True for o in correct),
        "check_caught": sum(o.check_passed is False for o in buggy),
        "misses": sum(bool(o.problems) for o in outcomes),
    }
    print(f"\n== {assignment.name}: {counts['correct']} correct, {counts['buggy']} buggy variants "
          f"({sum(o.seconds for o in outcomes):.0f} s) ==")
    if verbose:
        for o in outcomes:
            print(f"  {o.variant.kind:7} {o.variant.name:52} lost {len(o.lost):2} "
                  f"(others {len(o.others_charged)})  check {o.check_passed}  {o.seconds:5.1f} s"
                  + (f"\n          lost: {', '.join(o.lost)}" if o.lost else ""))
    rows = [
        ("correct variants with full marks", f"{counts['full_marks']}/{counts['correct']}"),
        ("buggy variants losing points on their own function's tests",
         f"{counts['own_charged']}/{counts['buggy']}"),
        ("buggy variants losing points on OTHER functions' tests too",
         f"{counts['others_charged']}"),
        ("  of which README allows (the bug raises, wrong shape, modifies an input)",
         f"{counts['others_charged_allowed']}"),
        ("check(): correct variants passed", f"{counts['check_pass']}/{counts['correct']}"),
        ("check(): buggy variants caught", f"{counts['check_caught']}/{counts['buggy']}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value:>6}")
    missed = [o for o in outcomes if o.problems]
    print(f"  misses: {len(missed)}" + ("" if missed else " (none)"))
    for o in missed:
        print(f"    {o.variant.kind} {o.variant.name} [{', '.join(o.targets)}]: {o.variant.description}")
        for problem in o.problems:
            print(f"      - {problem}")
        if any("check()" in problem for problem in o.problems):
            print("      check() said:\n" + check_excerpt(o.check_output))
    allowed = [o for o in outcomes if o.exceptions]
    if allowed:
        print(f"  other functions charged as README allows ({len(allowed)}):")
    for o in allowed:
        print(f"    {o.variant.name} [{', '.join(o.targets)}, {o.variant.reaches_callers}]")
        for line in o.exceptions:
            print(f"      - {line}")
    return counts


def main(argv: list[str] | None = None) -> int:
    """Grade and check every selected variant; print the tables, misses and totals."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    parser.add_argument("--only", action="append", help="only the variant of this name (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="one line per variant too")
    parser.add_argument("--all-tests", action="store_true",
                        help=f"grade the slow training tests {SLOW_TRAINING} for every variant")
    args = parser.parse_args(argv)
    the_course = course.current()
    names = args.assignment or list(the_course.names)
    unknown = sorted(set(names) - set(the_course.names))
    if unknown:
        parser.error(f"unknown assignment(s): {', '.join(unknown)}")
    only = set(args.only) if args.only else None
    totals: dict[str, int] = {}
    for name in names:
        assignment = the_course.get(name)
        variants = load_variants(assignment, only)
        if not variants:
            continue
        outcomes = []
        for variant in variants:
            outcomes.append(evaluate(assignment, variant, args.all_tests))
            print(f"  graded {name}/{variant.kind}/{variant.name}: lost {len(outcomes[-1].lost)}, "
                  f"check {outcomes[-1].check_passed} ({outcomes[-1].seconds:.1f} s)",
                  file=sys.stderr, flush=True)
        skipped: tuple[str, ...] = () if args.all_tests else SLOW_TRAINING.get(name, ())
        if skipped:
            print(f"\n({name}: the tests of {', '.join(skipped)} graded only for its own variants; "
                  f"--all-tests for all)")
        for key, value in report(assignment, outcomes, args.verbose).items():
            totals[key] = totals.get(key, 0) + value
    if not totals:
        print("no variant selected")
        return 1
    print(f"\nTOTAL: correct with full marks {totals['full_marks']}/{totals['correct']}; "
          f"buggy losing own points {totals['own_charged']}/{totals['buggy']}; "
          f"buggy charging other functions {totals['others_charged']} "
          f"({totals['others_charged_allowed']} as README allows); "
          f"check() correct passed {totals['check_pass']}/{totals['correct']}, "
          f"buggy caught {totals['check_caught']}/{totals['buggy']}; "
          f"variants with a miss {totals['misses']}/{totals['correct'] + totals['buggy']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
