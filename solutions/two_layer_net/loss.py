"""Average cross-entropy and its gradient with respect to the logits."""

import numpy as np


def averageCE(target, prediction):
    """Cross-entropy averaged over the batch: -(1/N) sum_n sum_k t_nk log p_nk.

    Inputs:
    - target: one-hot targets of shape (N, K)
    - prediction: softmax probabilities of shape (N, K)

    Returns:
    - loss: a Python float
    """
    target = np.atleast_2d(target)
    prediction = np.atleast_2d(prediction)
    floor = np.finfo(np.float64).tiny  # log(0) only where the target is 0 anyway
    log_p = np.log(np.maximum(prediction, floor))
    return float(-np.sum(target * log_p) / target.shape[0])


def gradCE(target, prediction):
    """Gradient of averageCE(target, softmax(z)) with respect to the logits z.

    Inputs:
    - target: one-hot targets of shape (N, K)
    - prediction: softmax probabilities of shape (N, K)

    Returns:
    - dz: array of shape (N, K), (prediction - target) / N
    """
    return (prediction - target) / target.shape[0]
