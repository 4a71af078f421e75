# Bug in sigmoid_backward: uses tanh's derivative form 1 - s^2 instead of s(1 - s).
def sigmoid_backward(dA, cache):
    S, _ = sigmoid_forward(cache["Z"])
    return dA * (1.0 - S ** 2)
