"""Demo student: sigmoid_backward takes the derivative at the activation A = s(Z), as the
seed network did (sigmoid_derivative(activation)). Loses the sigmoid_backward tests only:
the training tests see that the layers train_mlp runs are wrong and leave the accuracy (which
stalls) ungraded, so the mistake is charged once."""


def sigmoid_backward(dA, cache):
    A, _ = sigmoid_forward(cache["Z"])
    S, _ = sigmoid_forward(A)
    return dA * S * (1.0 - S)
