"""Tests of sigmoid_backward(dA, cache): the derivative at the pre-activation Z (the seed
network's bug, the derivative at the activation, loses these points)."""

import numpy as np

from autograder.graded import graded
from nnlab.deep_mlp import handout
from nnlab.testing import Student, assert_close, assert_gradient, numerical_gradient


@graded(points=2)
def sigmoid_backward_handout(student: Student) -> None:
    """sigmoid_backward(ones, {"Z": [-2, 0, 3]}) gives s(Z)(1 - s(Z)) = [0.105, 0.25, 0.0452]."""
    dZ = student.sigmoid_backward(np.ones((1, 3)), {"Z": handout.SIGMOID_Z.copy()})
    assert_close(dZ, handout.SIGMOID_DERIVATIVE, "dZ")


@graded(points=1, hidden=True)
def sigmoid_backward_finite_differences(student: Student) -> None:
    """sigmoid_backward matches finite differences of the sigmoid on a random (6, 5) batch."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    Z, G = rng.normal(size=(6, 5)) * 2, rng.normal(size=(6, 5))
    numeric = numerical_gradient(lambda v: float((G * 0.5 * (1 + np.tanh(0.5 * v))).sum()),
                                 Z.copy())
    assert_gradient(student.sigmoid_backward(G, {"Z": Z}), numeric, "dZ", hide_values=True)
