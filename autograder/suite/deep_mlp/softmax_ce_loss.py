"""Tests of softmax_ce_loss(scores, Y)."""

import numpy as np

from autograder.graded import graded
from nnlab.deep_mlp.composition import mean_cross_entropy
from nnlab.testing import Student, assert_close, assert_gradient, assert_public, numerical_gradient


@graded(points=1)
def softmax_ce_loss_values(student: Student) -> None:
    """softmax_ce_loss gives the mean cross-entropy and (P - Y) / N for N=2, K=3."""
    scores = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    value = student.softmax_ce_loss(scores, Y)
    assert_public(isinstance(value, (tuple, list)) and len(value) == 2,
                  "softmax_ce_loss should return the pair (loss, dscores)")
    P = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert_close(value[0], mean_cross_entropy(scores, Y), "loss")
    assert_close(value[1], (P - Y) / 2, "dscores")


@graded(points=2, hidden=True)
def softmax_ce_loss_gradient_and_stability(student: Student) -> None:
    """dscores matches finite differences (N=5, K=4), and scores of 1000 give finite values."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    scores, Y = rng.normal(size=(5, 4)), np.eye(4)[rng.integers(0, 4, size=5)]
    loss, dscores = student.softmax_ce_loss(scores, Y)
    assert_close(loss, mean_cross_entropy(scores, Y), "loss", hide_values=True)
    numeric = numerical_gradient(lambda v: mean_cross_entropy(v, Y), scores.copy())
    assert_gradient(dscores, numeric, "dscores", hide_values=True)
    loss, dscores = student.softmax_ce_loss(scores * 1000, Y)
    assert_close(loss, mean_cross_entropy(scores * 1000, Y), "loss with scores of 1000")
    assert_public(np.all(np.isfinite(np.asarray(dscores, dtype=float))),
                  "dscores is not finite for scores of 1000: subtract each row's maximum")
