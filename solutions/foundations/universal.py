"""What one hidden layer of step units can do: a box, then a staircase of boxes.

A network with one input, H hidden units and one output has the parameters
{"W1": (1, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}; its output at x is
sum_j W2[j, 0] * step(W1[0, j] * x + b1[j]) + b2[0], where step(t) = 1 if t >= 0 else 0.
"""

import numpy as np


def box_network(a, b, h):
    """Weights of a 2-unit step network whose output is h on [a, b) and 0 elsewhere.

    Inputs:
    - a, b: the box's edges, floats with a < b
    - h: the box's height (float, may be negative)

    Returns:
    - params: {"W1": (1, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}, float arrays
    """
    # unit 0 switches on at x = a, unit 1 at x = b; their difference is the box
    return {"W1": np.array([[1.0, 1.0]]), "b1": np.array([-a, -b], dtype=np.float64),
            "W2": np.array([[h], [-h]], dtype=np.float64), "b2": np.zeros(1)}


def staircase_network(B, heights):
    """A step network of 2n units approximating a function on [-B, B) by n boxes.

    The interval [-B, B) is cut into n equal pieces [x_i, x_{i+1}), x_i = -B + 2 B i / n;
    piece i gets a box of height heights[i] (usually the target function at the piece's
    midpoint). Outside [-B, B) the output is 0.

    Inputs:
    - B: half-width of the interval (float > 0)
    - heights: array of shape (n,), n >= 1

    Returns:
    - params: {"W1": (1, 2n), "b1": (2n,), "W2": (2n, 1), "b2": (1,)}; units 2i and
      2i + 1 make the box of piece i
    """
    heights = np.asarray(heights, dtype=np.float64)
    n = heights.shape[0]
    edges = np.linspace(-B, B, n + 1)
    b1 = np.empty(2 * n)
    b1[0::2], b1[1::2] = -edges[:-1], -edges[1:]   # switch on at x_i, then off at x_{i+1}
    W2 = np.empty(2 * n)
    W2[0::2], W2[1::2] = heights, -heights
    return {"W1": np.ones((1, 2 * n)), "b1": b1, "W2": W2[:, None], "b2": np.zeros(1)}
