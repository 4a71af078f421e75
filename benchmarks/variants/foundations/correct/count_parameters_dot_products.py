# Correct count_parameters: weights as a dot product of consecutive sizes, biases as a sum.
def count_parameters(layer_sizes):
    sizes = [int(s) for s in layer_sizes]
    weights = int(np.dot(sizes[:-1], sizes[1:]))
    biases = sum(sizes[1:])
    return weights + biases
