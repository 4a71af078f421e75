# Correct softmax_jacobian: J = y_i (delta_ij - y_j) written as one broadcast product.
def softmax_jacobian(y):
    y = np.asarray(y, dtype=np.float64)
    return y[..., :, None] * (np.eye(y.shape[-1]) - y[..., None, :])
