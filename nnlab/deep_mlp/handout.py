"""The deep_mlp notebook's worked values, as numbers (public: students see them too)."""

import numpy as np

# Sigmoid at Z = [-2, 0, 3]: s(Z), and its derivative s(Z) (1 - s(Z)) at the pre-activation.
SIGMOID_Z = np.array([[-2.0, 0.0, 3.0]])
SIGMOID_A = np.array([[0.11920292202211755, 0.5, 0.9525741268224334]])
SIGMOID_DERIVATIVE = np.array([[0.1049935854035065, 0.25, 0.045176659730912]])
# The seed network's bug takes the derivative at the activation, s(A) (1 - s(A)):
SIGMOID_DERIVATIVE_AT_A = np.array([[0.24911401541513817, 0.2350037122015945,
                                     0.20087900792592797]])

# The seed network: 784-32-32-10, sigmoid, weight variance 1/max(n_in, n_out), one sample
# at a time, lr 0.003, 3 epochs; with the bug it stalls near 76% test accuracy on MNIST.
SEED_SIZES = (784, 32, 32, 10)
SEED_ACTIVATIONS = ("sigmoid", "sigmoid")
DEEP_SIZES = (784, 256, 128, 64, 10)
DEEP_ACTIVATIONS = ("relu", "relu", "relu")

# Weight variance of each init_mlp scheme for a layer from n_in to n_out units.
SCHEMES = {"seed": "1 / max(n_in, n_out)", "he": "2 / n_in", "xavier": "2 / (n_in + n_out)"}
