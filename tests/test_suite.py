"""The graded tests themselves: well formed, notebook-safe, and able to fail."""

import inspect
import textwrap

import numpy as np
import pytest

import solutions.two_layer_net as solutions
from autograder.demo import functions_in
from course_under_test import TLN
from known_mistakes import edited, reference_notebook, table
# tests/test_misses_18.py imports these from here
from known_mistakes import failing_tests, reference_source  # noqa: F401
from nnlab.testing import LocalStudent, MissingFunction

BY_ID, FUNCTION_NAMES, NOTEBOOK_TEST_IMPORTS, TESTS, target_of = (
    TLN.by_id, TLN.functions, TLN.test_imports, TLN.tests, TLN.target_of)

REFERENCE = {f.__name__: f for f in solutions.STUDENT_FUNCTIONS}
MISTAKES = {mistake.name: mistake for mistake in table("two_layer_net")}  # known mistakes
DEMO = TLN.demo_dir / "students"


def test_every_grade_id_names_its_function_and_ids_are_unique():
    assert len(BY_ID) == len(TESTS), "two tests share a grade_id"
    for test in TESTS:
        assert target_of(test) in FUNCTION_NAMES, f"{test.grade_id} names no student function"
        assert test.points > 0, f"{test.grade_id} has {test.points} points"
        assert test.summary, f"{test.grade_id} has no docstring"
    assert {target_of(t) for t in TESTS} == set(FUNCTION_NAMES), "a function has no test"
    assert {target_of(t) for t in TESTS if not t.hidden} == set(FUNCTION_NAMES), (
        "every function needs at least one visible test")


def test_visible_tests_never_touch_the_reference():
    for test in TESTS:
        if not test.hidden:
            assert "solutions" not in test.source(), f"visible {test.grade_id} uses solutions"


def test_test_bodies_use_only_names_the_notebook_provides():
    namespace = {}
    exec(NOTEBOOK_TEST_IMPORTS, namespace)
    for test in TESTS:
        used = inspect.getclosurevars(test.function).globals
        missing = sorted(name for name in set(used) - set(namespace) if not name.startswith("__"))
        assert not missing, f"{test.grade_id} uses {missing}, not imported in the notebook"


@pytest.mark.parametrize("grade_id", [t.grade_id for t in TESTS])
def test_reference_passes(grade_id):
    BY_ID[grade_id].function(LocalStudent(REFERENCE))


@pytest.mark.parametrize("grade_id", [t.grade_id for t in TESTS])
def test_stub_fails(grade_id):
    def stub(*args, **kwargs):
        raise NotImplementedError()
    with pytest.raises(NotImplementedError):
        BY_ID[grade_id].function(LocalStudent({name: stub for name in FUNCTION_NAMES}))


def test_a_missing_function_is_reported_by_name():
    namespace = dict(REFERENCE)
    del namespace["softmax"]
    with pytest.raises(MissingFunction, match="softmax"):
        BY_ID["softmax_handout_vector"].function(LocalStudent(namespace))


def test_train_history_rejects_a_history_per_batch():
    def train_per_batch(X_train, Y_train, X_test, Y_test, **kwargs):
        params, history = solutions.train(X_train, Y_train, X_test, Y_test, **kwargs)
        return params, {k: v * 2 for k, v in history.items()}
    with pytest.raises(AssertionError, match="one number per epoch"):
        BY_ID["train_history_format"].function(LocalStudent(dict(REFERENCE, train=train_per_batch)))


# -- train: graded on digits it never saw, and only with its own momentum steps ----------
TRAIN_TESTS = ["train_history_format", "train_reaches_accuracy", "train_steps_carry_momentum",
               "train_history_of_its_steps"]
TRAIN = """
def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64, lr=0.05,
          momentum=0.9, seed=0):
    rng = np.random.default_rng(seed)
    params = init_params(X_train.shape[1], hidden, Y_train.shape[1], rng)
    velocity = {key: np.zeros_like(value) for key, value in params.items()}
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            cache = forward(X_train[batch], params)
            grads = backprop(X_train[batch], Y_train[batch], params, cache)
            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)
        for name, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
            P = forward(X, params)["P"]
            history[name + "_loss"].append(averageCE(Y, P))
            history[name + "_acc"].append(accuracy(Y, P))
    return params, history
"""


def notebook(*sources):
    """A student whose functions live in one namespace, as in a notebook: the reference's
    functions, then ``sources`` run in it (train's calls go through this namespace)."""
    from nnlab import accuracy, init_params
    namespace = dict(REFERENCE, np=np, init_params=init_params, accuracy=accuracy)
    for source in (TRAIN,) + sources:
        exec(textwrap.dedent(source), namespace)
    return LocalStudent(namespace)


def changed(old, new, source=TRAIN):
    """``source`` (train's, by default) with ``old`` (occurring once) replaced by ``new``."""
    return edited(source, old, new)


CORRECT_TRAINS = {
    "reference_module": None,  # solutions.train itself, calling its module's functions
    "notebook_copy": (),
    "ada_array_split_in_place": tuple(functions_in(DEMO / "ada_correct.py")[name]
                                      for name in ("sgd_momentum_step", "train")),
    "in_place_step_result_ignored": ("""
        def sgd_momentum_step(params, grads, velocity, lr, momentum):
            for key in params:
                velocity[key] = momentum * velocity[key] - lr * grads[key]
                params[key] += velocity[key]
            return params, velocity
        """, changed("params, velocity = sgd_momentum_step(", "sgd_momentum_step(")),
    "while_loop_keywords_float32": ("""
        def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64,
                  lr=0.05, momentum=0.9, seed=0):
            rng = np.random.default_rng(seed)
            X_train = X_train.astype(np.float32)
            params = {k: v.astype(np.float32) for k, v in
                      init_params(X_train.shape[1], hidden, Y_train.shape[1], rng).items()}
            velocity = {k: np.zeros(v.shape, np.float32) for k, v in params.items()}
            history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
            epoch = 0
            while epoch < epochs:
                shuffled = rng.permutation(X_train.shape[0])
                X_shuffled, Y_shuffled = X_train[shuffled], Y_train[shuffled]
                done = 0
                while done < len(X_shuffled):
                    X_b = X_shuffled[done:done + batch_size]
                    Y_b = Y_shuffled[done:done + batch_size]
                    g = backprop(X=X_b, target=Y_b, params=params, cache=forward(X_b, params))
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


@pytest.mark.parametrize("variant", sorted(CORRECT_TRAINS))
def test_correct_trains_written_differently_keep_full_marks(variant):
    sources = CORRECT_TRAINS[variant]
    student = LocalStudent(REFERENCE) if sources is None else notebook(*sources)
    for grade_id in TRAIN_TESTS:
        BY_ID[grade_id].function(student)


EVALUATION = """\
        for name, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
            P = forward(X, params)["P"]
            history[name + "_loss"].append(averageCE(Y, P))
            history[name + "_acc"].append(accuracy(Y, P))
"""
SEEN = changed("            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)\n",
               "            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)\n"
               "            seen.append(averageCE(Y_train[batch], cache[\"P\"]))\n",
               changed("        order = rng.permutation(len(X_train))\n",
                       "        order = rng.permutation(len(X_train))\n        seen = []\n"))


RIDGE_ON_TEST_SET = """
    def train(X_train, Y_train, X_test, Y_test, hidden=30, **settings):
        # ridge regression fitted on the digits it is handed as X_test, packed into the
        # network (relu(z) - relu(-z) = z); backprop and sgd_momentum_step never run
        D, K = X_test.shape[1], Y_test.shape[1]
        weights = np.linalg.solve(X_test.T @ X_test + 1.0 * np.eye(D), X_test.T @ Y_test)
        W1, W2 = np.zeros((D, hidden)), np.zeros((hidden, K))
        if hidden >= 2 * K:
            W1[:, :K], W1[:, K:2 * K] = weights, -weights
            W2[:K], W2[K:2 * K] = np.eye(K), -np.eye(K)
        params = {"W1": W1, "b1": np.zeros(hidden), "W2": W2, "b2": np.zeros(K)}
        history = {}
        for name, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
            P = forward(X, params)["P"]
            history[name + "_loss"] = [averageCE(Y, P)] * settings.get("epochs", 10)
            history[name + "_acc"] = [accuracy(Y, P)] * settings.get("epochs", 10)
        return params, history

    def backprop(X, target, params, cache):
        raise NotImplementedError()

    def sgd_momentum_step(params, grads, velocity, lr, momentum):
        raise NotImplementedError()
    """
TRAIN_MISTAKES = {
    # name: (source, tests it must fail, a phrase of the message)
    "ridge_regression_on_the_test_set": (
        RIDGE_ON_TEST_SET, ["train_reaches_accuracy", "train_steps_carry_momentum"],
        "never called sgd_momentum_step"),
    "velocity_reset_before_every_step": (
        changed("            params, velocity = sgd_momentum_step(",
                "            velocity = {key: np.zeros_like(value) for key, value in params.items()}\n"
                "            params, velocity = sgd_momentum_step("),
        ["train_reaches_accuracy", "train_steps_carry_momentum"], "reset to zero inside the loop"),
    "velocity_reset_every_epoch": (
        changed("        order = rng.permutation(len(X_train))\n",
                "        order = rng.permutation(len(X_train))\n"
                "        velocity = {key: np.zeros_like(value) for key, value in params.items()}\n"),
        ["train_steps_carry_momentum"], "reset to zero inside the loop"),
    "update_written_inline_without_sgd_momentum_step": (
        changed("params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)",
                "velocity = {k: momentum * velocity[k] - lr * grads[k] for k in params}\n"
                "            params = {k: params[k] + velocity[k] for k in params}"),
        ["train_reaches_accuracy", "train_steps_carry_momentum"],
        "never called sgd_momentum_step"),
    "last_partial_batch_dropped": (
        changed("range(0, len(order), batch_size)",
                "range(0, len(order) - batch_size + 1, batch_size)"),
        ["train_reaches_accuracy", "train_steps_carry_momentum"], "one step per mini-batch"),
    "lr_and_momentum_swapped": (
        changed("sgd_momentum_step(params, grads, velocity, lr, momentum)",
                "sgd_momentum_step(params, grads, velocity, momentum, lr)"),
        ["train_steps_carry_momentum"], "lr and momentum"),
    "gradients_from_the_test_digits": (
        changed("grads = backprop(X_train[batch], Y_train[batch], params, cache)",
                "test_rows = batch % len(X_test)\n"
                "            grads = backprop(X_test[test_rows], Y_test[test_rows], params,\n"
                "                             forward(X_test[test_rows], params))"),
        ["train_steps_carry_momentum", "train_history_of_its_steps"], "X_train"),
    "gradients_of_stale_params": (
        changed("            cache = forward(X_train[batch], params)\n",
                "            stale = params if start == 0 else stale\n"
                "            cache = forward(X_train[batch], stale)\n").replace(
            "backprop(X_train[batch], Y_train[batch], params, cache)",
            "backprop(X_train[batch], Y_train[batch], stale, cache)"),
        ["train_steps_carry_momentum"], "params other than"),
    "shuffles_the_data_in_place": (
        changed("        order = rng.permutation(len(X_train))\n",
                "        order = rng.permutation(len(X_train))\n"
                "        X_train[:], Y_train[:] = X_train[order], Y_train[order]\n"),
        ["train_history_format"], "modified in place"),
    "returns_the_params_before_the_last_step": (
        changed("            params, velocity = sgd_momentum_step(",
                "            kept = params\n            params, velocity = sgd_momentum_step(")
        .replace("    return params, history", "    return kept, history"),
        ["train_reaches_accuracy", "train_steps_carry_momentum"], "last sgd_momentum_step"),
    # the history and the data, graded against train's own recorded steps (issue 18)
    "test_metrics_on_the_training_set": (
        changed('("test", X_test, Y_test)', '("test", X_train, Y_train)'),
        ["train_history_of_its_steps"], "computed on the wrong set"),
    "train_metrics_on_the_test_set": (
        changed('("train", X_train, Y_train)', '("train", X_test, Y_test)'),
        ["train_history_of_its_steps"], "computed on the wrong set"),
    "history_before_the_epochs_steps": (
        changed("        order = rng.permutation(len(X_train))\n",
                EVALUATION + "        order = rng.permutation(len(X_train))\n",
                changed(EVALUATION, "")),
        ["train_history_of_its_steps"], "before the epoch's mini-batches"),
    "train_loss_averaged_over_the_mini_batches": (
        changed('history[name + "_loss"].append(averageCE(Y, P))',
                'history[name + "_loss"].append(np.mean(seen) if name == "train" '
                'else averageCE(Y, P))', SEEN),
        ["train_history_of_its_steps"], "the mini-batches' losses"),
    "train_acc_of_the_last_mini_batch": (
        changed('history[name + "_acc"].append(accuracy(Y, P))',
                'history[name + "_acc"].append(accuracy(Y_train[batch], cache["P"]) '
                'if name == "train" else accuracy(Y, P))'),
        ["train_history_of_its_steps"], "the mini-batches' losses"),
    "made_up_test_loss": (
        changed('history[name + "_loss"].append(averageCE(Y, P))',
                'history[name + "_loss"].append(averageCE(Y, P) if name == "train" '
                'else 0.5 ** epoch)'),
        ["train_history_of_its_steps"], "not what its own steps give"),
    "trains_on_train_and_test_stacked": (
        changed("    for epoch in range(epochs):\n",
                "    X_all = np.vstack([X_train, X_test])\n"
                "    Y_all = np.vstack([Y_train, Y_test])\n    for epoch in range(epochs):\n",
                changed("rng.permutation(len(X_train))", "rng.permutation(len(X_all))",
                        changed("cache = forward(X_train[batch], params)",
                                "cache = forward(X_all[batch], params)",
                                changed("backprop(X_train[batch], Y_train[batch],",
                                        "backprop(X_all[batch], Y_all[batch],")))),
        # (also more steps than the training set makes: the step tests fail too)
        ["train_history_of_its_steps"], "trains on the test set"),
    "never_shuffles": (
        changed("order = rng.permutation(len(X_train))", "order = np.arange(len(X_train))"),
        ["train_history_of_its_steps"], "does not shuffle"),
    "shuffles_once_before_the_epochs": (
        changed("        order = rng.permutation(len(X_train))\n", "",
                changed("    for epoch in range(epochs):\n",
                        "    order = rng.permutation(len(X_train))\n"
                        "    for epoch in range(epochs):\n")),
        ["train_history_of_its_steps"], "same order"),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mistake", sorted(TRAIN_MISTAKES))
def test_train_without_the_work_loses_points(mistake):
    source, must_fail, phrase = TRAIN_MISTAKES[mistake]
    student = notebook(source)
    for grade_id in must_fail:
        with pytest.raises(AssertionError) as info:
            BY_ID[grade_id].function(student)
        assert phrase in str(info.value), f"{grade_id}: {info.value}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mistake", ["test_metrics_on_the_training_set",
                                     "train_metrics_on_the_test_set",
                                     "history_before_the_epochs_steps",
                                     "train_loss_averaged_over_the_mini_batches",
                                     "train_acc_of_the_last_mini_batch", "made_up_test_loss",
                                     "never_shuffles", "shuffles_once_before_the_epochs"])
def test_a_history_or_shuffling_mistake_costs_only_its_test(mistake):
    """Graded against train's own recorded steps, these lose train_history_of_its_steps
    and no other train test (the accuracy test included, except for never shuffling, which
    also trains worse)."""
    student = notebook(TRAIN_MISTAKES[mistake][0])
    lost = set()
    for grade_id in TRAIN_TESTS:
        try:
            BY_ID[grade_id].function(student)
        except AssertionError:
            lost.add(grade_id)
    # never shuffling also trains worse (batches of one class at a time): the accuracy test,
    # another of train's own tests, may see it too
    allowed = {"train_reaches_accuracy"} if mistake == "never_shuffles" else set()
    assert "train_history_of_its_steps" in lost and lost - allowed == {
        "train_history_of_its_steps"}, lost


def test_hostile_train_return_fails_fast_without_allocating():
    """W1 (784, 1), b1 (200000,), W2 (200000, 10): the reference forward would broadcast
    them to (1000, 200000) arrays (3.2 GiB); the shapes are checked first."""
    import time
    import tracemalloc
    huge = """
        def train(X_train, Y_train, X_test, Y_test, **settings):
            params = {"W1": np.zeros((784, 1)), "b1": np.zeros(200000),
                      "W2": np.zeros((200000, 10)), "b2": np.zeros(10)}
            history = {key: [0.5] * settings["epochs"]
                       for key in ("train_loss", "train_acc", "test_loss", "test_acc")}
            return params, history
        """
    student = notebook(huge)
    for grade_id in TRAIN_TESTS:
        tracemalloc.start()
        started = time.perf_counter()
        try:
            with pytest.raises(AssertionError, match="shape"):
                BY_ID[grade_id].function(student)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        seconds = time.perf_counter() - started
        assert peak < 100 << 20, f"{grade_id} allocated {peak / 2**20:.0f} MiB"
        assert seconds < 5, f"{grade_id} took {seconds:.1f} s"


def test_failure_messages_name_the_worst_gradient_entries():
    """The visible gradient check names the worst entries; the hidden one only the relative
    error, in a message the student may see (PublicFailure)."""
    from nnlab.testing import PublicFailure
    student = LocalStudent(reference_notebook(TLN, MISTAKES["backprop_no_relu_mask"].source))
    with pytest.raises(AssertionError) as info:
        BY_ID["backprop_gradient_check"].function(student)
    message = str(info.value)
    assert "d loss / d W1" in message and "Worst entries" in message, message
    with pytest.raises(PublicFailure) as info:
        BY_ID["backprop_finite_differences"].function(student)
    message = str(info.value)
    assert "d loss / d W1" in message and "relative error" in message, message
    assert "Worst entries" not in message and "finite differences -" not in message, message


def test_the_visible_gradient_check_avoids_relu_kinks():
    """Every hidden unit of backprop_gradient_check's problem is active for some examples and
    inactive for others, and no pre-activation lies within 0.05 of 0."""
    from nnlab.two_layer_net.composition import small_network
    _, _, _, cache = small_network(np.random.default_rng(23), 5, 4, 6, 3)
    Z1 = cache["Z1"]
    assert (Z1 > 0).any(axis=0).all() and (Z1 < 0).any(axis=0).all(), Z1
    assert np.abs(Z1).min() > 0.05, np.abs(Z1).min()


def demo_notebook(student):
    """The functions of a demo student (ada's, with the student's own on top) in one
    namespace, as in their notebook."""
    from nnlab import accuracy, init_params
    namespace = {"np": np, "init_params": init_params, "accuracy": accuracy}
    for name in ("ada_correct", student):
        for source in functions_in(DEMO / f"{name}.py").values():
            exec(source, namespace)
    return LocalStudent(namespace)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("function, source", [
    ("softmax", functions_in(DEMO / "ben_softmax_epsilon.py")["softmax"]),
    ("gradCE", "def gradCE(target, prediction):\n    return prediction - target\n"),
    ("forward", MISTAKES["forward_layer2_takes_Z1"].source),
    ("backprop", MISTAKES["backprop_no_relu_mask"].source),
], ids=["softmax_epsilon_global_max", "gradCE_not_divided_by_N", "forward_layer2_takes_Z1",
        "backprop_no_relu_mask"])
def test_train_is_not_charged_for_the_values_of_the_functions_it_calls(function, source):
    """The notebook's train (ada's) on top of a wrong function keeps all of train's points."""
    student = demo_notebook("ada_correct")
    exec(textwrap.dedent(source), student._namespace)
    for grade_id in TRAIN_TESTS:
        BY_ID[grade_id].function(student)
