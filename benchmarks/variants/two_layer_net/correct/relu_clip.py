# Correct relu: np.clip with no upper bound.
def relu(x):
    return np.clip(x, 0, None)
