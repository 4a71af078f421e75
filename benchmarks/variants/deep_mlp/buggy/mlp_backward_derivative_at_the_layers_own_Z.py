# Bug in mlp_backward: off-by-one cache index, the activation derivative taken at the current layer's Z (caches[l - 1]) instead of the layer below's. [reaches callers: raises]
def mlp_backward(dscores, caches, params, activations):
    grads, dZ = {}, dscores
    for l in range(len(caches), 0, -1):
        cache = caches[l - 1]
        dA, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(
            dZ, {"X": cache["A_prev"], "W": params[f"W{l}"]})
        if l > 1:
            below = {"Z": caches[l - 1]["Z"]}
            dZ = (relu_backward(dA, below) if activations[l - 2] == "relu"
                  else sigmoid_backward(dA, below))
    return grads
