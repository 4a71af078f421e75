"""Sizes that follow from an architecture: learnable parameters, convolution outputs."""


def count_parameters(layer_sizes):
    """Number of learnable parameters (weights and biases) of a fully connected network.

    Layer l maps layer_sizes[l] inputs to layer_sizes[l + 1] outputs with a weight matrix
    of shape (layer_sizes[l], layer_sizes[l + 1]) and a bias of shape (layer_sizes[l + 1],).

    Inputs:
    - layer_sizes: sequence of L + 1 positive ints (L >= 1), input size first, output
      size last; e.g. (30, 1024, 512, 1)

    Returns:
    - the total number of weights and biases, an int
    """
    total = 0
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        total += int(fan_in) * int(fan_out) + int(fan_out)
    return total


def conv_output_size(n, kernel, stride=1, padding=0):
    """Output size, along one axis, of a convolution (or pooling) window sliding over n.

    Inputs:
    - n: input size along the axis (int)
    - kernel: window size along the axis (int), at most n + 2 * padding
    - stride: step between two window positions (int >= 1)
    - padding: zeros added at each end of the axis (int >= 0)

    Returns:
    - floor((n + 2 * padding - kernel) / stride) + 1, an int
    """
    return (int(n) + 2 * int(padding) - int(kernel)) // int(stride) + 1
