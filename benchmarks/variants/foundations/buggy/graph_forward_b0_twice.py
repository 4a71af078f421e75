# Bug in graph_forward: copy-paste slip, the second unit adds b0 instead of b1.
def graph_forward(x0, params):
    p0 = params["w0"] * x0
    s0 = p0 + params["b0"]
    x1 = max(s0, 0.0)
    p1 = params["w1"] * x1
    s1 = p1 + params["b0"]
    y = s1 + x0
    z = max(y, 0.0)
    return {"p0": float(p0), "s0": float(s0), "x1": float(x1), "p1": float(p1),
            "s1": float(s1), "y": float(y), "z": float(z)}
