"""Demo student: sigmoid_backward takes the derivative at the activation A = s(Z), as the
seed network did (sigmoid_derivative(activation)). Loses the sigmoid_backward tests, and
the sigmoid network's training stalls."""


def sigmoid_backward(dA, cache):
    A, _ = sigmoid_forward(cache["Z"])
    S, _ = sigmoid_forward(A)
    return dA * S * (1.0 - S)
