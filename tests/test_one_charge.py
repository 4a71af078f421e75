"""One charge per mistake (docs/security.md, "A mistake costs the tests of its own function"): in
each assignment, a known mistake in ONE function fails the tests it must fail, all of them
tests of that function, and every other test passes.

The mistakes are each assignment's table in tests/known_mistakes/ (check()'s side of the
same records: tests/test_hints.py). Each student is the reference's functions defined in one
namespace, as a notebook's cells define them (so a caller calls the wrong function), with
one function's source replaced. Hidden tests draw what one grading run would draw.

Left out of "every other test passes": the training tests (two_layer_net's train, seconds per
student; deep_mlp's train_mlp, a minute) of a mistake in another function: they are graded
apart, with the student's own layers (known_mistakes.TRAINING). deep_mlp's train_mlp
mistakes are not graded here at all (``fails=None``; tests/test_deep_mlp.py runs the test
that sees them).
"""

import pytest

from autograder.demo import functions_in
from course_under_test import COURSE
from known_mistakes import (ASSIGNMENTS, TRAINING, Mistake, correct_variants, failing_tests,
                            graded, reference_notebook, table)

BY_NAME = {assignment.name: assignment for assignment in COURSE.assignments}
# tests no known mistake fails yet (each assignment's other tests fail for at least one)
NOT_YET_FAILED: dict[str, set[str]] = {}


def grader_cases() -> list:
    """A pytest.param (assignment name, Mistake) per mistake the grader runs (``fails`` not
    None), marked xfail(strict=True) where the table names a known miss of the grader."""
    cases = []
    for assignment in ASSIGNMENTS:
        for mistake in table(assignment):
            if mistake.fails is None:
                continue
            marks = ([pytest.mark.xfail(strict=True, reason=mistake.grader_xfail)]
                     if mistake.grader_xfail else [])
            cases.append(pytest.param(assignment, mistake, marks=marks,
                                      id=f"{assignment}-{mistake.name}"))
    return cases


@pytest.mark.parametrize("assignment, mistake", grader_cases())
def test_a_mistake_costs_only_its_own_functions_tests(assignment: str, mistake: Mistake):
    course_assignment = BY_NAME[assignment]
    for grade_id in mistake.fails:
        assert course_assignment.target_of(course_assignment.by_id[grade_id]) == \
            mistake.function, f"{mistake.name}: {grade_id} is not a test of {mistake.function}"
    lost = graded(course_assignment, mistake)
    assert set(lost) == set(mistake.fails), (
        f"{mistake.name} in {mistake.function}: fails {sorted(lost)}, expected exactly "
        f"{sorted(mistake.fails)}; "
        + "; ".join(f"{g}: {m}" for g, m in lost.items() if g not in mistake.fails))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_fails_for_some_known_mistake(assignment: str):
    """Each test can fail: some mistake of the table fails it (train_mlp's tests, whose
    mistakes the grader does not run here, aside; and NOT_YET_FAILED, listed)."""
    course_assignment, mistakes = BY_NAME[assignment], table(assignment)
    caught = {grade_id for mistake in mistakes for grade_id in mistake.fails or ()}
    not_run = {mistake.function for mistake in mistakes if mistake.fails is None}
    expected = {test.grade_id for test in course_assignment.tests
                if course_assignment.target_of(test) not in not_run}
    waived = NOT_YET_FAILED.get(assignment, set())
    assert not caught & waived, f"remove {sorted(caught & waived)} from NOT_YET_FAILED"
    missing = sorted(expected - caught - waived)
    assert not missing, f"{assignment}: tests no known mistake fails: {missing}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_demo_student_is_one_known_mistake(assignment: str):
    """Every demo student but ada (correct) is a record of the table, with the source of
    the one function the student overrides."""
    course_assignment = BY_NAME[assignment]
    records = {m.student: m for m in table(assignment) if m.student}
    students = {path.stem for path in (course_assignment.demo_dir / "students").glob("*.py")}
    assert set(records) == students - {"ada_correct"}, sorted(students ^ set(records))
    for student, mistake in records.items():
        functions = functions_in(course_assignment.demo_dir / "students" / f"{student}.py")
        assert set(functions) == {mistake.function}, (student, sorted(functions))
        assert functions[mistake.function].strip() == mistake.source.strip(), student


# correct functions written otherwise (each table's CORRECT), and the reference itself
CORRECT_CASES = [(a, v) for a in ASSIGNMENTS for v in [None, *correct_variants(a)]]


@pytest.mark.parametrize("assignment, variant", CORRECT_CASES,
                         ids=[f"{a}-{v or 'reference'}" for a, v in CORRECT_CASES])
def test_correct_notebooks_lose_nothing(assignment: str, variant: str | None):
    course_assignment = BY_NAME[assignment]
    sources = () if variant is None else (correct_variants(assignment)[variant],)
    lost = failing_tests(course_assignment, reference_notebook(course_assignment, *sources),
                         skip=TRAINING.get(assignment, ()))
    assert not lost, lost
