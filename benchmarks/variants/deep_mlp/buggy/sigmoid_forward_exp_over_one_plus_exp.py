# Bug in sigmoid_forward: exp(Z) / (1 + exp(Z)) gives inf / inf = nan for large positive Z.
def sigmoid_forward(Z):
    E = np.exp(Z)
    return E / (1.0 + E), {"Z": Z}
