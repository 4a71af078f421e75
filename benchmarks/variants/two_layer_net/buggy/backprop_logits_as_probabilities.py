# Bug in backprop: passes the logits Z2 to gradCE instead of the probabilities P.
def backprop(X, target, params, cache):
    dZ2 = gradCE(target, cache["Z2"])
    dZ1 = dZ2 @ params["W2"].T * (cache["Z1"] > 0)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": cache["H"].T @ dZ2,
            "b2": dZ2.sum(axis=0)}
