# Correct relu_forward: np.clip with no upper bound.
def relu_forward(Z):
    return np.clip(Z, 0.0, None), {"Z": Z}
