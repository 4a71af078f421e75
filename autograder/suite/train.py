"""Tests of train(X_train, Y_train, X_test, Y_test, ...)."""

import numpy as np

from autograder.registry import graded
from nnlab.data import load_mnist
from nnlab.testing import assert_shape


@graded(points=1, timeout=60.0)
def train_history_format(student):
    """train returns params of the right shapes and one history entry per epoch."""
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    params, history = student.train(X_train[::8], Y_train[::8], X_test[::5], Y_test[::5],
                                    hidden=16, epochs=3, batch_size=50, lr=0.05,
                                    momentum=0.9, seed=0)
    for key, shape in (("W1", (784, 16)), ("b1", (16,)), ("W2", (16, 10)), ("b2", (10,))):
        assert key in params, f"the params returned by train lack the key {key!r}"
        assert_shape(params[key], shape, f'params["{key}"]')
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert key in history, f"history lacks the key {key!r}"
        values = np.asarray(history[key], dtype=float)
        assert values.shape == (3,), (
            f'history["{key}"] should hold one number per epoch (3), got {values.shape[0] if values.ndim else "a scalar"}')
        assert np.isfinite(values).all(), f'history["{key}"] has NaN or infinite values: {values}'
    for key in ("train_acc", "test_acc"):
        assert ((0 <= np.asarray(history[key])) & (np.asarray(history[key]) <= 1)).all(), (
            f'history["{key}"] should be fractions in [0, 1], got {history[key]}')


@graded(points=3, hidden=True, timeout=60.0)
def train_reaches_accuracy(student):
    """train (H=30, 8 epochs) on 4,000 real digits reaches >= 85% on 1,000 test digits."""
    from solutions import forward
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    params, history = student.train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=8,
                                    batch_size=64, lr=0.05, momentum=0.9, seed=1)
    predicted = np.argmax(forward(X_test, params)["P"], axis=1)
    accuracy = float(np.mean(predicted == np.argmax(Y_test, axis=1)))
    assert accuracy >= 0.85, (
        f"the trained network classifies {accuracy:.1%} of the test digits correctly; "
        f"at least 85% is expected (the reference reaches about 93%)")
    reported = float(np.asarray(history["test_acc"], dtype=float)[-1])
    assert abs(reported - accuracy) < 0.02, (
        f'history["test_acc"][-1] is {reported:.3f} but the returned params give {accuracy:.3f}')
