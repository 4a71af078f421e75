"""Tests of compute_layer(X, W, b)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, assert_close, assert_unchanged


@graded(points=1)
def compute_layer_small_example(student: Student) -> None:
    """compute_layer on a hand-computed example, X (2, 3), W (3, 4), b (4,), gives X W + b."""
    X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    W = np.array([[1.0, 0.0, 2.0, -1.0], [0.0, 1.0, 0.0, 1.0], [1.0, -1.0, 0.0, 2.0]])
    b = np.array([0.5, -0.5, 1.0, 0.0])
    expected = np.array([[4.5, -1.5, 3.0, 7.0], [4.5, -5.5, 1.0, 7.0]])
    result, after = student.track("compute_layer", X, W, b)
    assert_close(result, expected, "compute_layer(X, W, b)")
    for name, before, now in zip(("X", "W", "b"), (X, W, b), after):
        assert_unchanged(before, now, name)


@graded(points=1, hidden=True)
def compute_layer_random_inputs(student: Student) -> None:
    """compute_layer matches the reference for N=6, D=5, H=4 random inputs."""
    from solutions.two_layer_net import compute_layer as reference_compute_layer
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    X, W, b = rng.normal(size=(6, 5)), rng.normal(size=(5, 4)), rng.normal(size=4)
    assert_close(student.compute_layer(X, W, b), reference_compute_layer(X, W, b),
                 "compute_layer(X, W, b) for N=6, D=5, H=4", hide_values=True)
