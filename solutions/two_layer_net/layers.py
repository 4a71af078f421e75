"""The network's building blocks: ReLU, softmax and a fully connected layer."""

import numpy as np


def relu(x):
    """Rectified linear unit, elementwise: max(0, x).

    Inputs:
    - x: array of any shape

    Returns:
    - array of x's shape with every negative entry replaced by 0 (x is not modified)
    """
    return np.maximum(x, 0)


def softmax(x):
    """Softmax along the last axis, numerically stable.

    Inputs:
    - x: logits of shape (K,) or (N, K)

    Returns:
    - probabilities of x's shape; each row (the last axis) is positive and sums to 1
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    exps = np.exp(x - x.max(axis=-1, keepdims=True))  # each row shifted: exp <= 1
    return exps / exps.sum(axis=-1, keepdims=True)


def compute_layer(X, W, b):
    """A fully connected layer's pre-activation.

    Inputs:
    - X: inputs of shape (N, D)
    - W: weights of shape (D, M), M the layer's width (H for layer 1, K for layer 2)
    - b: bias of shape (M,)

    Returns:
    - Z: array of shape (N, M), Z = X W + b
    """
    return X @ W + b
