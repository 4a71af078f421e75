# Correct graph_forward: np.maximum for the ReLUs, the cache built as a list of (key, value) pairs.
def graph_forward(x0, params):
    values = []
    p0 = params["w0"] * x0
    values.append(("p0", p0))
    s0 = p0 + params["b0"]
    values.append(("s0", s0))
    x1 = np.maximum(s0, 0.0)
    values.append(("x1", x1))
    p1 = params["w1"] * x1
    values.append(("p1", p1))
    s1 = p1 + params["b1"]
    values.append(("s1", s1))
    y = s1 + x0
    values.append(("y", y))
    values.append(("z", np.maximum(y, 0.0)))
    return {key: float(value) for key, value in values}
