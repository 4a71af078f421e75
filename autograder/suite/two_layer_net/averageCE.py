"""Tests of averageCE(target, prediction)."""

import numpy as np

from autograder.graded import graded
from nnlab.two_layer_net import handout
from nnlab.testing import Student, assert_close, assert_unchanged


@graded(points=1)
def averageCE_handout_batch(student: Student) -> None:
    """averageCE of the handout's batch of 3 (targets [6, 4, 7]) is 9.4518."""
    # copies: your function gets arrays of its own, whatever it does with them
    result = student.averageCE(handout.BATCH_TARGETS.copy(), handout.BATCH_PROBABILITIES.copy())
    assert np.ndim(result) == 0, (
        f"averageCE should return one number, got shape {np.shape(result)}")
    assert_close(result, handout.BATCH_LOSS, "averageCE(handout batch)")


@graded(points=1)
def averageCE_mean_over_examples(student: Student) -> None:
    """averageCE divides by the number of examples N (not N*K), is finite where a probability of a class that is not the target is exactly 0, and keeps its inputs."""
    target = np.eye(4)[[0, 2]]
    # exactly 0 where the target is 0 (softmax gives 0 for a far-off logit): 0 * log 0 is NaN
    prediction = np.array([[0.5, 0.25, 0.25, 0.0], [0.25, 0.25, 0.25, 0.25]])
    expected = -(np.log(0.5) + np.log(0.25)) / 2
    result, (target_after, prediction_after) = student.track("averageCE", target, prediction)
    assert_close(result, expected, "averageCE for N=2, K=4")
    assert_unchanged(target, target_after, "target")
    assert_unchanged(prediction, prediction_after, "prediction")


@graded(points=1, hidden=True)
def averageCE_random_inputs(student: Student) -> None:
    """averageCE matches the reference on random batches, tiny probabilities and exact zeros where the target is 0 included."""
    from solutions.two_layer_net import averageCE as reference_averageCE
    from solutions.two_layer_net import softmax as reference_softmax
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    for n, k in [(5, 7), (1, 3), (9, 10)]:
        labels = rng.integers(0, k, size=n)
        target = np.eye(k)[labels]
        logits = rng.normal(scale=6.0, size=(n, k))
        # some classes that are not the target get a logit so far below that softmax gives
        # exactly 0 for them (the rows still sum to 1): 0 * log 0 must not make NaN
        far = (rng.uniform(size=(n, k)) < 0.4) & (target == 0)
        far[0, (labels[0] + 1) % k] = True
        prediction = reference_softmax(np.where(far, -1e4, logits))
        assert_close(student.averageCE(target, prediction),
                     reference_averageCE(target, prediction), f"averageCE for N={n}, K={k}",
                     hide_values=True)
