"""Tests of backprop(X, target, params, cache)."""

import numpy as np

from autograder.registry import graded
from nnlab.testing import (assert_close, assert_gradient, assert_shape, assert_unchanged,
                           numerical_gradient)


@graded(points=1)
def backprop_shapes(student):
    """backprop returns gradients W1 (D, H), b1 (H,), W2 (H, K), b2 (K,) and keeps its inputs."""
    rng = np.random.default_rng(12)
    N, D, H, K = 5, 7, 4, 3
    X = rng.normal(size=(N, D))
    target = np.eye(K)[[0, 2, 1, 1, 0]]
    params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
              "W2": rng.normal(size=(H, K)), "b2": rng.normal(size=K)}
    # Any cache with the right shapes will do for this test (it checks shapes only).
    Z1 = rng.normal(size=(N, H))
    Z2 = rng.normal(size=(N, K))
    P = np.exp(Z2) / np.exp(Z2).sum(axis=1, keepdims=True)
    cache = {"Z1": Z1, "H": np.maximum(Z1, 0), "Z2": Z2, "P": P}
    grads, after = student.track("backprop", X, target, params, cache)
    assert isinstance(grads, dict), f"backprop should return a dict, got {type(grads).__name__}"
    for key in ("W1", "b1", "W2", "b2"):
        assert key in grads, f"the dict returned by backprop lacks the key {key!r}"
        assert_shape(grads[key], params[key].shape, f'grads["{key}"]')
    for name, before, now in zip(("X", "target", "params", "cache"),
                                 (X, target, params, cache), after):
        assert_unchanged(before, now, name)


@graded(points=3, hidden=True)
def backprop_finite_differences(student):
    """Every gradient of backprop matches centred finite differences of the loss."""
    from solutions import averageCE, forward
    rng = np.random.default_rng(2718)
    N, D, H, K = 6, 5, 7, 4
    X = rng.normal(size=(N, D))
    target = np.eye(K)[rng.integers(0, K, size=N)]
    params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(scale=0.5, size=H),
              "W2": rng.normal(size=(H, K)), "b2": rng.normal(scale=0.5, size=K)}
    grads = student.backprop(X, target, params, forward(X, params))
    assert isinstance(grads, dict), f"backprop should return a dict, got {type(grads).__name__}"
    for key in ("W2", "b2", "W1", "b1"):
        assert key in grads, f"the dict returned by backprop lacks the key {key!r}"
        probe = {name: value.copy() for name, value in params.items()}

        def loss(value):
            probe[key] = value
            return averageCE(target, forward(X, probe)["P"])

        numeric = numerical_gradient(loss, params[key].copy())
        assert_gradient(grads[key], numeric, f"d loss / d {key}")


@graded(points=1, hidden=True)
def backprop_random_inputs(student):
    """backprop matches the reference for N=8, D=10, H=6, K=5 and does not modify the cache."""
    from solutions import backprop as reference_backprop
    from solutions import forward
    rng = np.random.default_rng(1618)
    X = rng.normal(size=(8, 10))
    target = np.eye(5)[rng.integers(0, 5, size=8)]
    params = {"W1": rng.normal(size=(10, 6)), "b1": rng.normal(size=6),
              "W2": rng.normal(size=(6, 5)), "b2": rng.normal(size=5)}
    cache = forward(X, params)
    grads, after = student.track("backprop", X, target, params, cache)
    assert isinstance(grads, dict), f"backprop should return a dict, got {type(grads).__name__}"
    expected = reference_backprop(X, target, params, cache)
    for key in ("W1", "b1", "W2", "b2"):
        assert key in grads, f"the dict returned by backprop lacks the key {key!r}"
        assert_close(grads[key], expected[key], f'grads["{key}"]')
    assert_unchanged(cache, after[3], "cache")
