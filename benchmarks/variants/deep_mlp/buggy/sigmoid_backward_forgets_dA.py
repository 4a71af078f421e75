# Bug in sigmoid_backward: returns the local derivative s(1 - s) without multiplying by dA.
def sigmoid_backward(dA, cache):
    S, _ = sigmoid_forward(cache["Z"])
    return S * (1.0 - S)
