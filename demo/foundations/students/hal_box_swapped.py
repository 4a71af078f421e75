"""Demo student: box_network swaps the two edges (the unit with output weight +h switches
on at b, the one with -h at a), so the box hangs upside down. Loses the box_network tests."""

import numpy as np


def box_network(a, b, h):
    return {"W1": np.array([[1.0, 1.0]]), "b1": np.array([-b, -a]),
            "W2": np.array([[h], [-h]]), "b2": np.array([0.0])}
