"""The foundations assignment through the real grader (sandbox, pool, CSV, feedback): the
correct-but-different student gets full marks, the untouched release 0, and each demo
mistake loses points on a test of the function it breaks."""

import pytest

from autograder import demo
from autograder.execution.batch import grade_all
from course_under_test import FND
from known_mistakes.foundations import MISTAKES as KNOWN_MISTAKES

# demo student -> the function its one mistake is in (known_mistakes/foundations.py)
MISTAKES = {mistake.student: mistake.function for mistake in KNOWN_MISTAKES if mistake.student}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("foundations")
    demo.make_submissions(base / "subs", [FND])
    results, _ = grade_all(base / "subs", base / "out", jobs=2)
    return {r["student_id"]: r for r in results}, base / "out"


def test_every_demo_mistake_is_listed():
    students = {path.stem for path in (FND.demo_dir / "students").glob("*.py")}
    assert students == set(MISTAKES) | {"ada_correct"}, sorted(students)


def test_correct_and_untouched(graded):
    results, _ = graded
    assert (results["ada_correct"]["status"], results["ada_correct"]["score"]) == ("ok", 30), (
        [(t["grade_id"], t["status"], t["message"][:200]) for t in results["ada_correct"]["tests"]
         if t["status"] != "passed"])
    assert results["fay_untouched"]["score"] == 0 and all(
        t["status"] == "not_implemented" for t in results["fay_untouched"]["tests"]), (
        {t["grade_id"]: t["status"] for t in results["fay_untouched"]["tests"]})


@pytest.mark.parametrize("student", sorted(MISTAKES))
def test_each_mistake_costs_its_own_function(graded, student):
    results, out = graded
    function = MISTAKES[student]
    lost = {t["grade_id"] for t in results[student]["tests"] if t["points"] < t["max_points"]}
    assert any(FND.target_of(FND.by_id[g]) == function for g in lost), (
        f"{student} should lose points on a {function} test, lost {sorted(lost)}")
    page = (out / "feedback" / student / FND.name / f"{FND.notebook}.html").read_text()
    assert "Your notebook" in page and "<math" in page, "the page shows the notebook's formulas"
