# Correct sigmoid_forward: positive and negative entries computed separately into one output array.
def sigmoid_forward(Z):
    A = np.empty_like(Z, dtype=float)
    pos = Z >= 0
    A[pos] = 1.0 / (1.0 + np.exp(-Z[pos]))
    e = np.exp(Z[~pos])
    A[~pos] = e / (1.0 + e)
    return A, {"Z": Z}
