# Bug in mlp_backward: the activation derivative taken at the layer's activation A_prev instead of its pre-activation Z (harmless for ReLU, wrong for sigmoid).
def mlp_backward(dscores, caches, params, activations):
    grads, dZ = {}, dscores
    for l in range(len(caches), 0, -1):
        cache = caches[l - 1]
        dA, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(
            dZ, {"X": cache["A_prev"], "W": params[f"W{l}"]})
        if l > 1:
            below = {"Z": cache["A_prev"]}
            dZ = (relu_backward(dA, below) if activations[l - 2] == "relu"
                  else sigmoid_backward(dA, below))
    return grads
