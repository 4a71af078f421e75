"""A linear model fitted with the L1 loss (mean absolute error) by subgradient descent."""

import numpy as np


def l1_loss(X, y, w):
    """Mean absolute error of the linear model X w: (1/N) sum_n |x_n . w - y_n|.

    Inputs:
    - X: inputs of shape (N, D), one example per row (a column of ones gives a bias)
    - y: targets of shape (N,)
    - w: weights of shape (D,)

    Returns:
    - the loss, a float
    """
    return float(np.mean(np.abs(X @ w - y)))


def l1_subgradient(X, y, w):
    """A subgradient of l1_loss at w: (1/N) X^T sign(X w - y), with sign(0) = 0.

    |r| has no derivative at r = 0; any slope in [-1, 1] is a subgradient there, and this
    function takes 0 (np.sign's choice): at a perfect fit it returns the zero vector.

    Inputs:
    - X: inputs of shape (N, D)
    - y: targets of shape (N,)
    - w: weights of shape (D,)

    Returns:
    - g: array of shape (D,)
    """
    return X.T @ np.sign(X @ w - y) / X.shape[0]


def fit_l1(X, y, lr=0.5, steps=2000):
    """Minimise l1_loss by subgradient descent with a step size that shrinks as 1/sqrt(t).

    Start from w_0 = 0 (shape (D,)); for t = 0, 1, ..., steps - 1:
    w_{t+1} = w_t - lr / sqrt(t + 1) * l1_subgradient(X, y, w_t).
    A subgradient step does not always lower the loss, so return the best iterate seen.

    Inputs:
    - X: inputs of shape (N, D)
    - y: targets of shape (N,)
    - lr: the first step size (float > 0)
    - steps: number of steps (int >= 0)

    Returns:
    - w: the iterate w_0, ..., w_steps with the smallest loss (the first one on ties),
      shape (D,)
    - history: array of shape (steps + 1,), history[t] = l1_loss(X, y, w_t)
    """
    w = np.zeros(X.shape[1])
    history = [l1_loss(X, y, w)]
    best, best_loss = w, history[0]
    for t in range(steps):
        w = w - lr / np.sqrt(t + 1) * l1_subgradient(X, y, w)
        history.append(l1_loss(X, y, w))
        if history[-1] < best_loss:
            best, best_loss = w, history[-1]
    return best, np.array(history)
