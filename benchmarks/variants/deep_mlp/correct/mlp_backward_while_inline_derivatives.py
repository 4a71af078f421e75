# Correct mlp_backward: a while loop from the top layer down, the activation derivatives inline.
def mlp_backward(dscores, caches, params, activations):
    grads = {}
    l, dZ = len(caches), dscores
    while l >= 1:
        A_prev = caches[l - 1]["A_prev"]
        grads[f"W{l}"] = A_prev.T @ dZ
        grads[f"b{l}"] = dZ.sum(axis=0)
        if l > 1:
            dA = dZ @ params[f"W{l}"].T
            Z = caches[l - 2]["Z"]
            if activations[l - 2] == "relu":
                dZ = dA * (Z > 0)
            else:
                S = 0.5 + 0.5 * np.tanh(0.5 * Z)
                dZ = dA * S * (1.0 - S)
        l -= 1
    return grads
