"""The graded tests themselves: well formed, notebook-safe, and able to fail."""

import inspect

import numpy as np
import pytest

import solutions
from autograder.suite import BY_ID, FUNCTION_NAMES, NOTEBOOK_TEST_IMPORTS, TESTS, target_of
from nnlab.testing import LocalStudent, MissingFunction

REFERENCE = {f.__name__: f for f in solutions.STUDENT_FUNCTIONS}


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


# Typical mistakes (many from the seed write-ups) and the tests that must catch them.
def relu_in_place(x):
    x[x < 0] = 0
    return x


def softmax_epsilon(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / (e.sum(axis=-1, keepdims=True) + 1e-5)


def softmax_global_max(x):
    e = np.exp(x - np.max(x))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_naive(x):
    return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)


def layer_transposed(X, W, b):
    return (W.T @ X.T).T + b[::-1]


def average_ce_over_nk(target, prediction):
    return -np.mean(target * np.log(prediction))


def average_ce_no_minus(target, prediction):
    return np.sum(target * np.log(prediction)) / len(target)


def average_ce_epsilon(target, prediction):
    return -np.sum(target * np.log(prediction + 1e-5)) / len(target)


def grad_ce_not_averaged(target, prediction):
    return prediction - target


def forward_without_h(X, params):
    cache = solutions.forward(X, params)
    del cache["H"]
    return cache


def backprop_mask_in_place(X, target, params, cache):
    dz2 = solutions.gradCE(target, cache["P"])
    mask = cache["H"]
    dW2 = mask.T @ dz2
    mask[mask > 0] = 1
    dz1 = dz2 @ params["W2"].T * mask
    return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": dW2, "b2": dz2.sum(0)}


def backprop_no_mask(X, target, params, cache):
    dz2 = solutions.gradCE(target, cache["P"])
    dz1 = dz2 @ params["W2"].T
    return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": cache["H"].T @ dz2, "b2": dz2.sum(0)}


def backprop_mask_on_activation_derivative(X, target, params, cache):
    # applies a derivative to the activation H instead of the pre-activation Z1
    dz2 = solutions.gradCE(target, cache["P"])
    dz1 = dz2 @ params["W2"].T * cache["H"]
    return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": cache["H"].T @ dz2, "b2": dz2.sum(0)}


def sgd_without_momentum(params, grads, velocity, lr, momentum):
    return {k: params[k] - lr * grads[k] for k in params}, velocity


def sgd_wrong_sign(params, grads, velocity, lr, momentum):
    v = {k: momentum * velocity[k] + lr * grads[k] for k in params}
    return {k: params[k] + v[k] for k in params}, v


def train_without_learning(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10,
                           batch_size=64, lr=0.05, momentum=0.9, seed=0):
    from nnlab.utils import init_params
    params = init_params(X_train.shape[1], hidden, Y_train.shape[1], np.random.default_rng(seed))
    history = {k: [0.1] * epochs for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
    return params, history


MISTAKES = [
    ("relu", relu_in_place, ["relu_properties"]),
    ("relu", np.abs, ["relu_handout_table", "relu_properties", "relu_random_inputs"]),
    ("softmax", softmax_epsilon, ["softmax_handout_vector", "softmax_handout_batch",
                                  "softmax_random_inputs"]),
    ("softmax", softmax_global_max, ["softmax_stability"]),
    ("softmax", softmax_naive, ["softmax_stability"]),
    ("compute_layer", layer_transposed, ["compute_layer_small_example",
                                         "compute_layer_random_inputs"]),
    ("averageCE", average_ce_over_nk, ["averageCE_handout_batch", "averageCE_mean_over_examples",
                                       "averageCE_random_inputs"]),
    ("averageCE", average_ce_no_minus, ["averageCE_handout_batch"]),
    ("averageCE", average_ce_epsilon, ["averageCE_handout_batch"]),
    ("gradCE", grad_ce_not_averaged, ["gradCE_handout_matrix", "gradCE_finite_differences",
                                      "gradCE_random_inputs"]),
    ("forward", forward_without_h, ["forward_cache_shapes", "forward_random_inputs"]),
    ("backprop", backprop_mask_in_place, ["backprop_shapes", "backprop_random_inputs"]),
    ("backprop", backprop_no_mask, ["backprop_finite_differences", "backprop_random_inputs"]),
    ("backprop", backprop_mask_on_activation_derivative, ["backprop_finite_differences"]),
    ("sgd_momentum_step", sgd_without_momentum, ["sgd_momentum_step_two_steps",
                                                 "sgd_momentum_step_random_inputs"]),
    ("sgd_momentum_step", sgd_wrong_sign, ["sgd_momentum_step_two_steps"]),
    ("train", train_without_learning, ["train_reaches_accuracy"]),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, wrong, must_fail", MISTAKES,
                         ids=[f"{m[0]}-{m[1].__name__}" for m in MISTAKES])
def test_mistake_is_caught(name, wrong, must_fail):
    student = LocalStudent(dict(REFERENCE, **{name: wrong}))
    for grade_id in must_fail:
        with pytest.raises(AssertionError):
            BY_ID[grade_id].function(student)


def test_every_test_catches_at_least_one_mistake():
    caught = {grade_id for _, _, must_fail in MISTAKES for grade_id in must_fail}
    caught |= {"train_history_format"}  # shown by the stub and by test_train_history_rejects_bad
    assert caught == set(BY_ID), f"tests no mistake exercises: {sorted(set(BY_ID) - caught)}"


def test_train_history_rejects_a_history_per_batch():
    def train_per_batch(X_train, Y_train, X_test, Y_test, **kwargs):
        params, history = solutions.train(X_train, Y_train, X_test, Y_test, **kwargs)
        return params, {k: v * 2 for k, v in history.items()}
    with pytest.raises(AssertionError, match="one number per epoch"):
        BY_ID["train_history_format"].function(LocalStudent(dict(REFERENCE, train=train_per_batch)))


def test_failure_messages_name_the_worst_gradient_entries():
    student = LocalStudent(dict(REFERENCE, backprop=backprop_no_mask))
    with pytest.raises(AssertionError) as info:
        BY_ID["backprop_finite_differences"].function(student)
    message = str(info.value)
    assert "d loss / d W1" in message and "Worst entries" in message, message
