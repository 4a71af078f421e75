"""Demo student: count_parameters counts the weights of every layer but not the biases
(555,520 for 30 -> 1024 -> 512 -> 1). Loses the count_parameters tests."""


def count_parameters(layer_sizes):
    total = 0
    for i in range(len(layer_sizes) - 1):
        total += layer_sizes[i] * layer_sizes[i + 1]
    return total
