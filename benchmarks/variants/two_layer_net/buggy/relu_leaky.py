# Bug in relu: a leaky ReLU (max(x, 0.01 x)) instead of max(x, 0).
def relu(x):
    return np.maximum(x, 0.01 * x)
