"""The two-layer network D -> H -> K: forward pass and backpropagation."""

import numpy as np

from solutions.two_layer_net.layers import compute_layer, relu, softmax
from solutions.two_layer_net.loss import gradCE


def forward(X, params):
    """Forward pass of the network, keeping what backprop needs.

    Inputs:
    - X: inputs of shape (N, D)
    - params: {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}

    Returns:
    - cache: {"Z1": (N, H) hidden pre-activations, "H": (N, H) relu(Z1),
              "Z2": (N, K) logits, "P": (N, K) softmax(Z2)}
    """
    Z1 = compute_layer(X, params["W1"], params["b1"])
    H = relu(Z1)
    Z2 = compute_layer(H, params["W2"], params["b2"])
    return {"Z1": Z1, "H": H, "Z2": Z2, "P": softmax(Z2)}


def backprop(X, target, params, cache):
    """Gradients of averageCE(target, forward(X, params)["P"]) for every parameter.

    Inputs:
    - X: inputs of shape (N, D)
    - target: one-hot targets of shape (N, K)
    - params: {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
    - cache: the dict forward(X, params) returned

    Returns:
    - grads: {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
    """
    dZ2 = gradCE(target, cache["P"])
    dH = dZ2 @ params["W2"].T
    dZ1 = dH * (cache["Z1"] > 0)
    return {
        "W1": X.T @ dZ1,
        "b1": np.sum(dZ1, axis=0),
        "W2": cache["H"].T @ dZ2,
        "b2": np.sum(dZ2, axis=0),
    }
