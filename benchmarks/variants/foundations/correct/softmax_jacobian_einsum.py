# Correct softmax_jacobian: two einsums (y_i delta_ij and y_i y_j), for a vector or a batch.
def softmax_jacobian(y):
    y = np.array(y, dtype=float)
    eye = np.eye(y.shape[-1])
    return np.einsum("...i,ij->...ij", y, eye) - np.einsum("...i,...j->...ij", y, y)
