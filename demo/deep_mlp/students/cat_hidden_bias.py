"""Demo student: mlp_backward computes the bias gradient of the last layer only; the
hidden layers' db stay zero. Loses the mlp_backward tests."""


def mlp_backward(dscores, caches, params, activations):
    backwards = {"relu": relu_backward, "sigmoid": sigmoid_backward}
    grads, dZ, L = {}, dscores, len(caches)
    for l in range(L, 0, -1):
        dA, dW, db = affine_backward(dZ, {"X": caches[l - 1]["A_prev"],
                                          "W": params[f"W{l}"]})
        grads[f"W{l}"] = dW
        grads[f"b{l}"] = db if l == L else np.zeros_like(params[f"b{l}"])
        if l > 1:
            dZ = backwards[activations[l - 2]](dA, {"Z": caches[l - 2]["Z"]})
    return grads
