"""The deep_mlp assignment: reference, graded tests, demo students, self-checks, and an
end-to-end grade of the demo through the real grader (sandbox, pool, CSV, feedback).

The local part runs the suite with LocalStudent (arguments and results through the
grader's wire format, as tests/test_foundations.py does); the graded part is
tests/test_foundations_graded.py's, for this assignment.
"""

import ast
import inspect
import json
import re
import time

import numpy as np
import pytest

import solutions.deep_mlp as reference
from autograder import demo
from autograder.batch import grade_all
from autograder.demo import functions_in, written_in
from autograder.wire import decode, encode
from course_under_test import DMLP
from nnlab.deep_mlp import checks
from nnlab.testing import LocalStudent
from wrapped import squeezed

ROOT = DMLP.root
DEMO = DMLP.demo_dir
REFERENCE = {function.__name__: function for function in reference.STUDENT_FUNCTIONS}
DEMO_TRAININGS = ("sig_params", "F_train", "histories")  # the demo cells the test skips
WRITTEN = {"sigmoid_slow": 2.0, "depth_changes": 2.0}
# demo student -> (function with the mistake, autograded score, check() hint keys)
DEMO_MISTAKES = {
    "ben_sigmoid_at_activation": ("sigmoid_backward", 21, ["sigmoid_at_activation"]),
    "cat_hidden_bias": ("mlp_backward", 26, ["mlp_bias_hidden"]),
    "dan_cache_activation": ("mlp_forward", 26, ["mlp_cache_activation"]),
    "eli_init_variance_as_std": ("init_mlp", 26, ["init_variance_as_std"]),
}


class WireStudent(LocalStudent):
    """A local student whose arguments and results cross the grader's wire format."""

    def __getattr__(self, name):
        function = super().__getattr__(name)
        return lambda *args, **kwargs: decode(encode(function(*decode(encode(args)),
                                                             **kwargs)))

    def track(self, name, *args, **kwargs):
        return decode(encode(super().track(name, *args, **kwargs)))


def namespace_of(student):
    """The notebook globals of a demo student: ada's functions, then the student's."""
    namespace = {"np": np}
    sources = functions_in(DEMO / "students" / "ada_correct.py")
    sources.update(functions_in(DEMO / "students" / f"{student}.py"))
    for source in sources.values():
        exec(source, namespace)
    return namespace


def score(namespace):
    """(points, {grade_id: exception name}) of the suite on these functions."""
    student, points, lost = LocalStudent(namespace), 0.0, {}
    for test in DMLP.tests:
        try:
            test.function(student)
        except Exception as error:  # a failed test: recorded, as the grader does
            lost[test.grade_id] = type(error).__name__
        else:
            points += test.points
    return points, lost


def test_layout_points_and_docstrings():
    assert DMLP.max_score == 30, DMLP.max_score
    assert DMLP.functions == checks.FUNCTION_NAMES
    for test in DMLP.tests:
        assert DMLP.target_of(test) in DMLP.functions
        assert any(not t.hidden for t in DMLP.tests if DMLP.target_of(t) == DMLP.target_of(test))
    for function in reference.STUDENT_FUNCTIONS:
        assert "Inputs:" in function.__doc__ and "Returns:" in function.__doc__, function


def test_test_bodies_use_only_names_the_notebook_provides():
    namespace = {}
    exec(DMLP.test_imports, namespace)
    for test in DMLP.tests:
        used = inspect.getclosurevars(test.function).globals
        missing = sorted(set(used) - set(namespace))
        assert not missing, f"{test.grade_id} uses {missing}, not imported in the notebook"


def test_instructor_notebook_runs_its_answer_check_and_test_cells(capsys):
    """Every code cell of the source notebook but the demo trainings and plots, in order."""
    cells = json.loads(DMLP.source_notebook.read_text())["cells"]
    namespace = {}
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or any(name in source for name in DEMO_TRAININGS):
            continue
        exec(compile(source, "cell", "exec"), namespace)
    out = capsys.readouterr().out
    assert out.count("passed: ") == len(DMLP.tests), out  # hidden ones included
    assert "FAILED" not in out and "Hint" not in out, out


@pytest.mark.parametrize("grade_id", sorted(DMLP.by_id))
def test_reference_passes_through_the_wire(grade_id):
    DMLP.by_id[grade_id].function(WireStudent(REFERENCE))


def test_stubs_score_zero():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    points, lost = score({name: stub for name in DMLP.functions})
    assert points == 0 and set(lost.values()) == {"NotImplementedError"}, lost


def test_ada_full_marks_and_each_demo_mistake_loses_its_functions_points():
    points, lost = score(namespace_of("ada_correct"))
    assert points == 30 and not lost, lost
    students = sorted(path.stem for path in (DEMO / "students").glob("*.py"))
    assert students == sorted(["ada_correct", *DEMO_MISTAKES]), students
    for student, (function, expected, _) in DEMO_MISTAKES.items():
        points, lost = score(namespace_of(student))
        assert points == expected, f"{student}: {points}/30, expected {expected}; {lost}"
        assert any(g.startswith(function + "_") for g in lost), (student, sorted(lost))
        assert set(functions_in(DEMO / "students" / f"{student}.py")) == {function}


def test_demo_written_answers_use_the_manual_grade_ids():
    for path in (DEMO / "written").glob("*.md"):
        assert set(written_in(path)) <= set(WRITTEN), path.name
    assert {p.stem for p in (DEMO / "written").glob("*.md")} == \
        {p.stem for p in (DEMO / "students").glob("*.py")}


def test_reference_and_ada_pass_every_check_quickly(capsys):
    for namespace in (dict(REFERENCE, np=np), namespace_of("ada_correct")):
        started = time.perf_counter()
        assert checks.check(None, namespace) is True, capsys.readouterr().out
        assert "Hint" not in capsys.readouterr().out
        assert time.perf_counter() - started < 3.0, "check() is slow"


@pytest.mark.parametrize("student", sorted(DEMO_MISTAKES))
def test_check_names_each_demo_mistake(student, capsys):
    function, _, hints = DEMO_MISTAKES[student]
    assert checks.check(function, namespace_of(student)) is False
    out = capsys.readouterr().out
    for key in hints:
        assert squeezed(checks.HINTS[key]) in squeezed(out), f"{student}: hint {key!r} missing from\n{out}"


def test_shipped_package_holds_no_reference_and_modules_stay_small():
    hidden_seeds = {seed for test in DMLP.tests if test.hidden
                    for seed in re.findall(r"default_rng\((\d+)\)", test.source())}
    shipped = sorted((ROOT / "nnlab" / "deep_mlp").glob("*.py"))
    for path in shipped:
        text = path.read_text()
        tree = ast.parse(text)
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"solutions", "autograder"}, f"{path.name} imports {imported}"
        for seed in hidden_seeds:
            assert f"default_rng({seed})" not in text, f"{path.name} reuses seed {seed}"
    mine = shipped + sorted((ROOT / "solutions" / "deep_mlp").glob("*.py")) \
        + sorted((ROOT / "autograder" / "suite" / "deep_mlp").glob("*.py"))
    for path in mine:
        tree = ast.parse(path.read_text())
        assert not [node for node in ast.walk(tree)
                    if isinstance(node, ast.ExceptHandler) and node.type is None], path
        assert len(path.read_text().splitlines()) <= 300, f"{path} is too long"


# ----------------------------------------------------------------------------------------
# end to end: the demo through the real grader


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("deep_mlp")
    demo.make_submissions(base / "subs", [DMLP])
    results, _ = grade_all(base / "subs", base / "out", jobs=2)
    return {r["student_id"]: r for r in results}, base / "out"


def test_graded_correct_untouched_and_mistakes(graded):
    results, out = graded
    ada = results["ada_correct"]
    assert (ada["status"], ada["score"]) == ("ok", 30), [
        (t["grade_id"], t["status"], t["message"][:200]) for t in ada["tests"]
        if t["status"] != "passed"]
    assert results["fay_untouched"]["score"] == 0
    for student, (function, expected, _) in DEMO_MISTAKES.items():
        assert results[student]["score"] == expected, (student, results[student]["score"])
        lost = {t["grade_id"] for t in results[student]["tests"]
                if t["points"] < t["max_points"]}
        assert any(DMLP.target_of(DMLP.by_id[g]) == function for g in lost), (student, lost)
    page = (out / "feedback" / "ada_correct" / DMLP.name / f"{DMLP.notebook}.html")
    assert "Your notebook" in page.read_text()
