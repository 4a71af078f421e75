# Bug in sigmoid_forward: the stable form with its two branches swapped, which computes sigmoid(-Z).
def sigmoid_forward(Z):
    E = np.exp(-np.abs(Z))
    A = np.where(Z >= 0, E / (1.0 + E), 1.0 / (1.0 + E))
    return A, {"Z": Z}
