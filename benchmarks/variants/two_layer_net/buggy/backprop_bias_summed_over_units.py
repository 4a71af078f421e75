# Bug in backprop: biases summed over axis=1 (the units) instead of axis=0 (the examples). [reaches callers: wrong shape]
def backprop(X, target, params, cache):
    dZ2 = gradCE(target, cache["P"])
    dZ1 = dZ2 @ params["W2"].T * (cache["Z1"] > 0)
    return {"W1": X.T @ dZ1, "b1": np.sum(dZ1, axis=1), "W2": cache["H"].T @ dZ2,
            "b2": np.sum(dZ2, axis=1)}
