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
import textwrap
import time

import numpy as np
import pytest

import solutions.deep_mlp as reference
from autograder import demo
from autograder.demo import functions_in, written_in
from autograder.execution.batch import grade_all
from autograder.sandbox.wire import decode, encode
from course_under_test import DMLP
from known_mistakes.deep_mlp import MISTAKES, train_variant
from nnlab.deep_mlp import checks
from nnlab.testing import LocalStudent
from wrapped import squeezed

ROOT = DMLP.root
DEMO = DMLP.demo_dir
REFERENCE = {function.__name__: function for function in reference.STUDENT_FUNCTIONS}
DEMO_TRAININGS = ("sig_params", "F_train", "histories")  # the demo cells the test skips
WRITTEN = {"sigmoid_slow": 2.0, "depth_changes": 2.0}
# the demo students' mistakes: the records of known_mistakes/deep_mlp.py with a student
DEMO_MISTAKES = {mistake.student: mistake for mistake in MISTAKES if mistake.student}
# train_mlp's mistakes (fails=None: the grader's training tests are too slow to run each)
TRAIN_MISTAKES = [pytest.param(mistake, id=mistake.name) for mistake in MISTAKES
                  if mistake.function == "train_mlp"]


def demo_score(mistake):
    """What the grader gives the demo student who makes ``mistake``: 30 less its fails."""
    return 30 - sum(DMLP.by_id[grade_id].points for grade_id in mistake.fails)


class WireStudent(LocalStudent):
    """A local student whose arguments and results cross the grader's wire format."""

    def __getattr__(self, name):
        function = super().__getattr__(name)
        return lambda *args, **kwargs: decode(encode(function(*decode(encode(args)),
                                                             **kwargs)))

    def track(self, name, *args, **kwargs):
        return decode(encode(super().track(name, *args, **kwargs)))

    def record(self, watch, name, *args, **kwargs):
        recorder = LocalStudent(self._namespace)  # records where the function looks names up
        return decode(encode(recorder.record(watch, name, *decode(encode(args)), **kwargs)))


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
    for student, mistake in DEMO_MISTAKES.items():
        function, expected = mistake.function, demo_score(mistake)
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


# ----------------------------------------------------------------------------------------
# train_mlp: its mistakes fail the graded history test; correct variants pass check() and it


def notebook_namespace():
    """The reference functions defined in one namespace, as the notebook's cells do (so
    train_mlp calls whatever mlp_backward the namespace holds, and check() records it)."""
    namespace = {"np": np}
    for function in reference.STUDENT_FUNCTIONS:
        exec(textwrap.dedent(inspect.getsource(function)), namespace)
    return namespace


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mistake", TRAIN_MISTAKES)
def test_graded_history_test_fails_each_train_mistake(mistake):
    """The same table drives the grader: its hidden train_mlp_history_of_its_steps reads a
    recorded run through check_training.audit, as check() does."""
    namespace = notebook_namespace()
    exec(mistake.source, namespace)
    with pytest.raises(Exception):  # a failed test, or the student's code raised
        DMLP.by_id["train_mlp_history_of_its_steps"].function(LocalStudent(namespace))


@pytest.mark.parametrize("mistake", [case for case in TRAIN_MISTAKES if set(
    case.values[0].hints) & {"train_history_data", "train_history_stale", "train_history_batches",
                             "train_history_values", "train_grad_norms_last",
                             "train_grad_norms_values", "train_no_shuffle", "train_shuffle_once"}])
def test_a_history_or_shuffling_mistake_keeps_the_visible_train_test(mistake):
    namespace = notebook_namespace()
    exec(mistake.source, namespace)
    DMLP.by_id["train_mlp_history_format"].function(LocalStudent(namespace))


FLOAT32 = (("    params = init_mlp(sizes, scheme, seed)\n",
            "    params = {k: v.astype(np.float32) for k, v in init_mlp(sizes, scheme, seed).items()}\n"
            "    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)\n"),)
# correct train_mlp written otherwise: check("train_mlp") passes them without a hint
TRAIN_CORRECT = {
    "rng_shuffle_of_indices": train_variant(
        ("order = rng.permutation(N)", "order = np.arange(N)\n        rng.shuffle(order)")),
    "permuted_copies_of_the_data": train_variant(
        ("        order = rng.permutation(N)\n",
         "        order = rng.permutation(N)\n        Xs, Ys = X_train[order], Y_train[order]\n"),
        ("batch = order[start:start + batch_size]", "batch = slice(start, start + batch_size)"),
        ("mlp_forward(X_train[batch]", "mlp_forward(Xs[batch]"),
        ("softmax_ce_loss(scores, Y_train[batch])", "softmax_ce_loss(scores, Ys[batch])")),
    "float32": train_variant(*FLOAT32),
    "logs_the_training_set_after_every_step": train_variant(
        ("            steps += 1\n",
         "            steps += 1\n            mlp_forward(X_train, params, activations)\n")),
    "history_as_arrays": train_variant(
        ("return params, history",
         "return params, {key: np.array(value) for key, value in history.items()}")),
    "array_split_keywords_in_place": train_variant(
        ("for start in range(0, N, batch_size):\n            batch = order[start:start + batch_size]",
         "for batch in np.array_split(order, -(-N // batch_size)):"),
        ("mlp_backward(dscores, caches, params, activations)",
         "mlp_backward(dscores=dscores, caches=caches, params=params, activations=activations)"),
        ("params[name] = params[name] + velocity[name]", "params[name] += velocity[name]")),
    "own_evaluation_and_norms": train_variant(
        ("np.linalg.norm(grads[f\"W{l}\"])", "np.sqrt(np.sum(grads[f\"W{l}\"] ** 2))"),
        ("scores, _ = mlp_forward(X, params, activations)",
         "scores = mlp_forward(X, params, activations)[0]"),
        ("loss, _ = softmax_ce_loss(scores, Y)",
         "shifted = scores - scores.max(1, keepdims=True)\n"
         "            loss = -np.mean(np.sum(Y * (shifted - np.log(np.exp(shifted).sum(1, keepdims=True))), 1))")),
}


@pytest.mark.parametrize("name", sorted(TRAIN_CORRECT))
def test_check_passes_correct_trains(name, capsys):
    namespace = notebook_namespace()
    exec(TRAIN_CORRECT[name], namespace)
    started = time.perf_counter()
    passed = checks.check("train_mlp", namespace)
    out = capsys.readouterr().out
    assert passed is True and "Hint" not in out, f"a correct train_mlp ({name}) fails:\n{out}"
    assert time.perf_counter() - started < 2.0, "check('train_mlp') is slow"


@pytest.mark.parametrize("name", sorted(TRAIN_CORRECT))
def test_graded_history_test_passes_correct_trains(name):
    namespace = notebook_namespace()
    exec(TRAIN_CORRECT[name], namespace)
    DMLP.by_id["train_mlp_history_of_its_steps"].function(LocalStudent(namespace))


def test_train_mlp_is_not_charged_for_a_failing_loss(capsys):
    """A history that differs only because the student's softmax_ce_loss is wrong (mean over
    N*K entries) is a note pointing there, not a failure of train_mlp."""
    namespace = notebook_namespace()
    source = textwrap.dedent(inspect.getsource(REFERENCE["softmax_ce_loss"]))
    exec(source.replace("/ N\n    return", "/ Y.size\n    return"), namespace)
    passed = checks.check("train_mlp", namespace)
    out = capsys.readouterr().out
    assert passed is True and "softmax_ce_loss, which fail(s) its own check" in squeezed(out), out


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
    for student, mistake in DEMO_MISTAKES.items():
        function, expected = mistake.function, demo_score(mistake)
        assert results[student]["score"] == expected, (student, results[student]["score"])
        lost = {t["grade_id"] for t in results[student]["tests"]
                if t["points"] < t["max_points"]}
        assert any(DMLP.target_of(DMLP.by_id[g]) == function for g in lost), (student, lost)
    page = (out / "feedback" / "ada_correct" / DMLP.name / f"{DMLP.notebook}.html")
    assert "Your notebook" in page.read_text()
