# Bug in conv_output_size: adds the 1 before the floor division, (n + 2p - k + 1) // s (right only for stride 1).
def conv_output_size(n, kernel, stride=1, padding=0):
    return (n + 2 * padding - kernel + 1) // stride
