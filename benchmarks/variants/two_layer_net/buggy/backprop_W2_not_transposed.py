# Bug in backprop: dH = dZ2 @ W2 without the transpose. [reaches callers: raises]
def backprop(X, target, params, cache):
    dZ2 = gradCE(target, cache["P"])
    dZ1 = dZ2 @ params["W2"] * (cache["Z1"] > 0)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": cache["H"].T @ dZ2,
            "b2": dZ2.sum(axis=0)}
