"""The Jacobian of softmax, written with its outputs."""

import numpy as np


def softmax_jacobian(y):
    """Jacobian of y = softmax(z) with respect to z: J[i, j] = y_i (delta_ij - y_j).

    Inputs:
    - y: softmax probabilities, one vector of shape (K,) or a batch of shape (N, K)
      (each row positive, summing to 1)

    Returns:
    - J: shape (K, K) for a vector, (N, K, K) for a batch, where J[n, i, j] is the
      derivative of y[n, i] with respect to z[n, j]; y is not modified
    """
    y = np.asarray(y, dtype=np.float64)
    diagonal = y[..., :, None] * np.eye(y.shape[-1])   # y_i delta_ij
    outer = y[..., :, None] * y[..., None, :]           # y_i y_j
    return diagonal - outer
