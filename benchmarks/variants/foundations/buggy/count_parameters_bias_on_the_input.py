# Bug in count_parameters: counts a bias for every layer of units, the input layer included.
def count_parameters(layer_sizes):
    weights = sum(int(a) * int(b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    return weights + sum(int(s) for s in layer_sizes)
