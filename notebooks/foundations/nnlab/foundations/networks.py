"""Evaluate a network with one input, one hidden layer of step units and one output.

Parameters follow the course's convention with D = 1 input and K = 1 output:
params = {"W1": (1, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}. The output at x is
sum_j W2[j, 0] * step(W1[0, j] * x + b1[j]) + b2[0], where step(t) = 1 if t >= 0 else 0.
"""

import numpy as np

SHAPES = "W1 (1, H), b1 (H,), W2 (H, 1), b2 (1,)"


def step(t):
    """The unit step, elementwise: 1.0 where t >= 0, else 0.0 (same shape as t)."""
    return (np.asarray(t) >= 0).astype(np.float64)


def sigmoid(t):
    """The logistic function 1 / (1 + exp(-t)), elementwise, without overflow warnings."""
    t = np.asarray(t, dtype=np.float64)
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def one_hidden_layer(x, params, steepness=None):
    """Output of the one-hidden-layer network at the points x.

    Inputs:
    - x: points of shape (M,)
    - params: {"W1": (1, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}
    - steepness: None for step units; a float s > 0 for sigmoid units sigmoid(s * t),
      which approach the step as s grows

    Returns:
    - array of shape (M,)

    Raises ValueError, naming the array, when params does not have these shapes.
    """
    W1, b1, W2, b2 = check_shapes(params)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    t = x[:, None] * W1[0] + b1                     # (M, H) pre-activations
    hidden = step(t) if steepness is None else sigmoid(steepness * t)
    return hidden @ W2[:, 0] + b2[0]


def check_shapes(params):
    """The four arrays of params as float64, after checking their shapes fit together.

    Inputs:
    - params: {"W1": (1, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}

    Returns:
    - (W1, b1, W2, b2) as float64 arrays; raises ValueError saying what is wrong
    """
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict with {SHAPES}, got {type(params).__name__}")
    arrays = []
    for key in ("W1", "b1", "W2", "b2"):
        if key not in params:
            raise ValueError(f"params lacks the key {key!r} (it needs {SHAPES})")
        array = np.asarray(params[key])
        if array.dtype.kind not in "fiu":
            raise ValueError(f"params[{key!r}] must hold numbers, got dtype {array.dtype}")
        arrays.append(array.astype(np.float64))
    W1, b1, W2, b2 = arrays
    H = W1.shape[-1] if W1.ndim else -1
    expected = {"W1": (1, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}
    for key, array in zip(expected, arrays):
        if array.shape != expected[key]:
            raise ValueError(f"params[{key!r}] has shape {array.shape}, expected "
                             f"{expected[key]} ({SHAPES}, here H = {H})")
    return W1, b1, W2, b2
