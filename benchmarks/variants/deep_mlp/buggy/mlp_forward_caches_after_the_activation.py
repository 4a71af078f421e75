# Bug in mlp_forward: the cache is appended after A is updated, so "A_prev" holds the layer's own output.
def mlp_forward(X, params, activations):
    A, caches = X, []
    L = len(activations) + 1
    for l in range(1, L + 1):
        Z, _ = affine_forward(A, params[f"W{l}"], params[f"b{l}"])
        if l < L:
            A, _ = relu_forward(Z) if activations[l - 1] == "relu" else sigmoid_forward(Z)
        caches.append({"A_prev": A, "Z": Z})
    return Z, caches
