"""Demo student: softmax_jacobian adds y_i y_j instead of subtracting it (a missing minus
sign), so the rows no longer sum to 0. Loses the softmax_jacobian tests."""

import numpy as np


def softmax_jacobian(y):
    if y.ndim == 1:
        return np.diag(y) + np.outer(y, y)
    out = np.zeros((y.shape[0], y.shape[1], y.shape[1]))
    for n in range(y.shape[0]):
        out[n] = np.diag(y[n]) + np.outer(y[n], y[n])
    return out
