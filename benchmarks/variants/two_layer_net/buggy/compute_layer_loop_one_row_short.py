# Bug in compute_layer: off-by-one row loop range(N - 1) into np.zeros, the last example's row stays 0.
def compute_layer(X, W, b):
    Z = np.zeros((X.shape[0], W.shape[1]))
    for n in range(X.shape[0] - 1):
        Z[n] = X[n] @ W + b
    return Z
