"""Demo student: graph_backward forgets the skip connection's share of dz/dx0 (the "+ 1"):
x0 is followed through the first layer only. Loses the graph_backward tests."""


def graph_backward(x0, params, cache):
    dy = 1.0 if cache["y"] > 0 else 0.0
    ds0 = dy * params["w1"] * (1.0 if cache["s0"] > 0 else 0.0)
    return {"w0": ds0 * x0, "b0": ds0, "w1": dy * cache["x1"], "b1": dy,
            "x0": ds0 * params["w0"]}
