"""Tests of fit_l1(X, y, lr, steps)."""

import numpy as np

from autograder.registry import graded
from nnlab.testing import assert_close, assert_shape, assert_unchanged, describe


@graded(points=1)
def fit_l1_three_steps(student):
    """Three steps on X = ones((3, 1)), y = [0, 1, 5], lr = 1.2: the history and best w."""
    X, y = np.ones((3, 1)), np.array([0.0, 1.0, 5.0])
    returned, after = student.track("fit_l1", X, y, 1.2, 3)
    assert isinstance(returned, (tuple, list)) and len(returned) == 2, (
        f"fit_l1 should return the pair (w, history), got {describe(returned)}")
    w, history = returned
    assert_close(history, [2.0, 1.7333333333333334, 1.6942809041582063, 1.7160324650670773],
                 "history (the loss at w_0 = 0, w_1, w_2, w_3)", atol=1e-9)
    assert_close(w, [1.0828427124746191], "w (the best of w_0, ..., w_3, here w_2)",
                 atol=1e-9)
    for name, before, now in zip(("X", "y"), (X, y), after):
        assert_unchanged(before, now, name)


@graded(points=1, hidden=True)
def fit_l1_matches_reference(student):
    """40 steps on random data (N=20, D=3) give the reference's history and best w."""
    from solutions.foundations import fit_l1 as reference
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    returned = student.fit_l1(X, y, 0.3, 40)
    assert isinstance(returned, (tuple, list)) and len(returned) == 2, (
        f"fit_l1 should return the pair (w, history), got {describe(returned)}")
    expected_w, expected_history = reference(X, y, 0.3, 40)
    assert_close(returned[1], expected_history, "history after 40 steps", atol=1e-9)
    assert_close(returned[0], expected_w, "the best w of 40 steps", atol=1e-9)


@graded(points=1, hidden=True)
def fit_l1_robust_to_outliers(student):
    """On a line with 7 outliers among 45 points, fit_l1 nearly reaches the least L1 loss."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    x = rng.uniform(-5.0, 5.0, size=45)
    y = 4.0 - 1.5 * x + rng.normal(scale=0.3, size=45)
    y[rng.choice(45, size=7, replace=False)] -= rng.uniform(10.0, 25.0, size=7)
    X = np.column_stack([np.ones(45), x])
    returned = student.fit_l1(X, y, 0.5, 2000)
    assert isinstance(returned, (tuple, list)) and len(returned) == 2, (
        f"fit_l1 should return the pair (w, history), got {describe(returned)}")
    w = assert_shape(returned[0], (2,), "w")
    # An L1 line through two of the points is optimal: try them all.
    best = min(np.mean(np.abs(X @ np.linalg.solve(X[[i, j]], y[[i, j]]) - y))
               for i in range(45) for j in range(i + 1, 45))
    loss = float(np.mean(np.abs(X @ w - y)))
    assert loss <= best * 1.005, (
        f"after 2000 steps the loss is {loss:.6f}, the least possible {best:.6f}")
    assert abs(w[1] + 1.5) < 0.2, (
        f"the fitted slope is {w[1]:.3f}, the line without outliers has slope -1.5")
