# Bug in affine_forward: the bias added as a column b[:, None], broadcasting down the examples. [reaches callers: raises]
def affine_forward(X, W, b):
    Z = X @ W + b[:, None]
    return Z, {"X": X, "W": W}
