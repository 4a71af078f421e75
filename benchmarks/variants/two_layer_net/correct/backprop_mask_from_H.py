# Correct backprop: the ReLU mask read from H > 0 (the same units as Z1 > 0), einsum for the weights.
def backprop(X, target, params, cache):
    dZ2 = gradCE(target, cache["P"])
    dZ1 = (dZ2 @ params["W2"].T) * (cache["H"] > 0)
    return {"W1": np.einsum("nd,nh->dh", X, dZ1), "b1": dZ1.sum(axis=0),
            "W2": np.einsum("nh,nk->hk", cache["H"], dZ2), "b2": dZ2.sum(axis=0)}
