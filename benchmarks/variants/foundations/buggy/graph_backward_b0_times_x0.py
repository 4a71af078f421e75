# Bug in graph_backward: dz/db0 multiplied by the input x0, as if b0 were a weight.
def graph_backward(x0, params, cache):
    dy = 1.0 if cache["y"] > 0 else 0.0
    ds1 = dy
    dx1 = ds1 * params["w1"]
    ds0 = dx1 if cache["s0"] > 0 else 0.0
    return {"w0": float(ds0 * x0), "b0": float(ds0 * x0), "w1": float(ds1 * cache["x1"]),
            "b1": float(ds1), "x0": float(ds0 * params["w0"] + dy)}
