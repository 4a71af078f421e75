# Bug in graph_backward: dz/dw0 uses the unit's output x1 instead of its input x0.
def graph_backward(x0, params, cache):
    dy = 1.0 if cache["y"] > 0 else 0.0
    ds1 = dy
    dx1 = ds1 * params["w1"]
    ds0 = dx1 if cache["s0"] > 0 else 0.0
    return {"w0": float(ds0 * cache["x1"]), "b0": float(ds0), "w1": float(ds1 * cache["x1"]),
            "b1": float(ds1), "x0": float(ds0 * params["w0"] + dy)}
