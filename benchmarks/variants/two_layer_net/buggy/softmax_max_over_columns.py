# Bug in softmax: subtracts each column's max (axis=0) instead of each row's, which changes every row's probabilities.
def softmax(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
