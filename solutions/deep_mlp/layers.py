"""Layers as forward/backward pairs: each forward returns its output and a cache, and the
matching backward turns the upstream gradient and that cache into the gradients."""

import numpy as np


def affine_forward(X, W, b):
    """Affine layer: Z = X W + b.

    Inputs:
    - X: (N, D) inputs, one example per row
    - W: (D, H) weights
    - b: (H,) biases

    Returns:
    - Z: (N, H) pre-activations
    - cache: {"X": X, "W": W}, what affine_backward needs
    """
    Z = X @ W + b
    return Z, {"X": X, "W": W}


def affine_backward(dZ, cache):
    """Backward pass of the affine layer.

    Inputs:
    - dZ: (N, H) gradient of the loss with respect to the layer's output Z
    - cache: the dict affine_forward returned, {"X": (N, D), "W": (D, H)}

    Returns:
    - dX: (N, D), dW: (D, H), db: (H,), the gradients with respect to X, W and b
    """
    dX = dZ @ cache["W"].T
    dW = cache["X"].T @ dZ
    db = dZ.sum(axis=0)
    return dX, dW, db


def relu_forward(Z):
    """ReLU, entry by entry: A = max(Z, 0).

    Inputs:
    - Z: (N, H) pre-activations

    Returns:
    - A: (N, H) activations
    - cache: {"Z": Z}, the pre-activation
    """
    return np.maximum(Z, 0.0), {"Z": Z}


def relu_backward(dA, cache):
    """Backward pass of ReLU: the gradient passes where the pre-activation is positive.

    Inputs:
    - dA: (N, H) gradient of the loss with respect to the activations
    - cache: {"Z": (N, H)}, the dict relu_forward returned

    Returns:
    - dZ: (N, H) gradient with respect to the pre-activations
    """
    return dA * (cache["Z"] > 0)


def sigmoid_forward(Z):
    """Logistic sigmoid, entry by entry: A = 1 / (1 + exp(-Z)), without overflow.

    Inputs:
    - Z: (N, H) pre-activations, any size (e.g. +-1000)

    Returns:
    - A: (N, H) activations in [0, 1]
    - cache: {"Z": Z}, the pre-activation
    """
    E = np.exp(-np.abs(Z))  # never overflows
    A = np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))
    return A, {"Z": Z}


def sigmoid_backward(dA, cache):
    """Backward pass of the sigmoid: dZ = dA * s(Z) (1 - s(Z)), at the pre-activation Z.

    Inputs:
    - dA: (N, H) gradient of the loss with respect to the activations
    - cache: {"Z": (N, H)}, the dict sigmoid_forward returned

    Returns:
    - dZ: (N, H) gradient with respect to the pre-activations
    """
    S, _ = sigmoid_forward(cache["Z"])
    return dA * S * (1.0 - S)


def softmax_ce_loss(scores, Y):
    """Softmax then cross-entropy, averaged over the batch, and its gradient.

    Inputs:
    - scores: (N, K) the last layer's outputs (logits)
    - Y: (N, K) one-hot targets

    Returns:
    - loss: a float, -(1/N) sum_n log p[n, true class of n]
    - dscores: (N, K) gradient of the loss with respect to scores, (P - Y) / N
    """
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = scores.shape[0]
    loss = -float((Y * log_p).sum()) / N
    return loss, (np.exp(log_p) - Y) / N
