# Correct backprop: per-example outer products accumulated in a loop.
def backprop(X, target, params, cache):
    dZ2 = gradCE(target, cache["P"])
    grads = {key: np.zeros_like(value, dtype=float) for key, value in params.items()}
    for n in range(X.shape[0]):
        dz2 = dZ2[n]
        dz1 = (params["W2"] @ dz2) * (cache["Z1"][n] > 0)
        grads["W2"] += np.outer(cache["H"][n], dz2)
        grads["b2"] += dz2
        grads["W1"] += np.outer(X[n], dz1)
        grads["b1"] += dz1
    return grads
