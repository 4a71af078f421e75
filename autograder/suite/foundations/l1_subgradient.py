"""Tests of l1_subgradient(X, y, w)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, assert_close, assert_unchanged, numerical_gradient


@graded(points=1)
def l1_subgradient_worked_example(student: Student) -> None:
    """The subgradient at the notebook's example is [0, -0.25] (sign(0) = 0, divided by N)."""
    X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    y = np.array([1.0, 2.0, 2.0, 10.0])
    w = np.array([1.0, 1.0])
    g, after = student.track("l1_subgradient", X, y, w)
    assert_close(g, [0.0, -0.25], "l1_subgradient(X, y, [1, 1]) (residuals [0, 0, 1, -6])",
                 atol=1e-12)
    for name, before, now in zip(("X", "y", "w"), (X, y, w), after):
        assert_unchanged(before, now, name)


@graded(points=1)
def l1_subgradient_at_a_perfect_fit(student: Student) -> None:
    """Where every residual is 0 the subgradient is 0; where all are positive, the mean row."""
    X = np.array([[1.0, -2.0, 0.5], [1.0, 0.0, 1.0], [1.0, 1.0, -1.0], [1.0, 3.0, 2.0],
                  [1.0, 4.0, 0.0]])
    w = np.array([0.5, -1.0, 2.0])
    y = X @ w
    assert_close(student.l1_subgradient(X, y, w), np.zeros(3),
                 "l1_subgradient at a perfect fit (every residual 0)", atol=1e-12)
    assert_close(student.l1_subgradient(X, y - 1.0, w), X.mean(axis=0),
                 "l1_subgradient when every residual is +1", atol=1e-12)


@graded(points=1, hidden=True)
def l1_subgradient_random_inputs(student: Student) -> None:
    """Away from kinks it equals finite differences of the loss; at kinks, the reference."""
    from solutions.foundations import l1_loss
    from solutions.foundations import l1_subgradient as reference
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    X, y, w = rng.normal(size=(25, 4)), rng.normal(size=25), rng.normal(size=4)
    near = np.abs(X @ w - y) < 1e-2  # no residual near a kink of |r|: move those points
    y[near] += np.where(X[near] @ w >= y[near], -0.1, 0.1)
    numeric = numerical_gradient(lambda v: l1_loss(X, y, v), w.copy())
    assert_close(student.l1_subgradient(X, y, w), numeric,
                 "l1_subgradient for random X (25, 4), y (25,), w (4,)", rtol=1e-5, atol=1e-9)
    # small integers and halves: X w is exact, so residuals set to 0 stay exactly 0
    X = rng.integers(-3, 4, size=(25, 4)).astype(np.float64)
    w = rng.integers(-4, 5, size=4) / 2.0
    y = X @ w + rng.integers(-2, 3, size=25) / 4.0
    y[[2, 7, 11]] = X[[2, 7, 11]] @ w
    assert_close(student.l1_subgradient(X, y, w), reference(X, y, w),
                 "l1_subgradient with some residuals exactly 0", atol=1e-12)
