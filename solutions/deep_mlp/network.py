"""An L-layer perceptron from a list of sizes: initialisation, forward and backward through
every layer. Layer l (1..L) maps sizes[l-1] units to sizes[l]; hidden layers apply an
activation, the last layer gives the scores (softmax_ce_loss does the rest)."""

import numpy as np

from solutions.deep_mlp.layers import (affine_backward, affine_forward, relu_backward,
                                       relu_forward, sigmoid_backward, sigmoid_forward)


def init_mlp(sizes, scheme="he", seed=0):
    """Initial parameters: weights drawn from a normal of mean 0, biases 0.

    Weight variance per scheme, for a layer from n_in to n_out units:
    "seed": 1 / max(n_in, n_out); "he": 2 / n_in; "xavier": 2 / (n_in + n_out).

    Inputs:
    - sizes: layer sizes, input first, e.g. [784, 32, 32, 10]
    - scheme: "seed", "he" or "xavier"
    - seed: int for np.random.default_rng; the layers are drawn in order W1, W2, ...

    Returns:
    - params: {"W1": (sizes[0], sizes[1]), "b1": (sizes[1],), ..., "WL", "bL"}
    """
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        variance = {"seed": 1.0 / max(n_in, n_out), "he": 2.0 / n_in,
                    "xavier": 2.0 / (n_in + n_out)}[scheme]
        params[f"W{l}"] = rng.normal(0.0, np.sqrt(variance), size=(n_in, n_out))
        params[f"b{l}"] = np.zeros(n_out)
    return params


def mlp_forward(X, params, activations):
    """Forward pass through all L layers.

    Inputs:
    - X: (N, D) inputs
    - params: {"W1", "b1", ..., "WL", "bL"} as init_mlp makes them
    - activations: L - 1 names, "relu" or "sigmoid", one per hidden layer

    Returns:
    - scores: (N, K) the last layer's pre-activations
    - caches: a list of L dicts, layer 1 first: {"A_prev": the layer's input,
      "Z": its pre-activation}
    """
    A, caches = X, []
    L = len(activations) + 1
    for l in range(1, L + 1):
        Z, _ = affine_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append({"A_prev": A, "Z": Z})
        if l < L:
            A, _ = relu_forward(Z) if activations[l - 1] == "relu" else sigmoid_forward(Z)
    return Z, caches


def mlp_backward(dscores, caches, params, activations):
    """Backward pass through all L layers, last layer first.

    Inputs:
    - dscores: (N, K) gradient of the loss with respect to the scores
    - caches: the list mlp_forward returned
    - params: {"W1", "b1", ..., "WL", "bL"}
    - activations: L - 1 names, "relu" or "sigmoid"

    Returns:
    - grads: {"W1", "b1", ..., "WL", "bL"}, each of its parameter's shape
    """
    grads, dZ = {}, dscores
    for l in range(len(caches), 0, -1):
        cache = caches[l - 1]
        dA, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(
            dZ, {"X": cache["A_prev"], "W": params[f"W{l}"]})
        if l > 1:
            below = {"Z": caches[l - 2]["Z"]}
            dZ = (relu_backward(dA, below) if activations[l - 2] == "relu"
                  else sigmoid_backward(dA, below))
    return grads
