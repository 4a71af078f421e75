# Bug in graph_forward: the second unit multiplies the pre-activation s0 instead of x1 = relu(s0).
def graph_forward(x0, params):
    p0 = params["w0"] * x0
    s0 = p0 + params["b0"]
    x1 = max(s0, 0.0)
    p1 = params["w1"] * s0
    s1 = p1 + params["b1"]
    y = s1 + x0
    z = max(y, 0.0)
    return {"p0": float(p0), "s0": float(s0), "x1": float(x1), "p1": float(p1),
            "s1": float(s1), "y": float(y), "z": float(z)}
