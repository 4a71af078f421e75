"""Tests of train_mlp(X_train, Y_train, X_test, Y_test, sizes, activations, scheme, epochs,
batch_size, lr, momentum, seed) on the embedded digits (no Fashion-MNIST needed).

The hidden tests measure the accuracy here, with the returned params, on the 1,000 test
digits, which train_mlp never receives (its own "test" set is a slice of its training
digits)."""

import numpy as np

from autograder.registry import graded
from nnlab.data import load_mnist
from nnlab.deep_mlp.composition import layer_values, param_shapes
from nnlab.testing import assert_params, assert_public, assert_shape, assert_unchanged


@graded(points=1, timeout=60.0)
def train_mlp_history_format(student):
    """train_mlp returns params of the right shapes and one history entry per epoch, and leaves its data unchanged."""
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    data = (X_train[::10], Y_train[::10], X_test[::5], Y_test[::5])
    returned, after = student.track("train_mlp", *data, [784, 16, 10], ["relu"], "he", 2, 50,
                                    0.05, 0.9, 0)
    for name, before, now in zip(("X_train", "Y_train", "X_test", "Y_test"), data, after):
        assert_unchanged(before, now, name)
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                  "train_mlp should return the pair (params, history)")
    assert_params(returned[0], param_shapes([784, 16, 10]), "the params returned by train_mlp")
    history = returned[1]
    assert_public(isinstance(history, dict), "history should be a dict")
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert_public(key in history, f"history lacks the key {key!r}")
        assert_shape(np.asarray(history[key], dtype=float), (2,), f'history["{key}"]')
    assert_public("grad_norms" in history, "history lacks the key 'grad_norms'")
    assert_shape(np.asarray(history["grad_norms"], dtype=float), (2, 2),
                 'history["grad_norms"] (one list of L=2 norms per epoch)')


@graded(points=2, hidden=True, timeout=60.0)
def train_mlp_sigmoid_one_sample(student):
    """The seed's 784-32-32-10 sigmoid net, one sample at a time (lr 0.1, 2 epochs, 2,000 digits), reaches >= 85% on 1,000 unseen digits."""
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    X_train, Y_train = X_train[::2], Y_train[::2]
    sizes, activations = [784, 32, 32, 10], ["sigmoid", "sigmoid"]
    returned = student.train_mlp(X_train, Y_train, X_train[::10], Y_train[::10], sizes,
                                 activations, "seed", 2, 1, 0.1, 0.0, 0)
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                  "train_mlp should return the pair (params, history)")
    params = assert_params(returned[0], param_shapes(sizes), "the params returned by train_mlp")
    scores = layer_values(X_test, params, activations)[-1][1]
    accuracy = float((scores.argmax(axis=1) == Y_test.argmax(axis=1)).mean())
    assert_public(accuracy >= 0.85, (
        f"test accuracy {accuracy:.3f}, expected >= 0.85 (with the sigmoid's derivative taken "
        f"at the activation instead of the pre-activation, this network stalls near 0.65-0.76)"))


@graded(points=2, hidden=True, timeout=60.0)
def train_mlp_relu_momentum(student):
    """A 784-64-32-10 ReLU net (he init, batches of 32, lr 0.05, momentum 0.9, 4 epochs, 4,000 digits) reaches >= 90%."""
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    sizes, activations = [784, 64, 32, 10], ["relu", "relu"]
    returned = student.train_mlp(X_train, Y_train, X_train[::10], Y_train[::10], sizes,
                                 activations, "he", 4, 32, 0.05, 0.9, 0)
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                  "train_mlp should return the pair (params, history)")
    params = assert_params(returned[0], param_shapes(sizes), "the params returned by train_mlp")
    scores = layer_values(X_test, params, activations)[-1][1]
    accuracy = float((scores.argmax(axis=1) == Y_test.argmax(axis=1)).mean())
    assert_public(accuracy >= 0.90, f"test accuracy {accuracy:.3f}, expected >= 0.90")
