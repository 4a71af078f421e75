# Correct softmax: shifted copy, then exp and division in place on that copy.
def softmax(x):
    z = np.array(x, dtype=np.float64)
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z
