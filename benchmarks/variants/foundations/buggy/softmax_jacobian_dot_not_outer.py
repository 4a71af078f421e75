# Bug in softmax_jacobian: y_i y_j written with np.dot (a scalar, sum of y_k^2) instead of the outer product.
def softmax_jacobian(y):
    y = np.asarray(y, dtype=float)
    if y.ndim == 2:
        return np.stack([np.diag(row) - np.dot(row, row) for row in y])
    return np.diag(y) - np.dot(y, y)
