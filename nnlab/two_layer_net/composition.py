"""What forward and backprop are graded on: their own work, whatever the functions they call do.

forward is a chain of the student's own functions::

    Z1 = compute_layer(X, W1, b1)   H = relu(Z1)   Z2 = compute_layer(H, W2, b2)   P = softmax(Z2)

``assert_forward_cache`` checks it stage by stage: each array of the cache must be the
correct value *of the cache's previous array*, or what the student's own function gives for
that array (or that array as the student's own relu or softmax leaves it, when they modify
their input). So a wrong softmax costs softmax's tests, not forward's as well; a forward
that feeds Z1 to the second layer, forgets a bias or skips relu still fails.

backprop calls the student's gradCE. ``assert_backprop_gradients`` compares its gradients
with centred finite differences of the loss, computed here from X, target and params alone;
when they differ and the student's gradCE is wrong, it also accepts what backprop makes of
that gradCE: the finite differences of sum(G * Z2(params)) with G = gradCE(target, P) held
fixed (the chain rule applied to G, whatever G is). A wrong gradCE then costs gradCE's
tests only.

Both helpers work for a student object of nnlab.testing (notebook) or of the grader, and
contain no solution code beyond the formulas the notebook states.
"""

from typing import Any, Callable

import numpy as np

from nnlab.testing import (GRADIENT_THRESHOLD, PublicFailure, Student, as_float_array,
                           assert_close, assert_gradient, assert_public, matches,
                           numerical_gradient, relative_error)
from nnlab.two_layer_net import CACHE_KEYS, PARAM_KEYS, Array, Params


def agrees(value: object, expected: object, rtol: float = 1e-6, atol: float = 1e-12) -> bool:
    """True if ``value`` (an array, or a dict or tuple of them) matches ``expected`` in shape
    and value.

    Never raises: a value of another type, shape or with NaN simply does not agree.
    """
    if isinstance(expected, dict):
        return isinstance(value, dict) and all(
            key in value and agrees(value[key], item, rtol, atol)
            for key, item in expected.items())
    if isinstance(expected, tuple):  # a pair such as sgd_momentum_step's (params, velocity)
        return isinstance(value, (tuple, list)) and len(value) == len(expected) and all(
            agrees(part, item, rtol, atol) for part, item in zip(value, expected))
    try:
        return matches(value, expected, rtol, atol)
    except (TypeError, ValueError):  # ragged lists and the like
        return False


def same_as(student: Student, name: str, args: tuple[Any, ...], expected: object,
            rtol: float = 1e-6, atol: float = 1e-12) -> bool:
    """True if the student's ``name`` gives ``expected`` for ``args`` (False if it raises)."""
    return agrees(student.attempt(name, *args), expected, rtol, atol)


def _softmax_rows(Z: Array) -> Array:
    """Softmax of each row (along the last axis), by log-sum-exp."""
    top = Z.max(axis=-1, keepdims=True)
    log_p = Z - top - np.log(np.exp(Z - top).sum(axis=-1, keepdims=True))
    return np.exp(log_p)


def _stage(student: Student, cache: Params, key: str, formula: str,
           correct: Callable[[], Array], own: tuple[str, tuple[Array, ...]],
           modifier: str | None, hide_values: bool) -> None:
    """One array of forward's cache: correct, or what the student's own function makes of it."""
    actual = cache[key]
    name = f'cache["{key}"] (should be {formula})'
    try:
        expected = correct()
    except ValueError:  # the previous array has a shape the formula cannot take
        expected = None
    if expected is not None and agrees(actual, expected):
        return
    function, args = own
    mine = student.attempt(function, *args)
    candidates = [] if mine is None else [mine]
    if modifier is not None:  # the student's relu or softmax may overwrite its input
        for before in [expected] + candidates:
            if before is not None and agrees(before, before):
                tracked = student.attempt(modifier, np.array(before, dtype=np.float64),
                                          after=True)
                if tracked is not None and not agrees(tracked[1][0], before):
                    candidates.append(tracked[1][0])
    if any(agrees(actual, candidate) for candidate in candidates):
        return
    assert_public(expected is not None,
                  f"{name}: that formula does not fit the shapes of the cache's arrays "
                  f"({', '.join(f'{k} {np.shape(cache[k])}' for k in CACHE_KEYS)})")
    assert_close(actual, expected, name, atol=1e-12, hide_values=hide_values)


def assert_forward_cache(student: Student, X: Array, params: Params, cache: Any,
                         hide_values: bool = False) -> None:
    """Assert forward's cache is the chain of the four stages, each from the previous one.

    Inputs:
    - student: the student object of the test
    - X, params: what forward was given
    - cache: what forward returned
    - hide_values: hidden tests: messages without numbers (PublicFailure)

    Each of Z1, H, Z2, P is compared with the correct value computed from the cache's
    previous array (Z1 from X), or with what the student's own compute_layer, relu or
    softmax gives for it.
    """
    assert_public(isinstance(cache, dict),
                  f"forward should return a dict, got {type(cache).__name__}")
    missing = sorted(set(CACHE_KEYS) - set(cache))
    assert_public(not missing, f"the cache returned by forward lacks the key(s) {missing}")
    cache = {key: as_float_array(cache[key], f'cache["{key}"]').astype(np.float64)
             for key in CACHE_KEYS}
    W1, b1, W2, b2 = (params[key] for key in PARAM_KEYS)
    stages = (
        ("Z1", "compute_layer(X, W1, b1) = X W1 + b1", lambda: X @ W1 + b1,
         ("compute_layer", (X, W1, b1)), "relu"),
        ("H", 'relu(cache["Z1"])', lambda: np.maximum(cache["Z1"], 0.0),
         ("relu", (cache["Z1"],)), None),
        ("Z2", 'compute_layer(cache["H"], W2, b2)', lambda: cache["H"] @ W2 + b2,
         ("compute_layer", (cache["H"], W2, b2)), "softmax"),
        ("P", 'softmax(cache["Z2"])', lambda: _softmax_rows(cache["Z2"]),
         ("softmax", (cache["Z2"],)), None),
    )
    for key, formula, correct, own, modifier in stages:
        _stage(student, cache, key, formula, correct, own, modifier, hide_values)


def _forward_logits(X: Array, params: Params) -> Array:
    """Z2 of the network, computed here (relu hidden layer, then the output layer)."""
    hidden = np.maximum(X @ params["W1"] + params["b1"], 0.0)
    return hidden @ params["W2"] + params["b2"]


def _average_cross_entropy(target: Array, Z2: Array) -> float:
    top = Z2.max(axis=1, keepdims=True)
    log_p = Z2 - top - np.log(np.exp(Z2 - top).sum(axis=1, keepdims=True))
    return -np.sum(target * log_p) / Z2.shape[0]


def finite_differences(X: Array, params: Params,
                       scalar: Callable[[Array], float]) -> Params:
    """{key: centred finite differences of scalar(Z2(params))} for every parameter."""
    numeric = {}
    for key in PARAM_KEYS:
        probe = {name: np.array(value, dtype=np.float64) for name, value in params.items()}

        def of(value: Array, key: str = key, probe: Params = probe) -> float:
            probe[key] = value
            return scalar(_forward_logits(X, probe))

        numeric[key] = numerical_gradient(of, probe[key].copy())
    return numeric


def small_network(rng: np.random.Generator, N: int, D: int, H: int, K: int
                  ) -> tuple[Array, Array, Params, Params]:
    """X, one-hot target, params and the correct forward cache of a small random network."""
    X = rng.normal(size=(N, D))
    target = np.eye(K)[rng.integers(0, K, size=N)]
    params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(scale=0.5, size=H),
              "W2": rng.normal(size=(H, K)), "b2": rng.normal(scale=0.5, size=K)}
    Z1 = X @ params["W1"] + params["b1"]
    Z2 = np.maximum(Z1, 0) @ params["W2"] + params["b2"]
    P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    cache = {"Z1": Z1, "H": np.maximum(Z1, 0), "Z2": Z2, "P": P / P.sum(axis=1, keepdims=True)}
    return X, target, params, cache


def assert_backprop_gradients(student: Student, X: Array, target: Array,
                              params: Params, cache: Params,
                              grads: Any, hide_values: bool = False) -> None:
    """Assert backprop's gradients match finite differences of the average cross-entropy.

    Inputs:
    - student: the student object of the test
    - X, target, params, cache: what backprop was given (cache: the correct forward cache)
    - grads: what backprop returned
    - hide_values: hidden tests: messages without numbers (PublicFailure)

    Also accepted: the gradients backprop makes of the student's own gradCE, when that
    gradCE is wrong (finite differences of sum(G * Z2) with G = gradCE(target, P) fixed).
    """
    assert_public(isinstance(grads, dict),
                  f"backprop should return a dict, got {type(grads).__name__}")
    for key in PARAM_KEYS:
        assert_public(key in grads, f"the dict returned by backprop lacks the key {key!r}")
        shape = as_float_array(grads[key], f'grads["{key}"]').shape
        assert_public(shape == np.shape(params[key]),
                      f'grads["{key}"] has shape {shape}, expected {np.shape(params[key])} '
                      f'(the shape of params["{key}"])')
    numeric = finite_differences(X, params, lambda Z2: _average_cross_entropy(target, Z2))
    if all(_close_gradient(grads[key], numeric[key]) for key in PARAM_KEYS):
        return
    G = student.attempt("gradCE", target, cache["P"])
    if agrees(G, G) and np.shape(G) == np.shape(cache["P"]):  # numbers, no NaN, P's shape
        G = np.asarray(G, dtype=np.float64)
        own = finite_differences(X, params, lambda Z2: float(np.sum(G * Z2)))
        if all(_close_gradient(grads[key], own[key]) for key in PARAM_KEYS):
            return
    for key in ("W2", "b2", "W1", "b1"):
        assert_gradient(grads[key], numeric[key], f"d loss / d {key}", hide_values=hide_values)
    raise PublicFailure("backprop's gradients contain NaN or infinite values")


def _close_gradient(analytic: object, numeric: Array) -> bool:
    analytic = np.asarray(analytic)
    if analytic.dtype.kind not in "fiub" or analytic.shape != numeric.shape:
        return False
    error = relative_error(analytic, numeric)
    return bool(np.isfinite(error) and error < GRADIENT_THRESHOLD)


# What forward and backprop call, by the notebook's formulas, with a probe each (distinct
# sizes): a helper that breaks is stood in while its caller is graded (nnlab.stand_ins).
def _onehot(rng: np.random.Generator, N: int, K: int) -> Array:
    return np.eye(K)[rng.integers(0, K, size=N)]


STAND_INS = {
    "compute_layer": (lambda X, W, b: X @ W + b,
                      lambda rng: (rng.normal(size=(7, 3)), rng.normal(size=(3, 5)),
                                   rng.normal(size=5))),
    "relu": (lambda x: np.maximum(x, 0.0), lambda rng: (rng.normal(size=(3, 4)),)),
    "softmax": (_softmax_rows, lambda rng: (rng.normal(size=(3, 4)),)),
    "gradCE": (lambda target, prediction: (prediction - target) / target.shape[0],
               lambda rng: (_onehot(rng, 3, 4), _softmax_rows(rng.normal(size=(3, 4))))),
}
FORWARD_HELPERS = ("compute_layer", "relu", "softmax")
BACKPROP_HELPERS = ("gradCE",)
