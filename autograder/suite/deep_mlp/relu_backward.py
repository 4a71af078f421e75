"""Tests of relu_backward(dA, cache)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, assert_close, assert_unchanged


@graded(points=1)
def relu_backward_values(student: Student) -> None:
    """relu_backward passes dA where Z > 0 and gives 0 elsewhere."""
    Z = np.array([[-1.5, 0.5, 2.0], [3.0, -0.25, -4.0]])
    dA = np.array([[1.0, -2.0, 3.0], [0.5, 5.0, -6.0]])
    dZ, after = student.track("relu_backward", dA, {"Z": Z})
    assert_close(dZ, dA * (Z > 0), "dZ")
    assert_unchanged(dA, after[0], "dA")
    assert_unchanged({"Z": Z}, after[1], "cache")


@graded(points=1, hidden=True)
def relu_backward_random(student: Student) -> None:
    """relu_backward is right on a random (8, 6) batch."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    Z, dA = rng.normal(size=(8, 6)), rng.normal(size=(8, 6))
    assert_close(student.relu_backward(dA, {"Z": Z}), dA * (Z > 0), "dZ", hide_values=True)
