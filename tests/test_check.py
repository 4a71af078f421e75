"""nnlab.two_layer_net.checks, the students' self-check: it passes the reference and
correct-but-different code without a hint, and is quick (that it names each known mistake:
tests/test_hints.py, over tests/known_mistakes/).
Also: the shipped package nnlab holds no reference or hidden test and stays in small modules."""

import ast
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import solutions.two_layer_net as solutions
from autograder import config
from autograder.demo import functions_in
from known_mistakes import edited
from known_mistakes.two_layer_net import SOFTMAX
from known_mistakes.two_layer_net_network import BACKPROP, FORWARD
from known_mistakes.two_layer_net_train import TRAIN
from nnlab import accuracy, init_params
from nnlab.checking import engine
from nnlab.two_layer_net import checks as check_module
from nnlab.two_layer_net.checks import FUNCTION_NAMES, HINTS, check, gradient_check

DEMO = config.ROOT / "demo" / "two_layer_net" / "students"


def reference_namespace():
    """The notebook's globals of a student who wrote the reference solution."""
    namespace = {function.__name__: function for function in solutions.STUDENT_FUNCTIONS}
    namespace.update(np=np, init_params=init_params, accuracy=accuracy)
    return namespace


def with_sources(*sources, base=None):
    """A namespace whose functions are overridden by running ``sources`` in it."""
    namespace = dict(reference_namespace() if base is None else base)
    for source in sources:
        exec(textwrap.dedent(source), namespace)
    return namespace


def ada_namespace():
    """ada_correct's functions (loops, np.where, log-sum-exp, einsum, in-place momentum)."""
    namespace = {"np": np, "init_params": init_params, "accuracy": accuracy}
    for source in functions_in(DEMO / "ada_correct.py").values():
        exec(source, namespace)
    return namespace


@pytest.fixture(autouse=True)
def one_line_per_verdict(monkeypatch):
    """These tests read what check() says: its lines unwrapped (that check() wraps them to
    the notebook's width, between words, is tested in test_failure_messages)."""
    monkeypatch.setattr(engine, "WIDTH", 10**6)


def run_check(name, namespace, capsys):
    passed = check(name, namespace)
    return passed, capsys.readouterr().out




def test_reference_passes_every_check_without_hints(capsys):
    namespace = reference_namespace()
    for name in FUNCTION_NAMES:
        passed, out = run_check(name, namespace, capsys)
        assert passed is True, f"the reference fails check({name!r}):\n{out}"
        assert out.startswith(f"{name}: all ") and "checks passed" in out, (
            f"unexpected verdict for the reference {name}: {out}")
        assert "Hint" not in out and "FAILED" not in out, f"a hint for the reference:\n{out}"


def test_check_all_on_the_reference(capsys):
    passed, out = run_check(None, reference_namespace(), capsys)
    assert passed is True, f"check() fails the reference:\n{out}"
    lines = out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == list(FUNCTION_NAMES), (
        f"check() should print one verdict per function in the notebook's order:\n{out}")


def test_correct_but_different_implementations_pass(capsys):
    passed, out = run_check(None, ada_namespace(), capsys)
    assert passed is True, f"ada_correct (loops, np.where, log-sum-exp, einsum) fails:\n{out}"
    assert "Hint" not in out, f"a hint for a correct implementation:\n{out}"


ALTERNATIVES = [
    "def relu(x):\n    return np.clip(x, 0, None)\n",
    "def relu(x):\n    out = x.copy()\n    out[out < 0] = 0\n    return out\n",
    "def relu(x):\n    return x * (x > 0)\n",
    """
    def softmax(x):
        shifted = x - x.max(axis=-1, keepdims=True)
        return np.exp(shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True)))
    """,
    """
    def softmax(x):
        x = np.atleast_2d(x)
        out = np.empty_like(x, dtype=float)
        for n, row in enumerate(x):
            e = np.exp(row - row.max())
            out[n] = e / e.sum()
        return out.reshape(np.shape(x)) if out.shape[0] > 1 else out[0]
    """,
    "def compute_layer(X, W, b):\n    return np.einsum('nd,dh->nh', X, W) + b[None, :]\n",
    "def compute_layer(X, W, b):\n    return np.dot(X, W) + b\n",
    """
    def averageCE(target, prediction):
        return float(-np.mean(np.sum(target * np.log(np.clip(prediction, 1e-12, 1.0)), axis=1)))
    """,
    """
    def averageCE(target, prediction):
        rows = np.arange(len(target))
        return -np.log(prediction[rows, target.argmax(axis=1)]).mean()
    """,
    "def gradCE(target, prediction):\n    return np.subtract(prediction, target) / prediction.shape[0]\n",
    """
    def forward(X, params):
        out = {}
        out["Z1"] = X.dot(params["W1"]) + params["b1"]
        out["H"] = np.where(out["Z1"] > 0, out["Z1"], 0.0)
        out["Z2"] = out["H"].dot(params["W2"]) + params["b2"]
        out["P"] = softmax(out["Z2"])
        return out
    """,
    """
    def backprop(X, target, params, cache):
        N = X.shape[0]
        delta = (cache["P"] - target) / N
        hidden = np.where(cache["Z1"] > 0, delta.dot(params["W2"].T), 0.0)
        grads = {}
        grads["W2"] = np.einsum("nh,nk->hk", cache["H"], delta)
        grads["b2"] = delta.sum(0)
        grads["W1"] = X.T.dot(hidden)
        grads["b1"] = hidden.sum(0)
        return grads
    """,
    """
    def sgd_momentum_step(params, grads, velocity, lr, momentum):
        for key in params:
            velocity[key] = momentum * velocity[key] - lr * grads[key]
            params[key] += velocity[key]
        return params, velocity
    """,
]


@pytest.mark.parametrize("source", ALTERNATIVES,
                         ids=[ast.parse(textwrap.dedent(s)).body[0].name + f"_{i}"
                              for i, s in enumerate(ALTERNATIVES)])
def test_other_correct_implementations_pass(source, capsys):
    name = ast.parse(textwrap.dedent(source)).body[0].name
    passed, out = run_check(name, with_sources(source), capsys)
    assert passed is True, f"a correct {name} fails its check:\n{source}\n{out}"
    assert "Hint" not in out, f"a hint for a correct {name}:\n{out}"


TRAIN_ALTERNATIVES = {
    "in_place_step_result_not_kept": ("""
        def sgd_momentum_step(params, grads, velocity, lr, momentum):
            for key in params:
                velocity[key] = momentum * velocity[key] - lr * grads[key]
                params[key] += velocity[key]
            return params, velocity
        """, edited(TRAIN, "params, velocity = sgd_momentum_step(", "sgd_momentum_step(")),
    "while_loop_keywords_float32": ("""
        def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64,
                  lr=0.05, momentum=0.9, seed=0, progress=False):
            rng = np.random.default_rng(seed)
            X32 = X_train.astype(np.float32)
            params = {k: v.astype(np.float32) for k, v in
                      init_params(X_train.shape[1], hidden, Y_train.shape[1], rng).items()}
            velocity = {k: np.zeros(v.shape, np.float32) for k, v in params.items()}
            history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
            epoch = 0
            while epoch < epochs:
                order = rng.permutation(len(X32))
                done = 0
                while done < len(order):
                    rows = order[done:done + batch_size]
                    g = backprop(X=X32[rows], target=Y_train[rows], params=params,
                                 cache=forward(X32[rows], params))
                    params, velocity = sgd_momentum_step(params=params, grads=g,
                                                         velocity=velocity, lr=lr,
                                                         momentum=momentum)
                    done += batch_size
                for split, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
                    P = forward(X, params)["P"]
                    history[split + "_loss"].append(float(averageCE(Y, P)))
                    history[split + "_acc"].append(float(accuracy(Y, P)))
                epoch += 1
            return params, history
        """,),
}


TRAIN_ALTERNATIVES.update({
    "rng_shuffle_of_indices": (edited(
        TRAIN, "        for batch in np.array_split(rng.permutation(len(X_train)), n_batches):",
        "        order = np.arange(len(X_train))\n        rng.shuffle(order)\n"
        "        for batch in np.array_split(order, n_batches):"),),
    "permuted_copies_and_slices": (edited(edited(edited(
        TRAIN, "        for batch in np.array_split(rng.permutation(len(X_train)), n_batches):",
        "        order = rng.permutation(len(X_train))\n"
        "        Xs, Ys = X_train[order], Y_train[order]\n"
        "        for start in range(0, len(Xs), batch_size):\n"
        "            batch = slice(start, start + batch_size)"),
        "forward(X_train[batch], params)", "forward(Xs[batch], params)"),
        "backprop(X_train[batch], Y_train[batch],", "backprop(Xs[batch], Ys[batch],"),),
    "history_as_arrays": (edited(
        TRAIN, "return params, history",
        "return params, {key: np.array(value) for key, value in history.items()}"),),
})


@pytest.mark.parametrize("name", sorted(TRAIN_ALTERNATIVES))
def test_other_correct_trains_pass(name, capsys):
    passed, out = run_check("train", with_sources(*TRAIN_ALTERNATIVES[name]), capsys)
    assert passed is True and "Hint" not in out, f"a correct train ({name}) fails:\n{out}"


def test_not_implemented_stub(capsys):
    namespace = with_sources("def softmax(x):\n    raise NotImplementedError()\n")
    passed, out = run_check("softmax", namespace, capsys)
    assert passed is False, f"a stub passes: {out}"
    assert "softmax: not implemented yet" in out, f"stub not reported as such: {out}"


def test_release_stubs_are_not_implemented_even_when_prerequisites_are(tmp_path, capsys):
    """The release's stubs (docstring, comment, raise) are recognised from their source."""
    stubs = tmp_path / "stubs.py"
    stubs.write_text(textwrap.dedent('''
        def forward(X, params):
            """Forward pass."""
            # YOUR CODE HERE
            raise NotImplementedError()

        def backprop(X, target, params, cache):
            """Backprop."""
            # YOUR CODE HERE
            raise NotImplementedError()
        '''))
    namespace = reference_namespace()
    code = compile(stubs.read_text(), str(stubs), "exec")
    exec(code, namespace)
    passed, out = run_check("backprop", namespace, capsys)
    assert passed is False and out == "backprop: not implemented yet (replace " \
        "`raise NotImplementedError()` with your code and run the cell)\n", (
            f"a release stub should be reported as not implemented:\n{out}")


def test_student_prints_do_not_flood_the_verdict(capsys):
    source = edited(FORWARD, "    Z1 = ", "    print('debug', X.shape)\n    Z1 = ")
    passed, out = run_check("backprop", with_sources(source), capsys)
    assert passed is True and "debug" not in out, f"student prints leaked:\n{out}"


def test_function_calling_a_stub_is_not_checkable_yet(capsys):
    namespace = with_sources("def softmax(x):\n    raise NotImplementedError()\n", FORWARD)
    passed, out = run_check("forward", namespace, capsys)
    assert passed is False, f"forward calling a stub passes: {out}"
    assert "forward: cannot be checked yet: it calls softmax, which is not implemented yet" \
        in out, f"unexpected verdict: {out}"


def test_missing_and_renamed_functions(capsys):
    namespace = reference_namespace()
    namespace["average_ce"] = namespace.pop("averageCE")
    passed, out = run_check("averageCE", namespace, capsys)
    assert passed is False, f"a missing function passes: {out}"
    assert "averageCE: not defined" in out and "`average_ce`: did you rename it?" in out, (
        f"the verdict should say it is not defined and spot the renamed function: {out}")
    del namespace["average_ce"]
    passed, out = run_check("averageCE", namespace, capsys)
    assert passed is False and "averageCE: not defined" in out and "rename" not in out, (
        f"a deleted function should be reported as not defined:\n{out}")
    namespace["relu"] = 3
    passed, out = run_check("relu", namespace, capsys)
    assert passed is False and "relu: not a function" in out, (
        f"a name bound to a number should be reported as not a function:\n{out}")


def test_backprop_is_checked_without_a_failing_forward_or_loss(capsys):
    """The grader's backprop tests never use the student's forward or averageCE: neither
    does check("backprop") when one of them fails its own check."""
    loss = "def averageCE(target, prediction):\n    return -np.mean(target * np.log(prediction))\n"
    passed, out = run_check("backprop", with_sources(loss), capsys)
    assert passed is True and "independent forward pass and loss" in out \
        and "averageCE" in out, f"backprop should pass, with a note on the loss used:\n{out}"
    no_mask = edited(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)', "dZ1 = dH")
    passed, out = run_check("backprop", with_sources(loss, no_mask), capsys)
    assert passed is False and HINTS["backprop_relu_mask_missing"] in out, (
        f"a backprop mistake should still be named without the student's loss:\n{out}")


def test_forward_built_on_a_failing_softmax_passes_with_a_note(capsys):
    """forward is judged on its own work, as the grader judges it: P = your softmax(Z2)."""
    source = edited(SOFTMAX, "np.sum(e, axis=-1, keepdims=True)",
                     "(np.sum(e, axis=-1, keepdims=True) + 1e-5)")
    passed, out = run_check("forward", with_sources(source, FORWARD), capsys)
    assert passed is True, f"forward using an epsilon softmax rightly should pass:\n{out}"
    assert "cache['P'] is as your softmax makes it" in out and "check('softmax')" in out, (
        f"forward's verdict should point at softmax:\n{out}")
    relu = "def relu(x):\n    x[x < 0] = 0\n    return x\n"
    passed, out = run_check("forward", with_sources(relu, FORWARD), capsys)
    assert passed is True and "cache['Z1'] is as left by your relu" in out, (
        f"a relu that overwrites Z1 is relu's mistake, not forward's:\n{out}")
    layer2 = edited(FORWARD, 'compute_layer(H, params["W2"]', 'compute_layer(Z1, params["W2"]')
    passed, out = run_check("forward", with_sources(source, layer2), capsys)
    assert passed is False and HINTS["forward_layer2_input"] in out, (
        f"forward's own mistake is still named:\n{out}")


def test_backprop_built_on_a_failing_gradCE_passes_with_a_note(capsys):
    gradce = "def gradCE(target, prediction):\n    return prediction - target\n"
    passed, out = run_check("backprop", with_sources(gradce, BACKPROP), capsys)
    assert passed is True and "right for the dL/dZ2 your gradCE returns" in out, (
        f"backprop using a wrong gradCE rightly should pass, with a note:\n{out}")


def test_gradCE_says_which_loss_its_finite_differences_use(capsys):
    passed, out = run_check("gradCE", reference_namespace(), capsys)
    assert passed and "your own averageCE(target, softmax(z))" in out, (
        f"gradCE should say it used the student's own loss:\n{out}")
    broken = with_sources("def softmax(x):\n    return np.exp(x) / np.exp(x).sum()\n")
    passed, out = run_check("gradCE", broken, capsys)
    assert passed and "independent log-sum-exp" in out and "softmax" in out, (
        f"gradCE should say it fell back to log-sum-exp because softmax fails:\n{out}")


def test_unknown_name_and_function_argument(capsys):
    passed, out = run_check("Softmax", reference_namespace(), capsys)
    assert passed is False and "Did you mean 'softmax'?" in out, (
        f"an unknown name should be refused with a suggestion:\n{out}")
    passed = check(solutions.relu, reference_namespace())
    out = capsys.readouterr().out
    assert passed is True and out.startswith("relu: all"), (
        f"check(relu) with the function itself should work:\n{out}")


def test_default_namespace_is_the_callers_globals(capsys):
    namespace = reference_namespace()
    namespace["check"] = check
    exec("result = check('softmax')", namespace)
    out = capsys.readouterr().out
    assert namespace["result"] is True and out.startswith("softmax: all"), (
        f"check() should find the caller's globals:\n{out}")


def test_check_never_raises_for_student_errors(capsys):
    sources = [
        "def relu(x):\n    raise RuntimeError('boom')\n",
        "def softmax(x):\n    return {'a': 1}\n",
        "def forward(X, params):\n    return {'Z1': 'a', 'H': None, 'Z2': [1, [2]], 'P': 0}\n",
        "def backprop(X, target, params, cache):\n    return {'W1': None, 'b1': 1, 'W2': 'x', 'b2': []}\n",
        "def sgd_momentum_step(params, grads, velocity, lr, momentum):\n    return 1, 2\n",
        "def train(*args, **kwargs):\n    return {}, {'train_loss': 'x'}\n",
        "def averageCE(target, prediction):\n    return [1, 2]\n",
        "def gradCE(target, prediction):\n    return None\n",
    ]
    for source in sources:
        name = ast.parse(source).body[0].name
        passed, out = run_check(name, with_sources(source), capsys)
        assert passed is False and f"{name}: FAILED" in out, f"{source}\n{out}"


def test_gradient_check_reports_errors_and_worst_entries(capsys):
    namespace = reference_namespace()
    errors = gradient_check(namespace["backprop"], namespace["forward"], namespace["averageCE"])
    out = capsys.readouterr().out
    assert set(errors) == {"W1", "b1", "W2", "b2"}, f"keys {sorted(errors)}"
    assert all(error < 1e-7 for error in errors.values()), f"reference errors {errors}"
    assert out.count("  OK\n") == 4 and "FAIL" not in out, f"expected 4 OK lines:\n{out}"
    buggy = with_sources(edited(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)', "dZ1 = dH"))
    errors = gradient_check(buggy["backprop"], namespace["forward"], namespace["averageCE"],
                            seed=3)
    out = capsys.readouterr().out
    assert errors["W2"] < 1e-7 and errors["W1"] > 1e-3, f"errors {errors}"
    assert "W1  relative error" in out and "FAIL" in out and "worst entries" in out, (
        f"a failing gradient should be reported with its worst entries:\n{out}")
    assert out.count("      W1[") == 3, f"expected the 3 worst entries of W1:\n{out}"


def test_gradient_check_with_given_params(capsys):
    namespace = reference_namespace()
    rng = np.random.default_rng(9)
    params = init_params(6, 4, 3, rng)
    params["b1"] += 0.3
    errors = gradient_check(namespace["backprop"], namespace["forward"], namespace["averageCE"],
                            params=params, seed=1)
    out = capsys.readouterr().out
    assert all(error < 1e-6 for error in errors.values()), f"errors {errors}\n{out}"
    assert "N=4, D=6, H=4, K=3" in out, f"the header should give the sizes:\n{out}"


PACKAGE = Path(check_module.__file__).parents[2]  # nnlab/
SHIPPED = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(PACKAGE)) for p in SHIPPED])
def test_shipped_modules_hold_no_reference_or_hidden_tests(path):
    text = path.read_text()
    tree = ast.parse(text)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"solutions", "autograder"}, f"{path.name} imports {imported}"
    assert "import *" not in text, f"star import in {path}"
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            assert node.type is not None, f"bare except at line {node.lineno} of {path.name}"
        if isinstance(node, ast.Assert):
            assert node.msg is not None, f"assert without a message at line {node.lineno} of {path}"
    for seed in ("31337", "2718", "1618", "4417", "5150", "6174", "8080", "90125", "20260917"):
        assert seed not in text, f"{path.name} reuses a hidden test's seed {seed}"
    assert len(text.splitlines()) <= 400, f"{path} has {len(text.splitlines())} lines (400 at most)"


def test_shared_modules_need_no_assignment():
    """What every release ships (nnlab/*.py, nnlab/checking/) imports no assignment's own
    subpackage: a release holds only its own."""
    own = {path.parent.name for path in PACKAGE.glob("*/__init__.py")} - {"checking"}
    for path in sorted(PACKAGE.glob("*.py")) + sorted((PACKAGE / "checking").glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        wrong = {name for name in imported if name.split(".")[:2][-1] in own
                 and name.startswith("nnlab.")}
        assert not wrong, f"{path} imports {wrong}"


def test_check_and_gradient_check_say_what_they_take_and_give():
    for function in (check, gradient_check, check_module.run_test):
        doc = function.__doc__
        assert "Inputs:" in doc and "Returns:" in doc, (
            f"{function.__name__}'s docstring lacks Inputs/Returns")


def test_each_check_is_quick(capsys):
    """Each function's check (its prerequisites included) on the reference: < 0.3 s is the
    target; asserted with a generous 1 s (train: 5 s) so slow machines do not fail."""
    namespace = reference_namespace()
    check("train", namespace)  # warm the data cache (loading the digits once takes ~0.3 s)
    times = {}
    for name in FUNCTION_NAMES:
        started = time.perf_counter()
        check(name, namespace)
        times[name] = time.perf_counter() - started
    capsys.readouterr()
    with capsys.disabled():
        print("\ncheck() seconds on the reference: "
              + ", ".join(f"{name} {seconds:.3f}" for name, seconds in times.items()))
    for name, seconds in times.items():
        limit = 5.0 if name == "train" else 1.0
        assert seconds < limit, f"check({name!r}) took {seconds:.2f} s (limit {limit} s)"


def test_gradient_check_refuses_data_without_params():
    namespace = reference_namespace()
    with pytest.raises(ValueError, match="pass params together with X and target"):
        gradient_check(namespace["backprop"], namespace["forward"], namespace["averageCE"],
                       X=np.zeros((4, 5)))


def test_train_is_not_charged_for_a_failing_function_it_calls(capsys):
    """As the grader: train's loss that does not go down (or turns NaN) because backprop or
    softmax is wrong is a note pointing there, not a failure of train."""
    namespace = ada_namespace()
    exec(edited(BACKPROP, 'dZ2 = gradCE(target, cache["P"])',
                 'dZ2 = (target - cache["P"]) / len(X)'), namespace)  # climbs the loss
    passed, out = run_check("train", namespace, capsys)
    assert passed is True and "train runs your" in out and "backprop" in out, (
        f"train should pass with a note pointing at backprop:\n{out}")
    namespace = ada_namespace()
    exec(edited(TRAIN, "rng.permutation(len(X_train))", "np.arange(len(X_train))"), namespace)
    passed, out = run_check("train", namespace, capsys)
    assert passed is False and HINTS["train_no_shuffle"] in out, (
        f"train's own mistake is still named when its helpers pass:\n{out}")
