"""Tests of affine_backward(dZ, cache): gradients of sum(G * (X W + b)) by finite differences."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import (Student, assert_gradient, assert_public, assert_unchanged,
                           numerical_gradient)


@graded(points=1)
def affine_backward_finite_differences(student: Student) -> None:
    """affine_backward's dX, dW, db match finite differences (N=4, D=3, H=2) and keep the cache."""
    rng = np.random.default_rng(31)
    X, W, b, G = (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2),
                  rng.normal(size=(4, 2)))
    numeric = {
        "dX": numerical_gradient(lambda v: float((G * (v @ W + b)).sum()), X.copy()),
        "dW": numerical_gradient(lambda v: float((G * (X @ v + b)).sum()), W.copy()),
        "db": numerical_gradient(lambda v: float((G * (X @ W + v)).sum()), b.copy()),
    }
    value, after = student.track("affine_backward", G, {"X": X, "W": W})
    assert_public(isinstance(value, (tuple, list)) and len(value) == 3,
                  "affine_backward should return the triple (dX, dW, db)")
    for name, grad in zip(("dX", "dW", "db"), value):
        assert_gradient(grad, numeric[name], name)
    assert_unchanged({"X": X, "W": W}, after[1], "cache")


@graded(points=2, hidden=True)
def affine_backward_random(student: Student) -> None:
    """affine_backward matches finite differences for N=6, D=5, H=4 and N=1, D=3, H=5."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    for N, D, H in ((6, 5, 4), (1, 3, 5)):
        X, W, b, G = (rng.normal(size=(N, D)), rng.normal(size=(D, H)), rng.normal(size=H),
                      rng.normal(size=(N, H)))
        numeric = {
            "dX": numerical_gradient(lambda v: float((G * (v @ W + b)).sum()), X.copy()),
            "dW": numerical_gradient(lambda v: float((G * (X @ v + b)).sum()), W.copy()),
            "db": numerical_gradient(lambda v: float((G * (X @ W + v)).sum()), b.copy()),
        }
        value = student.affine_backward(G, {"X": X, "W": W})
        assert_public(isinstance(value, (tuple, list)) and len(value) == 3,
                      "affine_backward should return the triple (dX, dW, db)")
        for name, grad in zip(("dX", "dW", "db"), value):
            assert_gradient(grad, numeric[name], f"{name} (N={N}, D={D}, H={H})",
                            hide_values=True)
