# Bug in mlp_forward: applies the last hidden activation to the output layer too and returns it as the scores.
def mlp_forward(X, params, activations):
    A, caches = X, []
    L = len(activations) + 1
    for l in range(1, L + 1):
        Z, _ = affine_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append({"A_prev": A, "Z": Z})
        name = activations[min(l, L - 1) - 1]
        A, _ = relu_forward(Z) if name == "relu" else sigmoid_forward(Z)
    return A, caches
