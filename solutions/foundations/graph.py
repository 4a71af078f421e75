"""A scalar computation graph with a skip connection: forward values and the chain rule.

The graph is z = relu(w1 * relu(w0 * x0 + b0) + b1 + x0): two ReLU units in a row, and the
input x0 added again just before the last ReLU (a skip, or residual, connection).
"""


def graph_forward(x0, params):
    """Forward pass of z = relu(w1 * relu(w0 * x0 + b0) + b1 + x0), keeping every value.

    Inputs:
    - x0: the input, a float
    - params: {"w0": float, "b0": float, "w1": float, "b1": float}

    Returns:
    - cache: a dict of floats with exactly these keys, in the order they are computed:
      "p0" = w0 * x0, "s0" = p0 + b0, "x1" = relu(s0), "p1" = w1 * x1,
      "s1" = p1 + b1, "y" = s1 + x0 (the skip connection), "z" = relu(y)
    """
    p0 = params["w0"] * x0
    s0 = p0 + params["b0"]
    x1 = max(s0, 0.0)
    p1 = params["w1"] * x1
    s1 = p1 + params["b1"]
    y = s1 + x0
    z = max(y, 0.0)
    return {"p0": float(p0), "s0": float(s0), "x1": float(x1), "p1": float(p1),
            "s1": float(s1), "y": float(y), "z": float(z)}


def graph_backward(x0, params, cache):
    """Derivatives of z with respect to every parameter and to the input, by the chain rule.

    A ReLU passes the derivative through where its input is positive and blocks it
    (derivative 0) where its input is zero or negative.

    Inputs:
    - x0: the input, a float
    - params: {"w0": float, "b0": float, "w1": float, "b1": float}
    - cache: the dict graph_forward(x0, params) returned

    Returns:
    - grads: {"w0": dz/dw0, "b0": dz/db0, "w1": dz/dw1, "b1": dz/db1, "x0": dz/dx0},
      every value a float
    """
    dy = 1.0 if cache["y"] > 0 else 0.0     # through the last ReLU
    ds1 = dy                                 # y = s1 + x0
    dx1 = ds1 * params["w1"]                 # s1 = w1 * x1 + b1
    ds0 = dx1 if cache["s0"] > 0 else 0.0    # through the first ReLU
    return {
        "w0": float(ds0 * x0),
        "b0": float(ds0),
        "w1": float(ds1 * cache["x1"]),
        "b1": float(ds1),
        # x0 reaches z twice: through the first layer and through the skip connection
        "x0": float(ds0 * params["w0"] + dy),
    }
