# Bug in box_network: puts h in the first layer (W1 = [h, h], b1 = [-h a, -h b]) and +1/-1 out: the box has height 1 (and is flipped for h < 0).
def box_network(a, b, h):
    return {"W1": np.array([[h, h]], dtype=float), "b1": np.array([-h * a, -h * b], dtype=float),
            "W2": np.array([[1.0], [-1.0]]), "b2": np.zeros(1)}
