"""Tests of l1_loss(X, y, w)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, assert_close, assert_unchanged, describe


@graded(points=1)
def l1_loss_worked_example(student: Student) -> None:
    """l1_loss of the notebook's four points (one outlier) at w = [1, 1] is 1.75, a float."""
    X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    y = np.array([1.0, 2.0, 2.0, 10.0])
    loss, after = student.track("l1_loss", X, y, np.array([1.0, 1.0]))
    assert np.ndim(loss) == 0 and not isinstance(loss, (str, bool)), (
        f"l1_loss should return one number, got {describe(loss)}")
    assert_close(loss, 1.75, "l1_loss(X, y, [1, 1])", atol=1e-12)
    assert_close(student.l1_loss(X, y, np.array([2.0, 0.0])), 2.25,
                 "l1_loss(X, y, [2, 0]) (residuals [1, 0, 0, -8])", atol=1e-12)
    for name, before, now in zip(("X", "y", "w"), (X, y, [1.0, 1.0]), after):
        assert_unchanged(before, now, name)


@graded(points=1, hidden=True)
def l1_loss_random_inputs(student: Student) -> None:
    """l1_loss matches the reference on random data, N=30, D=3."""
    from solutions.foundations import l1_loss as reference
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    X, y, w = rng.normal(size=(30, 3)), rng.normal(size=30), rng.normal(size=3)
    loss = student.l1_loss(X, y, w)
    assert np.ndim(loss) == 0, f"l1_loss should return one number, got {describe(loss)}"
    assert_close(loss, reference(X, y, w), "l1_loss for random X (30, 3), y (30,), w (3,)")
