# Bug in backprop: dW1 computed from the hidden activations H instead of the input X. [reaches callers: wrong shape]
def backprop(X, target, params, cache):
    dZ2 = gradCE(target, cache["P"])
    dZ1 = dZ2 @ params["W2"].T * (cache["Z1"] > 0)
    return {"W1": cache["H"].T @ dZ1, "b1": dZ1.sum(axis=0), "W2": cache["H"].T @ dZ2,
            "b2": dZ2.sum(axis=0)}
