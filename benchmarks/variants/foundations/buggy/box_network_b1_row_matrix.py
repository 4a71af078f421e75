# Bug in box_network: b1 built as a (1, 2) matrix instead of a (2,) vector. [reaches callers: wrong shape]
def box_network(a, b, h):
    return {"W1": np.array([[1.0, 1.0]]), "b1": np.array([[-a, -b]], dtype=float),
            "W2": np.array([[h], [-h]], dtype=float), "b2": np.zeros(1)}
