# Bug in count_parameters: off-by-one loop over range(len(sizes)) with sizes[l - 1] adds a layer from the output back to the input.
def count_parameters(layer_sizes):
    total = 0
    for l in range(len(layer_sizes)):
        total += int(layer_sizes[l - 1]) * int(layer_sizes[l]) + int(layer_sizes[l])
    return total
