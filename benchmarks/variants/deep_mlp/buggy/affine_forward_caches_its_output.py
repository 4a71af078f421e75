# Bug in affine_forward: caches the output Z under "X" instead of the layer's input.
def affine_forward(X, W, b):
    Z = X @ W + b
    return Z, {"X": Z, "W": W}
