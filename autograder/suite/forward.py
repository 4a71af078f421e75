"""Tests of forward(X, params)."""

import numpy as np

from autograder.registry import graded
from nnlab.testing import assert_close, assert_shape, assert_unchanged


@graded(points=1)
def forward_cache_shapes(student):
    """forward returns a dict with Z1, H (N, H) and Z2, P (N, K); rows of P sum to 1."""
    rng = np.random.default_rng(11)
    N, D, H, K = 5, 7, 4, 3
    X = rng.normal(size=(N, D))
    params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
              "W2": rng.normal(size=(H, K)), "b2": rng.normal(size=K)}
    cache, (X_after, params_after) = student.track("forward", X, params)
    assert isinstance(cache, dict), f"forward should return a dict, got {type(cache).__name__}"
    missing = sorted({"Z1", "H", "Z2", "P"} - set(cache))
    assert not missing, f"the cache returned by forward lacks the key(s) {missing}"
    for key, shape in (("Z1", (N, H)), ("H", (N, H)), ("Z2", (N, K)), ("P", (N, K))):
        assert_shape(cache[key], shape, f'cache["{key}"]')
    assert_close(np.sum(cache["P"], axis=1), np.ones(N), 'row sums of cache["P"]')
    assert_close(cache["H"], np.maximum(cache["Z1"], 0), 'cache["H"] = relu(cache["Z1"])')
    assert_unchanged(X, X_after, "X")
    assert_unchanged(params, params_after, "params")


@graded(points=2, hidden=True)
def forward_random_inputs(student):
    """forward's Z1, H, Z2 and P match the reference for N=6, D=9, H=5, K=4."""
    from solutions import forward as reference_forward
    rng = np.random.default_rng(8080)
    X = rng.normal(size=(6, 9))
    params = {"W1": rng.normal(size=(9, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 4)), "b2": rng.normal(size=4)}
    cache = student.forward(X, params)
    expected = reference_forward(X, params)
    assert isinstance(cache, dict), f"forward should return a dict, got {type(cache).__name__}"
    for key in ("Z1", "H", "Z2", "P"):
        assert key in cache, f"the cache returned by forward lacks the key {key!r}"
        assert_close(cache[key], expected[key], f'cache["{key}"]')
