"""Tests of fit_l1(X, y, lr, steps), graded on its own work: its (w, history) must be the
notebook's rule applied with the correct subgradient and loss, or with the student's own
l1_subgradient and l1_loss (nnlab/foundations/composition.py), so that a mistake there costs
their tests only; one of them that raises, returns a wrong shape or NaN, or modifies its input
is stood in by its formula (nnlab.stand_ins)."""

import numpy as np

from autograder.graded import graded
from nnlab.foundations.composition import assert_fit_l1, fit_of_own_functions, fit_pair
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.testing import Student, assert_unchanged


@graded(points=1)
def fit_l1_three_steps(student: Student) -> None:
    """Three steps on X = ones((3, 1)), y = [0, 1, 5], lr = 1.2: the history and best w."""
    X, y = np.ones((3, 1)), np.array([0.0, 1.0, 5.0])
    returned, after = track_on_own_work(student, "fit_l1", X, y, 1.2, 3, helpers=("l1_loss", "l1_subgradient"))
    expected = (np.array([1.0828427124746191]),
                np.array([2.0, 1.7333333333333334, 1.6942809041582063, 1.7160324650670773]))
    # history: the loss at w_0 = 0, w_1, w_2, w_3; w: the best of them, here w_2
    assert_fit_l1(student, X, y, 1.2, 3, returned, expected)
    for name, before, now in zip(("X", "y"), (X, y), after or ()):
        assert_unchanged(before, now, name)  # (unknown when a helper was stood in)


@graded(points=1, hidden=True)
def fit_l1_matches_reference(student: Student) -> None:
    """40 steps on random data (N=20, D=3) give the notebook's fit: the history and best w."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    from solutions.foundations import fit_l1 as reference
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    returned = call_on_own_work(student, "fit_l1", X, y, 0.3, 40, helpers=("l1_loss", "l1_subgradient"))
    assert_fit_l1(student, X, y, 0.3, 40, returned, reference(X, y, 0.3, 40), hide_values=True)


@graded(points=1, hidden=True)
def fit_l1_robust_to_outliers(student: Student) -> None:
    """On a line with 7 outliers among 45 points, fit_l1 nearly reaches the least L1 loss."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    x = rng.uniform(-5.0, 5.0, size=45)
    y = 4.0 - 1.5 * x + rng.normal(scale=0.3, size=45)
    y[rng.choice(45, size=7, replace=False)] -= rng.uniform(10.0, 25.0, size=7)
    X = np.column_stack([np.ones(45), x])
    returned = call_on_own_work(student, "fit_l1", X, y, 0.5, 2000, helpers=("l1_loss", "l1_subgradient"))
    w, _ = fit_pair(returned, 2000, 2)
    # An L1 line through two of the points is optimal: try them all.
    best = min(np.mean(np.abs(X @ np.linalg.solve(X[[i, j]], y[[i, j]]) - y))
               for i in range(45) for j in range(i + 1, 45))
    loss = float(np.mean(np.abs(X @ w - y)))
    if loss <= best * 1.005 and abs(w[1] + 1.5) < 0.2:
        return
    # the rule followed on the student's own wrong l1_subgradient or l1_loss: charged there
    if fit_of_own_functions(student, X, y, 0.5, 2000, returned):
        return
    assert loss <= best * 1.005, (
        f"after 2000 steps the loss is {loss:.6f}, the least possible {best:.6f}")
    assert abs(w[1] + 1.5) < 0.2, (
        f"the fitted slope is {w[1]:.3f}, the line without outliers has slope -1.5")
