# Correct graph_backward: a local helper for the ReLU gate, gradients accumulated into dx0 term by term.
def graph_backward(x0, params, cache):
    def gate(t):
        return 1.0 if t > 0 else 0.0

    dz_dy = gate(cache["y"])
    dz_ds0 = dz_dy * params["w1"] * gate(cache["s0"])
    dx0 = 0.0
    dx0 += dz_dy                      # the skip connection
    dx0 += dz_ds0 * params["w0"]      # through the first unit
    return {"w0": dz_ds0 * x0, "b0": dz_ds0, "w1": dz_dy * cache["x1"], "b1": dz_dy,
            "x0": dx0}
