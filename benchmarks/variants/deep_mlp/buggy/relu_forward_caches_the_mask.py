# Bug in relu_forward: caches the boolean mask Z > 0 under "Z" instead of the pre-activation Z.
def relu_forward(Z):
    return np.maximum(Z, 0.0), {"Z": Z > 0}
