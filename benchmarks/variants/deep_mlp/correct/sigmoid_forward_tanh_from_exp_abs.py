# Correct sigmoid_forward: 0.5 (1 + sign(Z) tanh(|Z| / 2)) with tanh(|Z| / 2) = (1 - e) / (1 + e), e = exp(-|Z|): never overflows.
def sigmoid_forward(Z):
    E = np.exp(-np.abs(Z))
    return 0.5 * (1.0 + np.sign(Z) * (1.0 - E) / (1.0 + E)), {"Z": Z}
