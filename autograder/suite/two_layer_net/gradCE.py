"""Tests of gradCE(target, prediction)."""

import numpy as np

from autograder.graded import graded
from nnlab.two_layer_net import handout
from nnlab.testing import (Student, assert_close, assert_gradient, assert_unchanged,
                           numerical_gradient)


@graded(points=1)
def gradCE_handout_matrix(student: Student) -> None:
    """gradCE of the handout's batch of 3 is the handout's dL/dZ matrix (handout.BATCH_GRADIENT), (P - T) / 3."""
    result, (target_after, prediction_after) = student.track(
        "gradCE", handout.BATCH_TARGETS, handout.BATCH_PROBABILITIES)
    assert_close(result, handout.BATCH_GRADIENT, "gradCE(handout batch)")
    assert_unchanged(handout.BATCH_TARGETS, target_after, "target")
    assert_unchanged(handout.BATCH_PROBABILITIES, prediction_after, "prediction")


@graded(points=1)
def gradCE_finite_differences(student: Student) -> None:
    """gradCE equals centred finite differences of the average cross-entropy of the logits."""
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(4, 6))
    target = np.eye(6)[[1, 0, 5, 3]]

    def loss(z: np.ndarray) -> float:  # average cross-entropy of softmax(z), by log-sum-exp
        top = z.max(axis=1, keepdims=True)
        log_p = z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True))
        return -np.sum(target * log_p) / z.shape[0]

    top = logits.max(axis=1, keepdims=True)
    prediction = np.exp(logits - top) / np.exp(logits - top).sum(axis=1, keepdims=True)
    assert_gradient(student.gradCE(target, prediction), numerical_gradient(loss, logits), "dL/dz")


@graded(points=1, hidden=True)
def gradCE_random_inputs(student: Student) -> None:
    """gradCE matches the reference for several batch sizes."""
    from solutions.two_layer_net import gradCE as reference_gradCE
    from solutions.two_layer_net import softmax as reference_softmax
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    for n, k in [(1, 4), (6, 9), (13, 10)]:
        target = np.eye(k)[rng.integers(0, k, size=n)]
        prediction = reference_softmax(rng.normal(size=(n, k)))
        assert_close(student.gradCE(target, prediction), reference_gradCE(target, prediction),
                     f"gradCE for N={n}, K={k}", hide_values=True)
