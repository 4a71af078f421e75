"""Tests of backprop(X, target, params, cache).

backprop is given the correct cache (never the student's forward), and its gradients are
compared with finite differences of a loss computed by the test itself. When backprop
calls a gradCE that is wrong, the gradients it makes of that gradCE are accepted too
(nnlab.two_layer_net.composition), so a mistake in gradCE costs gradCE's tests only; a gradCE
that raises, returns a wrong shape or modifies its input is stood in by its formula
(nnlab.stand_ins).
"""

import numpy as np

from autograder.graded import graded
from nnlab.two_layer_net.composition import agrees, assert_backprop_gradients, small_network
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.testing import Student, assert_close, assert_public, assert_shape, assert_unchanged


@graded(points=1)
def backprop_shapes(student: Student) -> None:
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
    grads, after = track_on_own_work(student, "backprop", X, target, params, cache,
                                     helpers=("gradCE",))
    assert isinstance(grads, dict), f"backprop should return a dict, got {type(grads).__name__}"
    for key in ("W1", "b1", "W2", "b2"):
        assert key in grads, f"the dict returned by backprop lacks the key {key!r}"
        assert_shape(grads[key], params[key].shape, f'grads["{key}"]')
    for name, before, now in zip(("X", "target", "params", "cache"),
                                 (X, target, params, cache), after or ()):
        assert_unchanged(before, now, name)  # (unknown when gradCE was stood in)


@graded(points=1)
def backprop_gradient_check(student: Student) -> None:
    """backprop's gradients match centred finite differences of the loss (N=5, D=4, H=6, K=3)."""
    # Every hidden unit is active for some examples and inactive for others, and no
    # pre-activation is near 0 (where ReLU's kink spoils finite differences).
    X, target, params, cache = small_network(np.random.default_rng(23), 5, 4, 6, 3)
    grads = call_on_own_work(student, "backprop", X, target, params, cache, helpers=("gradCE",))
    assert_backprop_gradients(student, X, target, params, cache, grads)


@graded(points=2, hidden=True)
def backprop_finite_differences(student: Student) -> None:
    """Every gradient of backprop matches centred finite differences of the loss (N=6, D=5, H=7, K=4)."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    # no pre-activation near 0, where ReLU's kink spoils finite differences
    X, target, params, cache = small_network(rng, 6, 5, 7, 4)
    while np.abs(cache["Z1"]).min() < 1e-3:
        X, target, params, cache = small_network(rng, 6, 5, 7, 4)
    grads = call_on_own_work(student, "backprop", X, target, params, cache, helpers=("gradCE",))
    assert_backprop_gradients(student, X, target, params, cache, grads, hide_values=True)


@graded(points=1, hidden=True)
def backprop_random_inputs(student: Student) -> None:
    """backprop matches the reference for N=8, D=10, H=6, K=5 and does not modify the cache."""
    from solutions.two_layer_net import backprop as reference_backprop
    from solutions.two_layer_net import forward
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    X = rng.normal(size=(8, 10))
    target = np.eye(5)[rng.integers(0, 5, size=8)]
    params = {"W1": rng.normal(size=(10, 6)), "b1": rng.normal(size=6),
              "W2": rng.normal(size=(6, 5)), "b2": rng.normal(size=5)}
    cache = forward(X, params)
    grads, after = track_on_own_work(student, "backprop", X, target, params, cache,
                                     helpers=("gradCE",))
    assert_public(isinstance(grads, dict), "backprop should return a dict")
    expected = reference_backprop(X, target, params, cache)
    # with a wrong gradCE, backprop is graded on what it makes of that gradCE's dL/dZ2
    G = None if agrees(grads, expected) else student.attempt("gradCE", target, cache["P"])
    # (np.shape(None) is (); numpy's stubs leave None out)
    if agrees(G, G) and np.shape(G) == (8, 5):  # type: ignore[arg-type]
        G = np.asarray(G, dtype=float)
        dZ1 = (G @ params["W2"].T) * (cache["Z1"] > 0)
        own = {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": cache["H"].T @ G,
               "b2": G.sum(axis=0)}
        expected = own if agrees(grads, own) else expected
    for key in ("W1", "b1", "W2", "b2"):
        assert_public(key in grads, f"the dict returned by backprop lacks the key {key!r}")
        assert_close(grads[key], expected[key], f'grads["{key}"]', hide_values=True)
    if after is not None:  # (unknown when gradCE was stood in)
        assert_unchanged(cache, after[3], "cache")
