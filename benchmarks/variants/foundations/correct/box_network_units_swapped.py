# Correct box_network: unit 0 switches on at b (weight -h), unit 1 at a (weight +h); the notebook fixes no unit order for a box.
def box_network(a, b, h):
    return {"W1": np.ones((1, 2)), "b1": np.array([-float(b), -float(a)]),
            "W2": np.array([[-float(h)], [float(h)]]), "b2": np.zeros(1)}
