"""Tests of affine_forward(X, W, b)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, assert_close, assert_public, assert_unchanged


@graded(points=1)
def affine_forward_values_and_cache(student: Student) -> None:
    """affine_forward gives Z = X W + b (N=3, D=2, H=4) and caches {"X": X, "W": W}."""
    X = np.array([[1.0, 2.0], [0.0, -1.0], [0.5, 0.5]])
    W = np.array([[1.0, 0.0, -1.0, 2.0], [0.5, 1.0, 0.0, -1.0]])
    b = np.array([0.1, 0.2, 0.3, 0.4])
    (Z, cache), after = student.track("affine_forward", X, W, b)
    assert_close(Z, X @ W + b, "Z")
    assert_public(isinstance(cache, dict) and "X" in cache and "W" in cache,
                  "the cache should be the dict {'X': X, 'W': W}")
    assert_close(cache["X"], X, 'cache["X"]')
    assert_close(cache["W"], W, 'cache["W"]')
    for name, before, now in zip(("X", "W", "b"), (X, W, b), after):
        assert_unchanged(before, now, name)


@graded(points=1, hidden=True)
def affine_forward_random(student: Student) -> None:
    """affine_forward matches X W + b for N=7, D=5, H=3 and for a single example (N=1)."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    for N in (7, 1):
        X, W, b = rng.normal(size=(N, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
        Z, _ = student.affine_forward(X, W, b)
        assert_close(Z, X @ W + b, f"Z with N={N}")
