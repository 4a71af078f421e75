# Correct mlp_forward: the layers inline (no layer functions called), a stable sigmoid by tanh.
def mlp_forward(X, params, activations):
    L = len(activations) + 1
    A, caches = X, []
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"] + params[f"b{l}"]
        caches.append({"A_prev": A, "Z": Z})
        if l == L:
            return Z, caches
        A = np.maximum(Z, 0.0) if activations[l - 1] == "relu" else 0.5 + 0.5 * np.tanh(0.5 * Z)
