# Correct conv_output_size: divmod, keeping only the quotient.
def conv_output_size(n, kernel, stride=1, padding=0):
    quotient, _ = divmod(n + 2 * padding - kernel, stride)
    return int(quotient) + 1
