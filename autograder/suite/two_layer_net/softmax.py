"""Tests of softmax(x)."""

import numpy as np

from autograder.graded import graded
from nnlab.two_layer_net import handout
from nnlab.testing import Student, assert_close, assert_unchanged


@graded(points=1)
def softmax_handout_vector(student: Student) -> None:
    """softmax of the handout's 10 logits gives the handout's probabilities."""
    assert_close(student.softmax(handout.SOFTMAX_LOGITS.copy()), handout.SOFTMAX_PROBABILITIES,
                 "softmax(handout logits)")


@graded(points=1)
def softmax_handout_batch(student: Student) -> None:
    """softmax of a batch (N, K) works row by row: rows of log-probabilities give them back."""
    logits = np.log(handout.BATCH_PROBABILITIES)
    result, (after,) = student.track("softmax", logits)
    expected = handout.BATCH_PROBABILITIES / handout.BATCH_PROBABILITIES.sum(axis=1, keepdims=True)
    assert_close(result, expected, "softmax(batch of 3 rows)")
    assert_unchanged(logits, after, "x")


@graded(points=1)
def softmax_stability(student: Student) -> None:
    """softmax is stable at logits of +-1000 and shifts each row by its own maximum."""
    x = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1001.0]])
    w = np.exp([0.0, 0.0, -1.0])
    expected = np.array([[0.5, 0.5, 0.0], w / w.sum()])
    assert_close(student.softmax(x), expected, "softmax at logits of +-1000", atol=1e-12)
    # One row near +800 and one near -800: a single max over the whole batch
    # would make the second row 0/0.
    x = np.array([[800.0, 801.0, 799.0], [-800.0, -801.0, -799.0]])
    expected = np.array([np.exp([-1.0, 0.0, -2.0]), np.exp([-1.0, -2.0, 0.0])])
    expected /= expected.sum(axis=1, keepdims=True)
    assert_close(student.softmax(x), expected,
                 "softmax of rows [800, 801, 799] and [-800, -801, -799]", atol=1e-12)


@graded(points=1, hidden=True)
def softmax_random_inputs(student: Student) -> None:
    """softmax matches the reference on random vectors and batches, without modifying x."""
    from solutions.two_layer_net import softmax as reference_softmax
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    for shape in [(7,), (5, 7), (11, 3)]:
        x = rng.normal(scale=5.0, size=shape)
        result, (after,) = student.track("softmax", x)
        assert_close(result, reference_softmax(x), f"softmax(x) for x of shape {shape}",
                     hide_values=True)
        assert_unchanged(x, after, "x")
