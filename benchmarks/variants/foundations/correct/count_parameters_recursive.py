# Correct count_parameters: recursive, one layer at a time.
def count_parameters(layer_sizes):
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        return 0
    return int(sizes[0]) * int(sizes[1]) + int(sizes[1]) + count_parameters(sizes[1:])
