"""Demo student: conv_output_size divides with / and never rounds down, so it returns
floats such as 14.5. Loses the conv_output_size tests."""


def conv_output_size(n, kernel, stride=1, padding=0):
    return (n + 2 * padding - kernel) / stride + 1
