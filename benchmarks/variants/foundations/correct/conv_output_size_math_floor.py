# Correct conv_output_size: math.floor of the true division.
def conv_output_size(n, kernel, stride=1, padding=0):
    import math
    return int(math.floor((n + 2 * padding - kernel) / stride)) + 1
