"""Demo student: softmax subtracts one maximum over the whole batch and adds 1e-5 to the
denominator (seed write-up 001). Loses the softmax tests only: forward and train, which call
it, are graded on their own work."""

import numpy as np


def softmax(x):
    x = x - np.max(x)
    exp_x = np.exp(x)
    return exp_x / (np.sum(exp_x, axis=-1, keepdims=True) + 0.00001)
