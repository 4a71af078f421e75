"""Helpers the tests and checks share: a small random network, the scores of a network
computed from the formulas the notebook states, and its gradients by finite differences.

``assert_mlp_gradients`` compares mlp_backward's gradients with centred finite differences
of sum(G * scores(params)), G a fixed array standing for dL/dscores: the chain rule applied
to G, whatever G is. No solution code beyond the notebook's formulas.
"""

import numpy as np

from nnlab.testing import assert_close, assert_gradient, assert_public, numerical_gradient


def _sigmoid(Z):
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


def layer_values(X, params, activations):
    """[(A_prev, Z)] of every layer, layer 1 first, for a network with these activations."""
    out, A = [], X
    for index in range(len(activations) + 1):
        Z = A @ params[f"W{index + 1}"] + params[f"b{index + 1}"]
        out.append((A, Z))
        if index < len(activations):
            A = np.maximum(Z, 0.0) if activations[index] == "relu" else _sigmoid(Z)
    return out


def small_network(rng, sizes, N=4, activations=None):
    """(X (N, sizes[0]), params) for a test: weights of scale 1/sqrt(n_in), and each bias
    set between the two middle values of its unit's A_prev W over the batch, so that every unit is
    positive for some examples and negative for others (ReLUs neither all dead nor all
    active). ``activations`` (default: all "relu") is what the layers below feed on."""
    activations = ["relu"] * (len(sizes) - 2) if activations is None else list(activations)
    X = rng.normal(size=(N, sizes[0]))
    params, A = {}, X
    for l in range(1, len(sizes)):
        W = rng.normal(size=(sizes[l - 1], sizes[l])) / np.sqrt(sizes[l - 1])
        middle = np.sort(A @ W, axis=0)[(N - 1) // 2:(N - 1) // 2 + 2]
        params[f"W{l}"], params[f"b{l}"] = W, -middle.mean(axis=0)
        if l < len(sizes) - 1:
            Z = A @ W + params[f"b{l}"]
            A = np.maximum(Z, 0.0) if activations[l - 1] == "relu" else _sigmoid(Z)
    return X, params


def caches_of(X, params, activations):
    """The caches mlp_forward should return: [{"A_prev": ..., "Z": ...}, ...]."""
    return [{"A_prev": A, "Z": Z} for A, Z in layer_values(X, params, activations)]


def numerical_mlp_gradients(X, params, activations, G):
    """{key: d sum(G * scores) / d params[key]} by centred finite differences."""
    grads = {}
    for key in params:
        def total(value, key=key):
            scores = layer_values(X, dict(params, **{key: value}), activations)[-1][1]
            return float((G * scores).sum())
        grads[key] = numerical_gradient(total, np.array(params[key], dtype=float))
    return grads


def assert_mlp_gradients(grads, X, params, activations, G, hide_values=False):
    """Assert mlp_backward's grads (a dict with params' keys) match finite differences."""
    assert_public(isinstance(grads, dict),
                  f"mlp_backward should return a dict, got {type(grads).__name__}")
    missing = [key for key in params if key not in grads]
    assert_public(not missing, f"the grads returned by mlp_backward lack the keys {missing}")
    numeric = numerical_mlp_gradients(X, params, activations, G)
    for key in params:
        assert_gradient(grads[key], numeric[key], f'grads["{key}"]', hide_values=hide_values)


def param_shapes(sizes):
    """{"W1": (sizes[0], sizes[1]), "b1": (sizes[1],), ...}: the shapes of a network's params."""
    shapes = {}
    for l in range(1, len(sizes)):
        shapes[f"W{l}"], shapes[f"b{l}"] = (sizes[l - 1], sizes[l]), (sizes[l],)
    return shapes


def mean_cross_entropy(scores, Y):
    """The notebook's loss, -(1/N) sum_n log softmax(scores)[n, true class], for the tests."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -float((Y * log_p).sum()) / len(scores)


def assert_mlp_forward(value, X, params, activations, hide_values=False):
    """Assert mlp_forward's (scores, caches) for X and params: every layer's cache
    {"A_prev", "Z"} (the pre-activation) and the scores."""
    assert_public(isinstance(value, (tuple, list)) and len(value) == 2,
                  "mlp_forward should return the pair (scores, caches)")
    scores, caches = value
    expected = caches_of(X, params, activations)
    assert_public(isinstance(caches, (tuple, list)) and len(caches) == len(expected),
                  f"caches should be a list of {len(expected)} dicts, one per layer")
    for l, (cache, right) in enumerate(zip(caches, expected), start=1):
        assert_public(isinstance(cache, dict) and "A_prev" in cache and "Z" in cache,
                      f"layer {l}'s cache should be a dict with the keys 'A_prev' and 'Z'")
        assert_close(cache["A_prev"], right["A_prev"], f'caches[{l - 1}]["A_prev"]',
                     hide_values=hide_values)
        assert_close(cache["Z"], right["Z"], f'caches[{l - 1}]["Z"] (the pre-activation)',
                     hide_values=hide_values)
    assert_close(scores, expected[-1]["Z"], "scores", hide_values=hide_values)
