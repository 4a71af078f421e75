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
    "ben_sigmoid_at_activation": ("sigmoid_backward", 27, ["sigmoid_at_activation"]),
    "cat_hidden_bias": ("mlp_backward", 26, ["mlp_bias_hidden"]),
    "dan_cache_activation": ("mlp_forward", 28, ["mlp_cache_activation"]),
    "eli_init_variance_as_std": ("init_mlp", 28, ["init_variance_as_std"]),
}


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


# ----------------------------------------------------------------------------------------
# check("train_mlp"): each known mistake of train_mlp gets its hint; correct variants pass


def notebook_namespace():
    """The reference functions defined in one namespace, as the notebook's cells do (so
    train_mlp calls whatever mlp_backward the namespace holds, and check() records it)."""
    namespace = {"np": np}
    for function in reference.STUDENT_FUNCTIONS:
        exec(textwrap.dedent(inspect.getsource(function)), namespace)
    return namespace


def train_variant(*edits):
    """The reference train_mlp's source with each (old, new) edit applied (old must occur
    exactly once)."""
    source = textwrap.dedent(inspect.getsource(REFERENCE["train_mlp"]))
    for old, new in edits:
        assert source.count(old) == 1, f"{old!r} occurs {source.count(old)} times in\n{source}"
        source = source.replace(old, new)
    return source


EVALUATION = (
    '        for split, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):\n'
    '            scores, _ = mlp_forward(X, params, activations)\n'
    '            loss, _ = softmax_ce_loss(scores, Y)\n'
    '            history[f"{split}_loss"].append(float(loss))\n'
    '            history[f"{split}_acc"].append(float((scores.argmax(1) == Y.argmax(1)).mean()))\n')
SHUFFLE = "        order = rng.permutation(N)\n"
SEEN = (("norms, steps = np.zeros(L), 0", "norms, steps, seen = np.zeros(L), 0, []"),
        ("_, dscores = softmax_ce_loss(scores, Y_train[batch])",
         "seen_loss, dscores = softmax_ce_loss(scores, Y_train[batch])\n"
         "            seen.append(seen_loss)"))
ON_ALL = (("L, N = len(sizes) - 1, X_train.shape[0]",
           "L = len(sizes) - 1\n    X_all, Y_all = np.vstack([X_train, X_test]), "
           "np.vstack([Y_train, Y_test])\n    N = len(X_all)"),
          ("mlp_forward(X_train[batch]", "mlp_forward(X_all[batch]"),
          ("softmax_ce_loss(scores, Y_train[batch])", "softmax_ce_loss(scores, Y_all[batch])"))
# (hint keys check("train_mlp") must print, train_mlp's source)
TRAIN_MISTAKES = [
    pytest.param(["train_history_data"], train_variant(
        ('("test", X_test, Y_test)', '("test", X_train, Y_train)')),
        id="test_metrics_on_the_training_set"),
    pytest.param(["train_history_data"], train_variant(
        ('("train", X_train, Y_train)', '("train", X_test, Y_test)')),
        id="train_metrics_on_the_test_set"),
    pytest.param(["train_history_stale"], train_variant(
        (EVALUATION, ""), (SHUFFLE, EVALUATION + SHUFFLE)),
        id="history_before_the_epochs_steps"),
    pytest.param(["train_history_batches"], train_variant(*SEEN, (
        'append(float(loss))', 'append(float(np.mean(seen) if split == "train" else loss))')),
        id="train_loss_averaged_over_the_mini_batches"),
    pytest.param(["train_history_batches"], train_variant(*SEEN, (
        'append(float(loss))', 'append(float(seen[-1] if split == "train" else loss))')),
        id="train_loss_of_the_last_mini_batch"),
    pytest.param(["train_history_values"], train_variant(
        ("append(float(loss))",
         "append(float(loss) if split == 'train' else 0.5 ** len(history['test_loss']))")),
        id="made_up_test_loss"),
    pytest.param(["train_history_values"], train_variant(
        ("float((scores.argmax(1) == Y.argmax(1)).mean())",
         "100 * float((scores.argmax(1) == Y.argmax(1)).mean())")),
        id="accuracy_in_percent"),
    pytest.param(["train_grad_norms_last"], train_variant(
        ("[float(v) for v in norms / steps]",
         '[float(np.linalg.norm(grads[f"W{l}"])) for l in range(1, L + 1)]')),
        id="grad_norms_of_the_last_mini_batch"),
    pytest.param(["train_grad_norms_values"], train_variant(
        ("for v in norms / steps]", "for v in norms]")), id="grad_norms_summed"),
    pytest.param(["train_grad_norms_values"], train_variant(
        ('np.linalg.norm(grads[f"W{l}"])', 'np.linalg.norm(params[f"W{l}"])')),
        id="grad_norms_of_the_weights"),
    pytest.param(["train_on_test"], train_variant(*ON_ALL), id="trains_on_train_and_test"),
    pytest.param(["train_on_test"], train_variant(
        ("mlp_forward(X_train[batch]", "mlp_forward(X_test[batch]"),
        ("softmax_ce_loss(scores, Y_train[batch])", "softmax_ce_loss(scores, Y_test[batch])")),
        id="mini_batches_from_the_test_set"),
    pytest.param(["train_no_shuffle"], train_variant(
        ("order = rng.permutation(N)", "order = np.arange(N)")), id="never_shuffles"),
    pytest.param(["train_shuffle_once"], train_variant(
        (SHUFFLE, ""), ("    for _ in range(epochs):\n",
                        "    order = rng.permutation(N)\n    for _ in range(epochs):\n")),
        id="shuffles_once_before_the_epochs"),
    pytest.param(["train_shuffle_once"], train_variant(
        ("order = rng.permutation(N)", "order = np.random.default_rng(seed).permutation(N)")),
        id="generator_re_created_every_epoch"),
    pytest.param(["train_same_batches"], train_variant(
        ("order = rng.permutation(N)",
         "order = np.concatenate([np.arange(b, min(b + batch_size, N)) "
         "for b in rng.permutation(np.arange(0, N, batch_size))])")),
        id="shuffles_the_batches_not_the_examples"),
    pytest.param(["train_batches"], train_variant(
        ("order = rng.permutation(N)", "order = rng.integers(0, N, N)")),
        id="draws_with_replacement"),
    pytest.param(["train_batches"], train_variant(
        ("range(0, N, batch_size)", "range(0, N - batch_size, batch_size)")),
        id="skips_the_last_mini_batch"),
    pytest.param(["train_labels"], train_variant(
        ("softmax_ce_loss(scores, Y_train[batch])", "softmax_ce_loss(scores, Y_train[np.sort(batch)])")),
        id="targets_shuffled_apart_from_examples"),
    pytest.param(["train_update"], train_variant(
        ("momentum * velocity[name] - lr * grads[name]", "- lr * grads[name]")),
        id="momentum_ignored"),
    pytest.param(["train_update"], train_variant(
        ("        norms, steps = np.zeros(L), 0\n",
         "        norms, steps = np.zeros(L), 0\n"
         "        velocity = {name: np.zeros_like(value) for name, value in params.items()}\n")),
        id="velocity_reset_every_epoch"),
    pytest.param(["train_update"], train_variant(
        ("params[name] + velocity[name]", "params[name] - lr * grads[name]")),
        id="plain_sgd_step_keeps_velocity_unused"),
    pytest.param(["train_returned_params"], train_variant(
        ("    velocity = {", "    start = {name: value.copy() for name, value in params.items()}\n"
                           "    velocity = {"),
        ("return params, history", "return start, history")),
        id="returns_the_initial_params"),
    pytest.param(["train_no_progress"], train_variant(
        ("grads = mlp_backward(dscores, caches, params, activations)",
         "grads = {name: 0 * value for name, value in params.items()}")),
        id="no_gradient_step"),
    pytest.param(["train_format"], train_variant(
        ("return params, history", "return params, history['train_loss']")),
        id="returns_only_the_losses"),
]


@pytest.mark.parametrize("hints, source", TRAIN_MISTAKES)
def test_check_names_each_train_mistake(hints, source, capsys):
    namespace = notebook_namespace()
    exec(source, namespace)
    assert checks.check("train_mlp", namespace) is False, capsys.readouterr().out
    out = capsys.readouterr().out
    for key in hints:
        assert squeezed(checks.HINTS[key]) in squeezed(out), f"hint {key!r} missing for\n{source}\n{out}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("hints, source", TRAIN_MISTAKES)
def test_graded_history_test_fails_each_train_mistake(hints, source):
    """The same table drives the grader: its hidden train_mlp_history_of_its_steps reads a
    recorded run through check_training.audit, as check() does."""
    namespace = notebook_namespace()
    exec(source, namespace)
    with pytest.raises(Exception):  # a failed test, or the student's code raised
        DMLP.by_id["train_mlp_history_of_its_steps"].function(LocalStudent(namespace))


@pytest.mark.parametrize("hints, source", [case for case in TRAIN_MISTAKES if set(
    case.values[0]) & {"train_history_data", "train_history_stale", "train_history_batches",
                       "train_history_values", "train_grad_norms_last",
                       "train_grad_norms_values", "train_no_shuffle", "train_shuffle_once"}])
def test_a_history_or_shuffling_mistake_keeps_the_visible_train_test(hints, source):
    namespace = notebook_namespace()
    exec(source, namespace)
    DMLP.by_id["train_mlp_history_format"].function(LocalStudent(namespace))


def test_every_train_hint_is_exercised():
    from nnlab.deep_mlp import check_training
    exercised = {key for case in TRAIN_MISTAKES for key in case.values[0]}
    assert set(check_training.HINTS) <= exercised, sorted(set(check_training.HINTS) - exercised)


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
    for student, (function, expected, _) in DEMO_MISTAKES.items():
        assert results[student]["score"] == expected, (student, results[student]["score"])
        lost = {t["grade_id"] for t in results[student]["tests"]
                if t["points"] < t["max_points"]}
        assert any(DMLP.target_of(DMLP.by_id[g]) == function for g in lost), (student, lost)
    page = (out / "feedback" / "ada_correct" / DMLP.name / f"{DMLP.notebook}.html")
    assert "Your notebook" in page.read_text()
