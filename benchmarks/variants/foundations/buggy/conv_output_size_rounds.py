# Bug in conv_output_size: rounds to the nearest integer instead of flooring.
def conv_output_size(n, kernel, stride=1, padding=0):
    return int(round((n + 2 * padding - kernel) / stride)) + 1
