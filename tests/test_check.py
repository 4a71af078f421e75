"""nnlab.two_layer_net.checks, the students' self-check: it recognises each known mistake and
names it, passes the reference and correct-but-different code without a hint, and is quick.
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


def variant(source, old, new):
    """``source`` with ``old`` replaced by ``new`` (which must occur exactly once)."""
    source = textwrap.dedent(source)
    assert source.count(old) == 1, f"{old!r} occurs {source.count(old)} times in\n{source}"
    return source.replace(old, new)


@pytest.fixture(autouse=True)
def one_line_per_verdict(monkeypatch):
    """These tests read what check() says: its lines unwrapped (that check() wraps them to
    the notebook's width, between words, is tested in test_failure_messages)."""
    monkeypatch.setattr(engine, "WIDTH", 10**6)


def run_check(name, namespace, capsys):
    passed = check(name, namespace)
    return passed, capsys.readouterr().out


# Correct implementations written out here, to derive buggy variants from.
SOFTMAX = """
def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
"""
AVERAGE_CE = """
def averageCE(target, prediction):
    return -np.sum(target * np.log(prediction)) / target.shape[0]
"""
FORWARD = """
def forward(X, params):
    Z1 = compute_layer(X, params["W1"], params["b1"])
    H = relu(Z1)
    Z2 = compute_layer(H, params["W2"], params["b2"])
    return {"Z1": Z1, "H": H, "Z2": Z2, "P": softmax(Z2)}
"""
BACKPROP = """
def backprop(X, target, params, cache):
    dZ2 = gradCE(target, cache["P"])
    dH = dZ2 @ params["W2"].T
    dZ1 = dH * (cache["Z1"] > 0)
    dW1 = X.T @ dZ1
    db1 = np.sum(dZ1, axis=0)
    dW2 = cache["H"].T @ dZ2
    db2 = np.sum(dZ2, axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
"""
SGD = """
def sgd_momentum_step(params, grads, velocity, lr, momentum):
    new_velocity = {k: momentum * velocity[k] - lr * grads[k] for k in params}
    new_params = {k: params[k] + new_velocity[k] for k in params}
    return new_params, new_velocity
"""
TRAIN = functions_in(DEMO / "ada_correct.py")["train"]


# (function, buggy source, hint keys that must be printed)
MISTAKES = [
    # relu
    pytest.param("relu", """
        def relu(x):
            x[x < 0] = 0
            return x
        """, ["relu_inplace"], id="relu_modifies_input_in_place"),
    pytest.param("relu", "def relu(x):\n    return x > 0\n", ["relu_mask"],
                 id="relu_returns_boolean_mask"),
    pytest.param("relu", "def relu(x):\n    return (x > 0).astype(int)\n", ["relu_mask"],
                 id="relu_returns_integer_mask"),
    pytest.param("relu", "def relu(x):\n    return np.maximum(x, 0).astype(int)\n",
                 ["relu_int"], id="relu_returns_int_dtype"),
    pytest.param("relu", "def relu(x):\n    return np.maximum(x, 0).astype(np.float32)\n",
                 ["relu_dtype"], id="relu_returns_float32"),
    pytest.param("relu", "def relu(x):\n    return np.array(x)\n", ["relu_negatives_kept"],
                 id="relu_keeps_negatives"),
    pytest.param("relu", "def relu(x):\n    return np.minimum(x, 0)\n", ["relu_wrong_side"],
                 id="relu_min_instead_of_max"),
    pytest.param("relu", """
        def relu(x):
            out = np.zeros_like(x)
            for i in range(x.shape[0]):
                for j in range(x.shape[1]):
                    out[i, j] = max(x[i, j], 0.0)
            return out
        """, ["relu_shape"], id="relu_only_for_2d"),
    pytest.param("relu", "def relu(x):\n    return np.maximum(x, 0.1)\n", ["relu_values"],
                 id="relu_wrong_values"),
    pytest.param("relu", "def relu(x):\n    np.maximum(x, 0)\n", ["no_return"],
                 id="relu_forgets_return"),
    pytest.param("relu", "def relu(x):\n    return np.maximum(x, zero)\n", ["name_error"],
                 id="relu_undefined_name"),
    pytest.param("relu", "def relu(x):\n    return np.maximum(x, 0) / (x.size - x.size)\n",
                 ["runtime_warning"], id="relu_divides_by_zero"),
    pytest.param("relu", "def relu(x):\n    return [1 / 0]\n", ["exception"],
                 id="relu_raises_zero_division"),
    pytest.param("relu", "def relu(x):\n    return 'max(0, x)'\n", ["not_numbers"],
                 id="relu_returns_string"),
    # softmax
    pytest.param("softmax", variant(SOFTMAX, "np.sum(e, axis=-1, keepdims=True)",
                                    "(np.sum(e, axis=-1, keepdims=True) + 1e-5)"),
                 ["softmax_epsilon"], id="softmax_epsilon_in_denominator"),
    pytest.param("softmax", variant(SOFTMAX, "np.max(x, axis=-1, keepdims=True)", "np.max(x)"),
                 ["softmax_global_max"], id="softmax_one_global_max"),
    pytest.param("softmax", """
        def softmax(x):
            x = x - np.max(x)
            exp_x = np.exp(x)
            return exp_x / (np.sum(exp_x, axis=-1, keepdims=True) + 0.00001)
        """, ["softmax_epsilon", "softmax_global_max"], id="softmax_seed_001_both"),
    pytest.param("softmax", variant(SOFTMAX, "x - np.max(x, axis=-1, keepdims=True)", "x"),
                 ["softmax_unstable"], id="softmax_not_stabilised"),
    pytest.param("softmax", variant(SOFTMAX, "x - np.max(x, axis=-1, keepdims=True)",
                                    "x - np.min(x, axis=-1, keepdims=True)"),
                 ["softmax_unstable"], id="softmax_subtracts_min"),
    pytest.param("softmax", """
        def softmax(x):
            e = np.exp(x - np.max(x, axis=0, keepdims=True))
            return e / np.sum(e, axis=0, keepdims=True)
        """, ["softmax_axis"], id="softmax_normalises_columns"),
    pytest.param("softmax", """
        def softmax(x):
            e = np.exp(x - np.max(x))
            return e / np.sum(e)
        """, ["softmax_whole"], id="softmax_normalises_whole_batch"),
    pytest.param("softmax", """
        def softmax(x):
            e = np.exp(x - np.max(x, axis=-1))
            return e / np.sum(e, axis=-1)
        """, ["softmax_keepdims"], id="softmax_without_keepdims"),
    pytest.param("softmax", """
        def softmax(x):
            e = np.exp(x - np.max(x, axis=1, keepdims=True))
            return e / np.sum(e, axis=1, keepdims=True)
        """, ["softmax_vector"], id="softmax_axis_1_fails_on_vectors"),
    pytest.param("softmax", """
        def softmax(x):
            x -= np.max(x, axis=-1, keepdims=True)
            np.exp(x, out=x)
            x /= np.sum(x, axis=-1, keepdims=True)
            return x
        """, ["softmax_inplace"], id="softmax_modifies_input_in_place"),
    pytest.param("softmax", """
        def softmax(x):
            return np.log(np.sum(np.exp(x), axis=-1))
        """, ["softmax_shape"], id="softmax_returns_row_values"),
    pytest.param("softmax", variant(SOFTMAX, "np.sum(e, axis=-1, keepdims=True)",
                                    "np.max(e, axis=-1, keepdims=True)"),
                 ["softmax_values"], id="softmax_divides_by_max"),
    pytest.param("softmax", variant(SOFTMAX, "    e = ", "    unused = np.log(x)\n    e = "),
                 ["runtime_warning"], id="softmax_warns_but_is_right"),
    # compute_layer
    pytest.param("compute_layer", "def compute_layer(X, W, b):\n    return W @ X + b\n",
                 ["compute_layer_order"], id="compute_layer_W_at_X"),
    pytest.param("compute_layer", "def compute_layer(X, W, b):\n    return np.dot(W, X) + b\n",
                 ["compute_layer_order"], id="compute_layer_dot_W_X"),
    pytest.param("compute_layer", "def compute_layer(X, W, b):\n    return X @ W\n",
                 ["compute_layer_bias"], id="compute_layer_forgets_bias"),
    pytest.param("compute_layer",
                 "def compute_layer(X, W, b):\n    return W.T @ X.T + b[:, None]\n",
                 ["compute_layer_transposed"], id="compute_layer_transposed"),
    pytest.param("compute_layer", """
        def compute_layer(X, W, b):
            b.shape = (1, b.size)
            return X @ W + b
        """, ["compute_layer_inplace"], id="compute_layer_reshapes_b_in_place"),
    pytest.param("compute_layer", "def compute_layer(X, W, b):\n    return X @ W - b\n",
                 ["compute_layer_values"], id="compute_layer_subtracts_bias"),
    # averageCE
    pytest.param("averageCE", """
        def averageCE(target, prediction):
            return -np.mean(target * np.log(prediction))
        """, ["averageCE_mean_over_NK"], id="averageCE_mean_over_N_times_K"),
    pytest.param("averageCE", variant(AVERAGE_CE, "return -np.sum", "return np.sum"),
                 ["averageCE_sign"], id="averageCE_missing_minus"),
    pytest.param("averageCE", variant(AVERAGE_CE, "np.log(prediction)",
                                      "np.log(prediction + 1e-5)"),
                 ["averageCE_epsilon"], id="averageCE_epsilon_in_log"),
    pytest.param("averageCE", variant(AVERAGE_CE, "np.log(prediction)",
                                      "np.log(np.clip(prediction, 1e-5, 1.0))"),
                 ["averageCE_epsilon"], id="averageCE_clips_at_1e-5"),
    pytest.param("averageCE", """
        def averageCE(target, prediction):
            return -np.mean(target * np.log(prediction + 0.00001))
        """, ["averageCE_epsilon", "averageCE_mean_over_NK"], id="averageCE_seed_001_both"),
    pytest.param("averageCE", """
        def averageCE(target, prediction):
            return np.mean(target * np.log(prediction))
        """, ["averageCE_sign", "averageCE_mean_over_NK"], id="averageCE_mean_and_no_minus"),
    pytest.param("averageCE", variant(AVERAGE_CE, " / target.shape[0]", ""),
                 ["averageCE_sum"], id="averageCE_not_averaged"),
    pytest.param("averageCE", variant(AVERAGE_CE, "target.shape[0]", "prediction.shape[1]"),
                 ["averageCE_divide_by_K"], id="averageCE_divides_by_K"),
    pytest.param("averageCE", variant(AVERAGE_CE, "np.log(", "np.log10("),
                 ["averageCE_log_base"], id="averageCE_log10"),
    pytest.param("averageCE", variant(AVERAGE_CE, "target * np.log(prediction)",
                                      "np.log(prediction)"),
                 ["averageCE_ignores_target"], id="averageCE_ignores_target"),
    pytest.param("averageCE", variant(
        AVERAGE_CE, "target * np.log(prediction)",
        "target * np.log(prediction) + (1 - target) * np.log(1 - prediction)"),
        ["averageCE_binary"], id="averageCE_binary_cross_entropy"),
    pytest.param("averageCE", """
        def averageCE(target, prediction):
            return -np.sum(target * np.log(prediction), axis=1)
        """, ["averageCE_not_scalar"], id="averageCE_per_example"),
    pytest.param("averageCE", """
        def averageCE(target, prediction):
            np.log(prediction, out=prediction)
            return -np.sum(target * prediction) / target.shape[0]
        """, ["averageCE_inplace"], id="averageCE_log_in_place"),
    pytest.param("averageCE", variant(AVERAGE_CE, "target.shape[0]", "(target.shape[0] + 1)"),
                 ["averageCE_values"], id="averageCE_wrong_value"),
    # gradCE
    pytest.param("gradCE", "def gradCE(target, prediction):\n    return prediction - target\n",
                 ["gradCE_no_N"], id="gradCE_not_divided_by_N"),
    pytest.param("gradCE", "def gradCE(target, prediction):\n"
                           "    return (target - prediction) / len(target)\n",
                 ["gradCE_sign"], id="gradCE_sign_flipped"),
    pytest.param("gradCE", "def gradCE(target, prediction):\n    return target - prediction\n",
                 ["gradCE_sign", "gradCE_no_N"], id="gradCE_sign_and_no_N"),
    pytest.param("gradCE", "def gradCE(target, prediction):\n"
                           "    return (prediction - target) / target.size\n",
                 ["gradCE_NK"], id="gradCE_divided_by_N_times_K"),
    pytest.param("gradCE", "def gradCE(target, prediction):\n"
                           "    return (prediction - target) / target.shape[1]\n",
                 ["gradCE_K"], id="gradCE_divided_by_K"),
    pytest.param("gradCE", "def gradCE(target, prediction):\n"
                           "    return -target / prediction / len(target)\n",
                 ["gradCE_dp"], id="gradCE_derivative_wrt_probabilities"),
    pytest.param("gradCE", "def gradCE(target, prediction):\n"
                           "    return ((prediction - target) / len(target)).T\n",
                 ["gradCE_transposed"], id="gradCE_transposed"),
    pytest.param("gradCE", """
        def gradCE(target, prediction):
            prediction -= target
            prediction /= len(target)
            return prediction
        """, ["gradCE_inplace"], id="gradCE_modifies_prediction"),
    pytest.param("gradCE", "def gradCE(target, prediction):\n"
                           "    return 0.5 * (prediction - target) / len(target)\n",
                 ["gradCE_values"], id="gradCE_wrong_values"),
    pytest.param("gradCE", "def gradCE(target, prediction):\n"
                           "    return (prediction - target) / len(target.shape[0])\n",
                 ["type_error"], id="gradCE_type_error"),
    # forward
    pytest.param("forward", variant(FORWARD, 'return {"Z1": Z1, "H": H, "Z2": Z2, "P": softmax(Z2)}',
                                    "return Z1, H, Z2, softmax(Z2)"),
                 ["forward_not_dict"], id="forward_returns_tuple"),
    pytest.param("forward", variant(FORWARD, '{"Z1": Z1, "H": H, "Z2": Z2, "P"',
                                    '{"z1": Z1, "h": H, "z2": Z2, "p"'),
                 ["forward_keys"], id="forward_lowercase_keys"),
    pytest.param("forward", variant(FORWARD, '{"Z1": Z1,', '{"Z1": Z1.T,'),
                 ["forward_shapes"], id="forward_transposed_Z1"),
    pytest.param("forward", variant(FORWARD, '{"Z1": Z1,', '{"Z1": H,'),
                 ["forward_Z1_after_relu"], id="forward_stores_relu_as_Z1"),
    pytest.param("forward", variant(FORWARD, 'compute_layer(X, params["W1"], params["b1"])',
                                    'X @ params["W1"]'),
                 ["forward_Z1"], id="forward_forgets_b1"),
    pytest.param("forward", variant(FORWARD, "H = relu(Z1)", "H = Z1"),
                 ["forward_relu_missing"], id="forward_without_relu"),
    pytest.param("forward", variant(FORWARD, "H = relu(Z1)", "H = np.abs(Z1)"),
                 ["forward_H"], id="forward_abs_instead_of_relu"),
    pytest.param("forward", variant(FORWARD, 'compute_layer(H, params["W2"]',
                                    'compute_layer(Z1, params["W2"]'),
                 ["forward_layer2_input"], id="forward_layer2_takes_Z1"),
    pytest.param("forward", variant(FORWARD, 'Z2 = compute_layer(H, params["W2"], params["b2"])',
                                    'Z2 = H @ params["W2"]'),
                 ["forward_Z2"], id="forward_forgets_b2"),
    pytest.param("forward", variant(FORWARD, '"P": softmax(Z2)', '"P": Z2'),
                 ["forward_softmax_missing"], id="forward_without_softmax"),
    pytest.param("forward", variant(FORWARD, '"P": softmax(Z2)', '"P": softmax(2 * Z2)'),
                 ["forward_P"], id="forward_wrong_P"),
    pytest.param("forward", variant(FORWARD, "    Z1 = ", "    X /= 255.0\n    Z1 = "),
                 ["forward_inplace"], id="forward_scales_X_in_place"),
    pytest.param("forward", variant(FORWARD, 'params["W1"]', 'params["w1"]'),
                 ["key_error"], id="forward_misspelt_key"),
    # backprop
    pytest.param("backprop", """
        def backprop(X, target, params, cache):
            dz2 = gradCE(target, cache["P"])
            dW2 = cache["H"].T @ dz2
            db2 = dz2.sum(axis=0)
            mask = cache["H"]
            mask[mask > 0] = 1
            dz1 = (dz2 @ params["W2"].T) * mask
            return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": dW2, "b2": db2}
        """, ["backprop_mutates_cache"], id="backprop_mask_overwrites_cache_H_seed_000"),
    pytest.param("backprop", variant(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)', """mask = cache["Z1"]
    mask[mask > 0] = 1
    mask[mask < 0] = 0
    dZ1 = dH * mask"""), ["backprop_mutates_cache"], id="backprop_mask_overwrites_cache_Z1"),
    pytest.param("backprop", variant(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)', "dZ1 = dH"),
                 ["backprop_relu", "backprop_relu_mask_missing"], id="backprop_no_relu_mask"),
    pytest.param("backprop", variant(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)',
                                     'dZ1 = dH * cache["H"]'),
                 ["backprop_relu", "backprop_relu_not_mask"], id="backprop_multiplies_by_H"),
    pytest.param("backprop", variant(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)',
                                     'dZ1 = dH * cache["Z1"]'),
                 ["backprop_relu", "backprop_relu_not_mask"], id="backprop_multiplies_by_Z1"),
    pytest.param("backprop", variant(BACKPROP, 'dZ2 = gradCE(target, cache["P"])',
                                     'dZ2 = gradCE(target, cache["P"]) / X.shape[0]'),
                 ["backprop_double_N"], id="backprop_divides_by_N_again"),
    pytest.param("backprop", variant(BACKPROP, 'dZ2 = gradCE(target, cache["P"])',
                                     'dZ2 = cache["P"] - target'),
                 ["backprop_N_times"], id="backprop_never_divides_by_N"),
    pytest.param("backprop", variant(BACKPROP, 'dZ2 = gradCE(target, cache["P"])',
                                     'dZ2 = (target - cache["P"]) / len(X)'),
                 ["backprop_sign"], id="backprop_sign_flipped"),
    pytest.param("backprop", variant(BACKPROP, "dW1 = X.T @ dZ1", "dW1 = dZ1.T @ X"),
                 ["backprop_transposed"], id="backprop_W1_transposed"),
    pytest.param("backprop", variant(BACKPROP, 'dW2 = cache["H"].T @ dZ2', 'dW2 = dZ2.T @ cache["H"]'),
                 ["backprop_transposed"], id="backprop_W2_transposed_square"),
    pytest.param("backprop", variant(BACKPROP, "db1 = np.sum(dZ1, axis=0)",
                                     "db1 = np.sum(dZ1, axis=0, keepdims=True)"),
                 ["backprop_bias_shape"], id="backprop_bias_keepdims"),
    pytest.param("backprop", variant(variant(BACKPROP, "db1 = np.sum(dZ1", "db1 = np.mean(dZ1"),
                                     "db2 = np.sum(dZ2", "db2 = np.mean(dZ2"),
                 ["backprop_bias_mean"], id="backprop_bias_mean"),
    pytest.param("backprop", variant(BACKPROP, 'dW2 = cache["H"].T', 'dW2 = cache["Z1"].T'),
                 ["backprop_layer2"], id="backprop_dW2_from_Z1"),
    pytest.param("backprop", variant(BACKPROP, "    return {", "    return (dW1, db1, dW2, db2)\n    {"),
                 ["backprop_not_dict"], id="backprop_returns_tuple"),
    pytest.param("backprop", variant(BACKPROP, '{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}',
                                     '{"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}'),
                 ["backprop_keys"], id="backprop_renamed_keys"),
    pytest.param("backprop", variant(BACKPROP, "    return {", '    params["W1"] -= 0.1 * dW1\n    return {'),
                 ["backprop_mutates_input"], id="backprop_updates_params"),
    pytest.param("backprop", variant(variant(BACKPROP, "dW1 = X.T @ dZ1", "dW1 = 2 * X.T @ dZ1"),
                                     'dW2 = cache["H"].T @ dZ2', 'dW2 = 3 * cache["H"].T @ dZ2'),
                 ["backprop_fd"], id="backprop_wrong_gradients"),
    pytest.param("backprop", variant(BACKPROP, "dW1 = X.T @ dZ1", "dW1 = X @ dZ1"),
                 ["shape_error"], id="backprop_shape_error"),
    # sgd_momentum_step
    pytest.param("sgd_momentum_step", variant(SGD, "params[k] + new_velocity[k]",
                                              "params[k] - lr * grads[k]"),
                 ["sgd_momentum_ignored"], id="sgd_params_ignore_velocity"),
    pytest.param("sgd_momentum_step", variant(SGD, "params[k] + new_velocity[k]",
                                              "params[k] + velocity[k]"),
                 ["sgd_params_before_velocity"], id="sgd_params_step_with_old_velocity"),
    pytest.param("sgd_momentum_step", variant(SGD, "momentum * velocity[k] - lr", "-lr"),
                 ["sgd_velocity_no_momentum"], id="sgd_velocity_without_momentum"),
    pytest.param("sgd_momentum_step", variant(variant(
        SGD, "momentum * velocity[k] - lr", "momentum * velocity[k] + lr"),
        "params[k] + new_velocity[k]", "params[k] - new_velocity[k]"),
        ["sgd_velocity_sign"], id="sgd_velocity_sign_convention"),
    pytest.param("sgd_momentum_step", variant(SGD, "momentum * velocity[k] - lr",
                                              "momentum * velocity[k] + lr"),
                 ["sgd_uphill"], id="sgd_moves_uphill"),
    pytest.param("sgd_momentum_step", variant(variant(
        SGD, "momentum * velocity[k] - lr * grads[k]", "momentum * velocity[k] + grads[k]"),
        "params[k] + new_velocity[k]", "params[k] - lr * new_velocity[k]"),
        ["sgd_other_convention"], id="sgd_pytorch_convention"),
    pytest.param("sgd_momentum_step", variant(SGD, "return new_params, new_velocity",
                                              "return new_params, velocity"),
                 ["sgd_velocity_not_updated"], id="sgd_returns_old_velocity"),
    pytest.param("sgd_momentum_step", """
        def sgd_momentum_step(params, grads, velocity, lr, momentum):
            for k in params:
                grads[k] *= lr
                velocity[k] = momentum * velocity[k] - grads[k]
                params[k] = params[k] + velocity[k]
            return params, velocity
        """, ["sgd_grads_modified"], id="sgd_scales_grads_in_place"),
    pytest.param("sgd_momentum_step", variant(SGD, "return new_params, new_velocity",
                                              "return new_params"),
                 ["sgd_return"], id="sgd_returns_only_params"),
    pytest.param("sgd_momentum_step", variant(SGD, "- lr * grads[k]", "- lr * lr * grads[k]"),
                 ["sgd_values"], id="sgd_wrong_step"),
    # train
    pytest.param("train", variant(TRAIN, "momentum=0.9, seed=0)", "momentum=0.9)"),
                 ["train_signature"], id="train_without_seed_argument"),
    pytest.param("train", variant(TRAIN, "return params, history", "return params"),
                 ["train_return"], id="train_returns_only_params"),
    pytest.param("train", variant(TRAIN, "return params, history",
                                  "return {k: v.T for k, v in params.items()}, history"),
                 ["train_params"], id="train_returns_transposed_params"),
    pytest.param("train", variant(TRAIN, 'history[name + "_acc"]',
                                  'history.setdefault(name + "_accuracy", [])'),
                 ["train_history_keys"], id="train_history_wrong_keys"),
    pytest.param("train", variant(
        variant(TRAIN, "            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)\n",
                "            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)\n"
                "            for name, X, Y in ((\"train\", X_train, Y_train), (\"test\", X_test, Y_test)):\n"
                "                P = forward(X, params)[\"P\"]\n"
                "                history[name + \"_loss\"].append(averageCE(Y, P))\n"
                "                history[name + \"_acc\"].append(accuracy(Y, P))\n"),
        "        for name, X, Y in ((\"train\", X_train, Y_train), (\"test\", X_test, Y_test)):\n"
        "            P = forward(X, params)[\"P\"]\n"
        "            history[name + \"_loss\"].append(averageCE(Y, P))\n"
        "            history[name + \"_acc\"].append(accuracy(Y, P))\n", ""),
        ["train_history_per_epoch"], id="train_history_per_batch"),
    pytest.param("train", variant(TRAIN, "accuracy(Y, P))", "100 * accuracy(Y, P))"),
                 ["train_history_percent"], id="train_accuracy_in_percent"),
    pytest.param("train", variant(TRAIN, 'history[name + "_loss"].append(averageCE(Y, P))',
                                  'history[name + "_loss"].append(-np.sum(Y * np.log(0 * P)))'),
                 ["train_nonfinite"], id="train_loss_log_of_zero"),
    pytest.param("train", variant(TRAIN, "cache = forward(X_train[batch], params)",
                                  "cache = forward(X_train[rng.permutation(batch)], params)"),
                 ["train_no_progress"], id="train_shuffles_X_and_Y_apart"),
    pytest.param("train", variant(TRAIN, "rng.permutation(len(X_train))", "np.arange(len(X_train))"),
                 ["train_no_shuffle"], id="train_never_shuffles_sorted_data"),
    pytest.param("train", variant(variant(
        TRAIN, "    for epoch in range(epochs):\n",
        "    order = rng.permutation(len(X_train))\n    for epoch in range(epochs):\n"),
        "np.array_split(rng.permutation(len(X_train)), n_batches)", "np.array_split(order, n_batches)"),
        ["train_shuffle_once"], id="train_shuffles_once_before_the_epochs"),
    pytest.param("train", variant(TRAIN, "rng.permutation(len(X_train))",
                                  "np.random.default_rng(seed).permutation(len(X_train))"),
                 ["train_shuffle_once"], id="train_re_creates_the_generator_every_epoch"),
    pytest.param("train", variant(
        TRAIN, "for batch in np.array_split(rng.permutation(len(X_train)), n_batches):",
        "for batch in [np.array_split(np.arange(len(X_train)), n_batches)[b]\n"
        "                      for b in rng.permutation(n_batches)]:"),
        ["train_same_batches"], id="train_shuffles_the_batches_not_the_examples"),
    pytest.param("train", variant(TRAIN, "backprop(X_train[batch], Y_train[batch],",
                                  "backprop(X_train[batch], Y_train[np.sort(batch)],"),
                 ["train_labels"], id="train_targets_apart_from_their_examples"),
    pytest.param("train", variant(
        TRAIN, "    for epoch in range(epochs):\n",
        "    X_train, Y_train = np.vstack([X_train, X_test]), np.vstack([Y_train, Y_test])\n"
        "    for epoch in range(epochs):\n"),
        ["train_on_test"], id="train_trains_on_training_and_test_data"),
    pytest.param("train", variant(TRAIN, '("test", X_test, Y_test)', '("test", X_train, Y_train)'),
                 ["train_history_data"], id="train_test_metrics_on_the_training_set"),
    pytest.param("train", variant(TRAIN, '("train", X_train, Y_train)', '("train", X_test, Y_test)'),
                 ["train_history_data"], id="train_train_metrics_on_the_test_set"),
    pytest.param("train", variant(variant(variant(
        TRAIN, "        for batch in np.array_split(", "        seen = []\n        for batch in np.array_split("),
        "            cache = forward(X_train[batch], params)\n",
        "            cache = forward(X_train[batch], params)\n"
        "            seen.append(averageCE(Y_train[batch], cache[\"P\"]))\n"),
        'history[name + "_loss"].append(averageCE(Y, P))',
        'history[name + "_loss"].append(np.mean(seen) if name == "train" else averageCE(Y, P))'),
        ["train_history_last_batch"], id="train_loss_averaged_over_the_mini_batches"),
    pytest.param("train", variant(TRAIN, 'history[name + "_acc"].append(accuracy(Y, P))',
                                  'history[name + "_acc"].append(accuracy(Y, P) if name == "train" '
                                  'else min(1.0, 0.5 + 0.1 * epoch))'),
                 ["train_history_values"], id="train_made_up_test_accuracy"),
    pytest.param("train", variant(variant(
        TRAIN, "    velocity = {key:", "    start = dict(params)\n    velocity = {key:"),
        "return params, history", "return start, history"),
        ["train_returned_params"], id="train_returns_the_initial_params"),
    pytest.param("train", variant(TRAIN, 'history[name + "_loss"].append(averageCE(Y, P))',
                                  'history[name + "_loss"].append(averageCE(Y, P) if name == '
                                  '"test" else averageCE(Y_train[batch], cache["P"]))'),
                 ["train_history_last_batch"], id="train_loss_of_last_batch_only"),
    pytest.param("train", variant(variant(
        TRAIN, "    for epoch in range(epochs):\n",
        "    for epoch in range(epochs):\n"
        "        for name, X, Y in ((\"train\", X_train, Y_train), (\"test\", X_test, Y_test)):\n"
        "            P = forward(X, params)[\"P\"]\n"
        "            history[name + \"_loss\"].append(averageCE(Y, P))\n"
        "            history[name + \"_acc\"].append(accuracy(Y, P))\n"),
        "        for name, X, Y in ((\"train\", X_train, Y_train), (\"test\", X_test, Y_test)):\n"
        "            P = forward(X, params)[\"P\"]\n"
        "            history[name + \"_loss\"].append(averageCE(Y, P))\n"
        "            history[name + \"_acc\"].append(accuracy(Y, P))\n    return", "    return"),
        ["train_history_stale"], id="train_history_before_each_epoch"),
    pytest.param("train", variant(TRAIN, "    for epoch in range(epochs):\n",
                                  "    for epoch in range(epochs):\n"
                                  "        order = rng.permutation(len(X_train))\n"
                                  "        X_train[:] = X_train[order]\n"
                                  "        Y_train[:] = Y_train[order]\n"),
                 ["train_inputs_modified"], id="train_shuffles_data_in_place"),
    pytest.param("train", variant(TRAIN, "params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)",
                                  "velocity = {k: momentum * velocity[k] - lr * grads[k] for k in params}\n"
                                  "            params = {k: params[k] + velocity[k] for k in params}"),
                 ["train_no_sgd_step"], id="train_updates_without_sgd_momentum_step"),
    pytest.param("train", variant(TRAIN, "np.array_split(rng.permutation(len(X_train)), n_batches)",
                                  "np.array_split(rng.permutation(len(X_train)), n_batches)[:-1]"),
                 ["train_steps_per_batch"], id="train_skips_the_last_mini_batch"),
    pytest.param("train", variant(TRAIN, "sgd_momentum_step(params, grads, velocity, lr, momentum)",
                                  "sgd_momentum_step(params, grads, velocity, momentum, lr)"),
                 ["train_step_arguments"], id="train_swaps_lr_and_momentum"),
    pytest.param("train", variant(TRAIN, "params, velocity = sgd_momentum_step(",
                                  "sgd_momentum_step("),
                 ["train_step_result_ignored"], id="train_ignores_what_the_step_returns"),
    pytest.param("train", variant(TRAIN, "            params, velocity = sgd_momentum_step(",
                                  "            velocity = {key: np.zeros_like(value) for key, "
                                  "value in params.items()}\n"
                                  "            params, velocity = sgd_momentum_step("),
                 ["train_velocity_reset"], id="train_resets_velocity_before_every_step"),
    pytest.param("train", variant(TRAIN, "velocity = {key: np.zeros_like(value) for key, value in params.items()}",
                                  "velocity = {key: value.copy() for key, value in params.items()}"),
                 ["train_velocity_start"], id="train_velocity_starts_as_params"),
    pytest.param("train", variant(variant(
        TRAIN, "    for epoch in range(epochs):\n",
        "    for epoch in range(epochs):\n        first = params\n"),
        "grads = backprop(X_train[batch], Y_train[batch], params, cache)",
        "grads = backprop(X_train[batch], Y_train[batch], first, forward(X_train[batch], first))"),
        ["train_grads"], id="train_gradients_at_the_epochs_first_params"),
]


@pytest.mark.parametrize("name, source, hints", MISTAKES)
def test_check_names_the_mistake(name, source, hints, capsys):
    passed, out = run_check(name, with_sources(source), capsys)
    assert passed is False, f"check({name!r}) passed a buggy {name}:\n{source}\noutput:\n{out}"
    assert f"{name}: FAILED" in out, f"no FAILED verdict for {name}:\n{out}"
    for key in hints:
        assert HINTS[key] in out, (
            f"check({name!r}) did not print the hint {key!r} for\n{source}\noutput:\n{out}")


def test_every_hint_is_exercised_by_a_test():
    keys = {key for case in MISTAKES for key in case.values[2]}
    keys |= {"unexpected_output"}  # the fallback when the check cannot read a result
    missing = sorted(set(HINTS) - keys)
    assert not missing, f"hints without a test of the mistake: {missing}"


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
        """, variant(TRAIN, "params, velocity = sgd_momentum_step(", "sgd_momentum_step(")),
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
    "rng_shuffle_of_indices": (variant(
        TRAIN, "        for batch in np.array_split(rng.permutation(len(X_train)), n_batches):",
        "        order = np.arange(len(X_train))\n        rng.shuffle(order)\n"
        "        for batch in np.array_split(order, n_batches):"),),
    "permuted_copies_and_slices": (variant(variant(variant(
        TRAIN, "        for batch in np.array_split(rng.permutation(len(X_train)), n_batches):",
        "        order = rng.permutation(len(X_train))\n"
        "        Xs, Ys = X_train[order], Y_train[order]\n"
        "        for start in range(0, len(Xs), batch_size):\n"
        "            batch = slice(start, start + batch_size)"),
        "forward(X_train[batch], params)", "forward(Xs[batch], params)"),
        "backprop(X_train[batch], Y_train[batch],", "backprop(Xs[batch], Ys[batch],"),),
    "history_as_arrays": (variant(
        TRAIN, "return params, history",
        "return params, {key: np.array(value) for key, value in history.items()}"),),
})


@pytest.mark.parametrize("name", sorted(TRAIN_ALTERNATIVES))
def test_other_correct_trains_pass(name, capsys):
    passed, out = run_check("train", with_sources(*TRAIN_ALTERNATIVES[name]), capsys)
    assert passed is True and "Hint" not in out, f"a correct train ({name}) fails:\n{out}"


@pytest.mark.parametrize("student, name, hints", [
    ("ben_softmax_epsilon", "softmax", ["softmax_epsilon", "softmax_global_max"]),
    ("cat_loss_over_nk", "averageCE", ["averageCE_mean_over_NK"]),
    ("dan_inplace_mask", "backprop", ["backprop_mutates_cache"]),
    ("eli_momentum_ignored", "sgd_momentum_step", ["sgd_momentum_ignored"]),
])
def test_demo_students_get_their_hint(student, name, hints, capsys):
    namespace = ada_namespace()
    for source in functions_in(DEMO / f"{student}.py").values():
        exec(source, namespace)
    passed, out = run_check(name, namespace, capsys)
    assert passed is False, f"{student}'s {name} passes check:\n{out}"
    for key in hints:
        assert HINTS[key] in out, f"{student}: hint {key!r} missing from\n{out}"


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
    source = variant(FORWARD, "    Z1 = ", "    print('debug', X.shape)\n    Z1 = ")
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
    no_mask = variant(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)', "dZ1 = dH")
    passed, out = run_check("backprop", with_sources(loss, no_mask), capsys)
    assert passed is False and HINTS["backprop_relu_mask_missing"] in out, (
        f"a backprop mistake should still be named without the student's loss:\n{out}")


def test_forward_built_on_a_failing_softmax_passes_with_a_note(capsys):
    """forward is judged on its own work, as the grader judges it: P = your softmax(Z2)."""
    source = variant(SOFTMAX, "np.sum(e, axis=-1, keepdims=True)",
                     "(np.sum(e, axis=-1, keepdims=True) + 1e-5)")
    passed, out = run_check("forward", with_sources(source, FORWARD), capsys)
    assert passed is True, f"forward using an epsilon softmax rightly should pass:\n{out}"
    assert "cache['P'] is as your softmax makes it" in out and "check('softmax')" in out, (
        f"forward's verdict should point at softmax:\n{out}")
    relu = "def relu(x):\n    x[x < 0] = 0\n    return x\n"
    passed, out = run_check("forward", with_sources(relu, FORWARD), capsys)
    assert passed is True and "cache['Z1'] is as left by your relu" in out, (
        f"a relu that overwrites Z1 is relu's mistake, not forward's:\n{out}")
    layer2 = variant(FORWARD, 'compute_layer(H, params["W2"]', 'compute_layer(Z1, params["W2"]')
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
    buggy = with_sources(variant(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)', "dZ1 = dH"))
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
    exec(variant(BACKPROP, 'dZ2 = gradCE(target, cache["P"])',
                 'dZ2 = (target - cache["P"]) / len(X)'), namespace)  # climbs the loss
    passed, out = run_check("train", namespace, capsys)
    assert passed is True and "train runs your" in out and "backprop" in out, (
        f"train should pass with a note pointing at backprop:\n{out}")
    namespace = ada_namespace()
    exec(variant(TRAIN, "rng.permutation(len(X_train))", "np.arange(len(X_train))"), namespace)
    passed, out = run_check("train", namespace, capsys)
    assert passed is False and HINTS["train_no_shuffle"] in out, (
        f"train's own mistake is still named when its helpers pass:\n{out}")
