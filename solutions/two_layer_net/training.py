"""Mini-batch SGD with classical momentum, and the training loop."""

import numpy as np
from tqdm.auto import tqdm

from nnlab.utils import accuracy, init_params
from solutions.two_layer_net.loss import averageCE
from solutions.two_layer_net.network import backprop, forward


def sgd_momentum_step(params, grads, velocity, lr, momentum):
    """One step of SGD with classical momentum: v <- momentum v - lr g; theta <- theta + v.

    Inputs:
    - params, grads, velocity: dicts with the same keys and array shapes
    - lr: learning rate (float)
    - momentum: momentum coefficient in [0, 1)

    Returns:
    - (new_params, new_velocity): dicts with the same keys and shapes
    """
    new_velocity = {name: momentum * velocity[name] - lr * grads[name] for name in params}
    new_params = {name: params[name] + new_velocity[name] for name in params}
    return new_params, new_velocity


def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64,
          lr=0.05, momentum=0.9, seed=0, progress=False):
    """Train the network with mini-batch SGD and momentum.

    Each epoch shuffles the training set (without replacement) and visits it in
    mini-batches; after each epoch the loss and accuracy on both sets are recorded.

    Inputs:
    - X_train: (N, D), Y_train: (N, K) one-hot; X_test: (M, D), Y_test: (M, K)
    - hidden: H, the number of hidden units
    - epochs, batch_size, lr, momentum: optimisation settings
    - seed: int or numpy.random.Generator for initialisation and shuffling
    - progress: show a progress bar over the epochs (tqdm)

    Returns:
    - params: the trained {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
    - history: {"train_loss", "train_acc", "test_loss", "test_acc"}, one float per epoch
    """
    rng = np.random.default_rng(seed)
    # Compute in the data's precision: float32 data trains in float32 (less memory traffic,
    # faster), float64 data in float64. astype makes new arrays: the data is not modified.
    dtype = np.result_type(X_train.dtype, np.float32)
    params = init_params(X_train.shape[1], hidden, Y_train.shape[1], rng)
    params = {name: value.astype(dtype) for name, value in params.items()}
    Y_train = Y_train.astype(dtype, copy=False)
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    for _ in tqdm(range(epochs), desc="training", unit="epoch", disable=not progress):
        order = rng.permutation(X_train.shape[0])
        for start in range(0, order.size, batch_size):
            batch = order[start:start + batch_size]
            X_batch, Y_batch = X_train[batch], Y_train[batch]
            cache = forward(X_batch, params)
            grads = backprop(X_batch, Y_batch, params, cache)
            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)
        for split, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
            P = forward(X, params)["P"]
            history[f"{split}_loss"].append(averageCE(Y, P))
            history[f"{split}_acc"].append(accuracy(Y, P))
    return params, history
