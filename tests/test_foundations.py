"""The foundations assignment: reference, graded tests, demo students, self-checks, template.

Runs the suite with local students (as tests/test_suite.py does), the self-checks through
nnlab.foundations.checks (the shared engine nnlab.checking with this assignment's TABLE),
and the instructor's notebook cell by cell in one namespace.
"""

import ast
import inspect
import re
import textwrap
import time
import warnings

import numpy as np
import pytest

import solutions.foundations as reference
from autograder import build, config
from autograder.demo import functions_in, written_in
from autograder.sandbox.wire import decode, encode
from course_under_test import FND
from nnlab.foundations import checks, handout
from nnlab.foundations.networks import one_hidden_layer
from nnlab.checking.hints import diagnosis
from known_mistakes.foundations import MISTAKES, fnd
from nnlab.testing import LocalStudent, TestFailed

BY_ID, FUNCTION_NAMES, TESTS, target_of = FND.by_id, FND.functions, FND.tests, FND.target_of
NOTEBOOK_TEST_IMPORTS, SETUP_CODE = FND.test_imports, FND.setup_code
ROOT = config.ROOT
DEMO = ROOT / "demo" / "foundations"
TEMPLATE = ROOT / "autograder" / "assignment" / "foundations.md"
REFERENCE = {function.__name__: function for function in reference.STUDENT_FUNCTIONS}
WRITTEN = {"derivation_softmax_jacobian": 2.0, "l1_no_closed_form": 2.0,
           "one_hidden_layer_tradeoffs": 2.0}
# (visible points, hidden points) per function; 30 in all, as in two_layer_net
POINTS = {"graph_forward": (2, 1), "graph_backward": (2, 2), "count_parameters": (1, 1),
          "conv_output_size": (1, 1), "softmax_jacobian": (2, 2), "l1_loss": (1, 1),
          "l1_subgradient": (2, 1), "fit_l1": (1, 2), "box_network": (1, 2),
          "staircase_network": (1, 3)}
# the demo students' mistakes: the records of known_mistakes/foundations.py with a student
DEMO_MISTAKES = {mistake.student: mistake for mistake in MISTAKES if mistake.student}


def notebook_namespace():
    """The reference functions defined in one namespace, as the notebook's cells do (so
    fit_l1 calls whatever l1_subgradient the namespace holds)."""
    namespace = {"np": np}
    for function in reference.STUDENT_FUNCTIONS:
        exec(textwrap.dedent(inspect.getsource(function)), namespace)
    return namespace


def namespace_of(student):
    """The notebook globals of a demo student: ada's functions, then the student's."""
    namespace = {"np": np}
    sources = functions_in(DEMO / "students" / "ada_correct.py")
    sources.update(functions_in(DEMO / "students" / f"{student}.py"))
    for source in sources.values():
        exec(source, namespace)
    return namespace


class WireStudent(LocalStudent):
    """A local student whose arguments and results cross the grader's wire format (plain
    data only: anything else raises WireError), as they do between grader and sandbox."""

    def __getattr__(self, name):
        function = super().__getattr__(name)
        return lambda *args: decode(encode(function(*decode(encode(args)))))

    def track(self, name, *args):
        return decode(encode(super().track(name, *args)))

    def record(self, watch, name, *args):
        """The calls ``name`` makes, recorded in the namespace (where the notebook's are)."""
        return decode(encode(LocalStudent(self._namespace).record(watch, name,
                                                                  *decode(encode(args)))))


def score(namespace):
    """(points, {grade_id: failure message}) of the whole suite on a namespace."""
    points, lost = 0.0, {}
    for test in TESTS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                test.function(WireStudent(namespace))
        except (AssertionError, NotImplementedError) as error:
            lost[test.grade_id] = str(error) or type(error).__name__
        else:
            points += test.points
    return points, lost


# ----------------------------------------------------------------------------------------
# the graded tests


def test_suite_layout_points_and_visibility():
    assert len(BY_ID) == len(TESTS), "two tests share a grade_id"
    assert FUNCTION_NAMES == checks.FUNCTION_NAMES, "suite and check() list other functions"
    for name, (visible, hidden) in POINTS.items():
        mine = [test for test in TESTS if target_of(test) == name]
        got = (sum(t.points for t in mine if not t.hidden), sum(t.points for t in mine if t.hidden))
        assert got == (visible, hidden), f"{name}: (visible, hidden) points {got}"
    assert set(POINTS) == set(FUNCTION_NAMES), "POINTS must list every student function"
    assert sum(test.points for test in TESTS) == 30, "the autograded total must be 30"
    for test in TESTS:
        assert test.summary, f"{test.grade_id} has no docstring"
        if not test.hidden:
            assert "solutions" not in test.source(), f"visible {test.grade_id} uses solutions"


def test_test_bodies_use_only_names_the_notebook_provides():
    namespace = {}
    exec(NOTEBOOK_TEST_IMPORTS, namespace)
    for test in TESTS:
        used = inspect.getclosurevars(test.function).globals
        missing = sorted(set(used) - set(namespace))
        assert not missing, f"{test.grade_id} uses {missing}, not imported in the notebook"


def test_worked_graph_numbers_are_in_visible_tests():
    forward = BY_ID["graph_forward_worked_example"]
    backward = BY_ID["graph_backward_worked_example"]
    assert not forward.hidden and not backward.hidden, "the worked example must be visible"
    inputs = '{"w0": 0.3, "b0": 0.1, "w1": -0.2, "b1": -0.3}'
    for test, numbers in ((forward, handout.GRAPH_CACHE), (backward, handout.GRAPH_GRADS)):
        source = test.source()
        assert inputs in source and "1.0" in source, f"{test.grade_id} lacks the inputs"
        for key, value in numbers.items():
            assert f'"{key}": {value}' in source, f"{test.grade_id} lacks {key} = {value}"
    assert handout.GRAPH_CACHE["z"] == 0.62 and handout.GRAPH_GRADS["x0"] == 0.94
    cache = reference.graph_forward(1.0, handout.GRAPH_PARAMS)
    grads = reference.graph_backward(1.0, handout.GRAPH_PARAMS, cache)
    for got, want in ((cache, handout.GRAPH_CACHE), (grads, handout.GRAPH_GRADS)):
        for key, value in want.items():
            assert abs(got[key] - value) < 1e-12, f"{key}: {got[key]} != {value}"


def test_handout_values_agree_with_the_reference():
    assert reference.count_parameters(handout.MLP_LAYER_SIZES) == handout.MLP_PARAMETERS == 557057
    for n, kernel, stride, padding, out in handout.CONV_EXAMPLES:
        assert reference.conv_output_size(n, kernel, stride, padding) == out, (n, kernel)
    np.testing.assert_allclose(reference.softmax_jacobian(handout.JACOBIAN_PROBABILITIES),
                               handout.JACOBIAN, atol=1e-15)
    assert reference.l1_loss(handout.L1_X, handout.L1_Y, handout.L1_W) == handout.L1_LOSS
    np.testing.assert_allclose(reference.l1_subgradient(handout.L1_X, handout.L1_Y,
                                                        handout.L1_W), handout.L1_SUBGRADIENT)
    w, history = reference.fit_l1(handout.FIT_X, handout.FIT_Y, handout.FIT_LR, handout.FIT_STEPS)
    np.testing.assert_allclose(history, handout.FIT_HISTORY, rtol=1e-12)
    np.testing.assert_allclose(w, handout.FIT_W, rtol=1e-12)


@pytest.mark.parametrize("grade_id", sorted(BY_ID))
def test_reference_passes(grade_id):
    BY_ID[grade_id].function(WireStudent(REFERENCE))


def test_stubs_score_zero():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    points, lost = score({name: stub for name in FUNCTION_NAMES})
    assert points == 0 and len(lost) == len(TESTS), f"stubs earn {points} points"
    assert set(lost.values()) == {"NotImplementedError"}, set(lost.values())


def test_staircase_error_shrinks_with_n():
    B = 2.0
    x = np.linspace(-B, B, 8000, endpoint=False) + 1e-4
    errors = []
    for n in (2, 8, 32, 128, 512):
        midpoints = -B + (np.arange(n) + 0.5) * 2 * B / n
        params = reference.staircase_network(B, np.exp(midpoints / 2))
        errors.append(float(np.max(np.abs(one_hidden_layer(x, params) - np.exp(x / 2)))))
        assert errors[-1] <= 0.5 * np.exp(1.0) * B / n, f"n = {n}: error {errors[-1]}"
    assert all(a > 3 * b for a, b in zip(errors, errors[1:])), f"errors {errors}"


# ----------------------------------------------------------------------------------------
# demo students


def test_ada_gets_full_marks_and_every_demo_mistake_loses_points():
    points, lost = score(namespace_of("ada_correct"))
    assert points == 30 and not lost, f"ada_correct loses {lost}"
    students = sorted(path.stem for path in (DEMO / "students").glob("*.py"))
    assert students == sorted(["ada_correct", *DEMO_MISTAKES]), students
    for student, mistake in DEMO_MISTAKES.items():
        function = mistake.function
        expected = 30 - sum(BY_ID[grade_id].points for grade_id in mistake.fails)
        points, lost = score(namespace_of(student))
        assert points == expected, f"{student}: {points}/30, expected {expected}; lost {lost}"
        assert any(grade_id.startswith(function + "_") for grade_id in lost), (
            f"{student} loses no test of {function}: {sorted(lost)}")
        overridden = set(functions_in(DEMO / "students" / f"{student}.py"))
        assert overridden == {function}, f"{student} should override only {function}"


def test_demo_written_answers_use_the_manual_grade_ids():
    for path in (DEMO / "written").glob("*.md"):
        assert set(written_in(path)) <= set(WRITTEN), f"{path.name}: {set(written_in(path))}"
    assert {path.stem for path in (DEMO / "written").glob("*.md")} == \
        {path.stem for path in (DEMO / "students").glob("*.py")}, "one answers file per student"


# ----------------------------------------------------------------------------------------
# check(): the self-checks


def run_check(name, namespace, capsys):
    passed = checks.check(name, namespace)
    return passed, capsys.readouterr().out


def test_reference_and_ada_pass_every_check_quickly(capsys):
    for namespace in (dict(REFERENCE, np=np), notebook_namespace(), namespace_of("ada_correct")):
        for name in FUNCTION_NAMES:
            started = time.perf_counter()
            passed, out = run_check(name, namespace, capsys)
            assert passed is True and "Hint" not in out and "checks passed" in out, out
            assert time.perf_counter() - started < 1.0, f"check({name!r}) is slow"


@pytest.mark.parametrize("student", sorted(DEMO_MISTAKES))
def test_check_of_a_demo_students_whole_notebook_fails(student, capsys):
    """check() of the notebook of each demo student fails (check(function) names each
    mistake: tests/test_hints.py, over the table)."""
    passed, out = run_check(None, namespace_of(student), capsys)
    assert passed is False and out.count("FAILED") >= 1, out


# correct graph_backward gates (derivative 0 at an input of exactly 0) that must pass
CORRECT_VARIANTS = [
    ("graph_backward", 'dx1 if cache["s0"] > 0 else 0.0',
     'dx1 * np.heaviside(cache["s0"], 0.0)'),
    ("graph_backward", 'dx1 if cache["s0"] > 0 else 0.0', 'dx1 * float(cache["x1"] > 0)'),
    ("graph_backward", 'dy = 1.0 if cache["y"] > 0 else 0.0', 'dy = float(cache["z"] > 0)'),
    ("graph_backward", 'dy = 1.0 if cache["y"] > 0 else 0.0',
     'dy = float(np.sign(max(cache["y"], 0.0)))'),
]


@pytest.mark.parametrize("name, old, new", CORRECT_VARIANTS,
                         ids=[f"{m[0]}_{i}" for i, m in enumerate(CORRECT_VARIANTS)])
def test_check_passes_correct_variants(name, old, new, capsys):
    namespace, source = notebook_namespace(), fnd(name, old, new)
    exec(source, namespace)
    passed, out = run_check(name, namespace, capsys)
    assert passed is True and "Hint" not in out, f"check fails a correct {name}:\n{source}\n{out}"


def test_stubs_blocked_and_missing_functions(capsys, tmp_path):
    stub = tmp_path / "stubs.py"   # as the release has them: docstring, comment, raise
    stub.write_text(re.sub(r"### BEGIN SOLUTION.*### END SOLUTION",
                           "# YOUR CODE HERE\n    raise NotImplementedError()",
                           build.answer_source(reference.l1_subgradient), flags=re.S))
    namespace = notebook_namespace()
    exec(compile(stub.read_text(), str(stub), "exec"), namespace)
    passed, out = run_check("l1_subgradient", namespace, capsys)
    assert passed is False and out.startswith("l1_subgradient: not implemented yet"), out
    passed, out = run_check("fit_l1", namespace, capsys)
    assert passed is False and "fit_l1: cannot be checked yet: it calls l1_subgradient, " \
        "which is not implemented yet" in out, out
    namespace["boxnetwork"] = namespace.pop("box_network")
    passed, out = run_check("box_network", namespace, capsys)
    assert passed is False and "box_network: not defined" in out and "boxnetwork" in out, out
    passed, out = run_check("box_netwrk", namespace, capsys)
    assert passed is False and "Did you mean 'box_network'?" in out, out


def test_a_failed_test_gets_checks_hint_in_the_notebook_and_from_the_grader():
    """The hints of a failed test come from this assignment's TABLE, by any of its names:
    run_test in the notebook and the grader's diagnosis (through the student's process)
    give ben's skip-connection mistake the same hint."""
    from autograder.grading import hints as grader_diagnosis
    from test_hints import LocalProcess
    namespace = namespace_of("ben_skip_gradient")
    for assignment in (checks.TABLE, checks, "foundations"):
        found = diagnosis(assignment, "graph_backward", namespace)
        assert found == [checks.HINTS["graph_skip_gradient"]], found
    with pytest.raises(TestFailed) as info:
        checks.run_test(BY_ID["graph_backward_worked_example"].function, namespace)
    assert checks.HINTS["graph_skip_gradient"] in info.value.hint, info.value.hint
    hint = grader_diagnosis.hint("foundations", "graph_backward", LocalProcess(namespace), 10.0,
                                 time.monotonic() + 60)
    assert hint == info.value.hint, (hint, info.value.hint)


def test_shipped_package_holds_no_reference_and_modules_stay_small():
    shipped = sorted((ROOT / "nnlab" / "foundations").glob("*.py"))
    hidden_seeds = set()
    for test in TESTS:
        if test.hidden:
            hidden_seeds |= set(re.findall(r"default_rng\((\d+)\)", test.source()))
    for path in shipped:
        text = path.read_text()
        tree = ast.parse(text)
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"solutions", "autograder"}, f"{path.name} imports {imported}"
        for seed in hidden_seeds:
            assert f"default_rng({seed})" not in text, f"{path.name} reuses hidden seed {seed}"
    mine = shipped + sorted((ROOT / "solutions" / "foundations").glob("*.py")) \
        + sorted((ROOT / "autograder" / "suite" / "foundations").glob("*.py"))
    for path in mine:
        tree = ast.parse(path.read_text())
        assert not [node for node in ast.walk(tree)
                    if isinstance(node, ast.ExceptHandler) and node.type is None], path
        assert len(path.read_text().splitlines()) <= 300, f"{path} is too long"
    for function in (*reference.STUDENT_FUNCTIONS, checks.check, one_hidden_layer):
        doc = inspect.getdoc(function)
        assert "Inputs:" in doc and "Returns:" in doc, f"{function.__name__}'s docstring"


# ----------------------------------------------------------------------------------------
# the notebook template


def instructor_cells():
    """(kind, source) of the instructor's notebook cells built from the template."""
    cells = []
    for block in build.parse_template(TEMPLATE.read_text()):
        if block.kind == "setup":
            cells.append(("code", SETUP_CODE))
        elif block.kind == "tests":
            found = [test for test in TESTS if target_of(test) == block.args[0]]
            assert found, f"template line {block.line}: no tests for {block.args[0]}"
            cells += [("code", build.test_cell_source(test)) for test in found]
        else:
            cells += [(cell.cell_type, cell.source) for cell in build.cells_for(block, FND)]
    return cells


def test_template_covers_every_function_test_and_written_answer():
    blocks = build.parse_template(TEMPLATE.read_text())
    answers = [block.args[0] for block in blocks if block.kind == "answer"]
    assert tuple(answers) == FUNCTION_NAMES, f"answer blocks {answers}"
    for kind in ("check", "tests"):
        names = [block.args[0] for block in blocks if block.kind == kind]
        assert tuple(names) == FUNCTION_NAMES, f"{kind} blocks {names}"
    manual = {block.args[0]: float(block.args[1]) for block in blocks if block.kind == "manual"}
    assert manual == WRITTEN, manual
    for block in blocks:
        if block.kind == "manual":
            assert "**Model answer.**" in block.body and "**Rubric" in block.body, block.args


def test_instructor_notebook_runs_top_to_bottom(capsys):
    namespace = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # plt.show() under Agg
        for kind, source in instructor_cells():
            if kind == "code":
                exec(compile(source, "<cell>", "exec"), namespace)
    out = capsys.readouterr().out
    assert out.count("passed: ") == len(TESTS), out
    assert "Hint" not in out and "not implemented" not in out, out
    errors = re.findall(r"n = +(\d+) .*largest error ([\d.]+)", out)
    assert len(errors) == 7 and all(float(a[1]) > float(b[1]) for a, b in zip(errors, errors[1:]))
    w_l1, w_ls = namespace["w_l1"], namespace["w_ls"]   # the data follow y = 1 + 2 x
    assert abs(w_l1[0] - 1.0) < 1.0 and abs(w_l1[1] - 2.0) < 0.1, f"L1 fit {w_l1}"
    assert abs(w_ls[0] - 1.0) > 5.0, f"least squares {w_ls} should be pulled by the outliers"
    namespace["plt"].close("all")
