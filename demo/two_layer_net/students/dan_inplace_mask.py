"""Demo student: backprop builds the ReLU mask by overwriting the cached activations in
place (seed write-up 000). The gradients are right, but the cache is corrupted:
loses the backprop tests that check its inputs are kept."""

import numpy as np


def backprop(X, target, params, cache):
    dz2 = gradCE(target, cache["P"])
    dW2 = cache["H"].T @ dz2
    db2 = dz2.sum(axis=0)
    mask = cache["H"]
    mask[mask > 0] = 1
    dz1 = (dz2 @ params["W2"].T) * mask
    return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": dW2, "b2": db2}
