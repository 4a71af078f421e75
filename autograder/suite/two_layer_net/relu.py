"""Tests of relu(x)."""

import numpy as np

from autograder.graded import graded
from nnlab.two_layer_net import handout
from nnlab.testing import Student, assert_close, assert_unchanged


@graded(points=1)
def relu_handout_table(student: Student) -> None:
    """relu on the handout's 5x3 table keeps positives and zeroes the negatives."""
    expected = np.where(handout.RELU_INPUT > 0, handout.RELU_INPUT, 0.0)
    assert_close(student.relu(handout.RELU_INPUT.copy()), expected, "relu(handout table)")


@graded(points=1)
def relu_properties(student: Student) -> None:
    """relu works on any shape, returns float64 for float64 input and does not modify x."""
    x = np.linspace(-2.0, 2.0, 24).reshape(2, 3, 4)
    result, (after,) = student.track("relu", x)
    assert_close(result, np.maximum(x, 0.0), "relu(x) for x of shape (2, 3, 4)")
    assert np.asarray(result).dtype == np.float64, (
        f"relu returned dtype {np.asarray(result).dtype} for float64 input; keep float64")
    assert_unchanged(x, after, "x")


@graded(points=1, hidden=True)
def relu_random_inputs(student: Student) -> None:
    """relu matches the reference on random inputs of several shapes."""
    from solutions.two_layer_net import relu as reference_relu
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    for shape in [(7,), (5, 3), (2, 6, 4)]:
        x = rng.normal(size=shape)
        assert_close(student.relu(x), reference_relu(x), f"relu(x) for x of shape {shape}",
                     hide_values=True)
