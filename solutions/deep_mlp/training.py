"""Training an L-layer perceptron with mini-batch SGD and momentum (batch_size=1 and
momentum=0 is the one-sample-at-a-time SGD of the seed's network)."""

import numpy as np

from solutions.deep_mlp.layers import softmax_ce_loss
from solutions.deep_mlp.network import init_mlp, mlp_backward, mlp_forward


def train_mlp(X_train, Y_train, X_test, Y_test, sizes, activations, scheme="he", epochs=3,
              batch_size=64, lr=0.05, momentum=0.9, seed=0):
    """Train with mini-batch SGD and classical momentum; record one entry per epoch.

    Each epoch shuffles the training set (rng = np.random.default_rng(seed), which also
    draws the initial weights via init_mlp) and visits it in mini-batches; every step is
    v <- momentum v - lr g, theta <- theta + v.

    Inputs:
    - X_train: (N, D), Y_train: (N, K) one-hot; X_test: (M, D), Y_test: (M, K)
    - sizes, activations, scheme: the network, as init_mlp and mlp_forward take them
    - epochs, batch_size, lr, momentum: optimisation settings
    - seed: int

    Returns:
    - params: the trained parameters
    - history: {"train_loss", "train_acc", "test_loss", "test_acc": lists of one float
      per epoch; "grad_norms": one list per epoch of L floats, the mean Frobenius norm
      of each layer's weight gradient over that epoch's steps}
    """
    rng = np.random.default_rng(seed)
    params = init_mlp(sizes, scheme, seed)
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [],
               "grad_norms": []}
    L, N = len(sizes) - 1, X_train.shape[0]
    for _ in range(epochs):
        order = rng.permutation(N)
        norms, steps = np.zeros(L), 0
        for start in range(0, N, batch_size):
            batch = order[start:start + batch_size]
            scores, caches = mlp_forward(X_train[batch], params, activations)
            _, dscores = softmax_ce_loss(scores, Y_train[batch])
            grads = mlp_backward(dscores, caches, params, activations)
            for name in params:
                velocity[name] = momentum * velocity[name] - lr * grads[name]
                params[name] = params[name] + velocity[name]
            norms += [np.linalg.norm(grads[f"W{l}"]) for l in range(1, L + 1)]
            steps += 1
        history["grad_norms"].append([float(v) for v in norms / steps])
        for split, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
            scores, _ = mlp_forward(X, params, activations)
            loss, _ = softmax_ce_loss(scores, Y)
            history[f"{split}_loss"].append(float(loss))
            history[f"{split}_acc"].append(float((scores.argmax(1) == Y.argmax(1)).mean()))
    return params, history
