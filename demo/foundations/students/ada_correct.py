"""Demo student: correct, written differently from the reference (named local derivatives,
(n_in + 1) * n_out, counting window positions, a loop over the batch, einsum, an in-place
descent, units scaled by 2, a loop over the pieces). Must get full autograded marks."""

import numpy as np


def graph_forward(x0, params):
    w0, b0, w1, b1 = (params[key] for key in ("w0", "b0", "w1", "b1"))
    cache = {"p0": w0 * x0}
    cache["s0"] = cache["p0"] + b0
    cache["x1"] = cache["s0"] if cache["s0"] > 0 else 0.0
    cache["p1"] = w1 * cache["x1"]
    cache["s1"] = cache["p1"] + b1
    cache["y"] = cache["s1"] + x0
    cache["z"] = cache["y"] if cache["y"] > 0 else 0.0
    return cache


def graph_backward(x0, params, cache):
    gate_out = 1.0 if cache["y"] > 0 else 0.0        # d relu(y) / dy
    gate_hidden = 1.0 if cache["s0"] > 0 else 0.0    # d relu(s0) / ds0
    through_first = gate_out * params["w1"] * gate_hidden
    return {"w1": gate_out * cache["x1"], "b1": gate_out,
            "w0": through_first * x0, "b0": through_first,
            "x0": through_first * params["w0"] + gate_out}


def count_parameters(layer_sizes):
    sizes = np.array(layer_sizes, dtype=np.int64)
    return int(np.sum((sizes[:-1] + 1) * sizes[1:]))


def conv_output_size(n, kernel, stride=1, padding=0):
    positions, start = 0, 0
    while start + kernel <= n + 2 * padding:   # the window still fits
        positions += 1
        start += stride
    return positions


def softmax_jacobian(y):
    y = np.asarray(y, dtype=float)
    if y.ndim == 2:
        return np.stack([softmax_jacobian(row) for row in y])
    return np.diag(y) - np.outer(y, y)


def l1_loss(X, y, w):
    total = 0.0
    for x_n, y_n in zip(X, y):
        total += abs(float(x_n @ w) - y_n)
    return total / len(y)


def l1_subgradient(X, y, w):
    r = X @ w - y
    signs = (r > 0).astype(float) - (r < 0).astype(float)
    return np.einsum("nd,n->d", X, signs) / len(y)


def fit_l1(X, y, lr=0.5, steps=2000):
    w = np.zeros(X.shape[1])
    history = np.empty(steps + 1)
    history[0] = l1_loss(X, y, w)
    best_w, best_t = w.copy(), 0
    for t in range(1, steps + 1):
        w -= lr / np.sqrt(t) * l1_subgradient(X, y, w)
        history[t] = l1_loss(X, y, w)
        if history[t] < history[best_t]:
            best_w, best_t = w.copy(), t
    return best_w, history


def box_network(a, b, h):
    return {"W1": np.array([[2.0, 2.0]]), "b1": np.array([-2.0 * a, -2.0 * b]),
            "W2": np.array([[1.0], [-1.0]]) * h, "b2": np.array([0.0])}


def staircase_network(B, heights):
    width = 2.0 * B / len(heights)
    W1, b1, W2 = [], [], []
    for i, height in enumerate(heights):
        left, right = -B + i * width, -B + (i + 1) * width
        W1 += [1.0, 1.0]
        b1 += [-left, -right]
        W2 += [height, -height]
    return {"W1": np.array([W1]), "b1": np.array(b1), "W2": np.array(W2).reshape(-1, 1),
            "b2": np.zeros(1)}
