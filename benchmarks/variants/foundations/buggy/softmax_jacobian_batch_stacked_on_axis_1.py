# Bug in softmax_jacobian: stacks the per-row Jacobians on axis 1, giving (K, N, K) for a batch. [reaches callers: wrong shape]
def softmax_jacobian(y):
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        return np.diag(y) - np.outer(y, y)
    return np.stack([np.diag(row) - np.outer(row, row) for row in y], axis=1)
