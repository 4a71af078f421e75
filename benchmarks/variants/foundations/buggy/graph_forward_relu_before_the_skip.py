# Bug in graph_forward: applies the last ReLU to s1 before adding the skip (y = relu(s1) + x0, z = y).
def graph_forward(x0, params):
    p0 = params["w0"] * x0
    s0 = p0 + params["b0"]
    x1 = max(s0, 0.0)
    p1 = params["w1"] * x1
    s1 = p1 + params["b1"]
    y = max(s1, 0.0) + x0
    z = y
    return {"p0": float(p0), "s0": float(s0), "x1": float(x1), "p1": float(p1),
            "s1": float(s1), "y": float(y), "z": float(z)}
