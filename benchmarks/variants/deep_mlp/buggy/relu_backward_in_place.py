# Bug in relu_backward: zeroes the upstream gradient dA in place and returns it. [reaches callers: modifies an input]
def relu_backward(dA, cache):
    dA[cache["Z"] <= 0] = 0.0
    return dA
