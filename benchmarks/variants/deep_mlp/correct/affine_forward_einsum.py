# Correct affine_forward: einsum, then the bias.
def affine_forward(X, W, b):
    return np.einsum("nd,dh->nh", X, W) + b, {"X": X, "W": W}
