"""Tests of graph_backward(x0, params, cache)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import (Student, assert_close, assert_params, assert_unchanged,
                           numerical_gradient)


@graded(points=2)
def graph_backward_worked_example(student: Student) -> None:
    """At the worked example dz/dw0 = dz/db0 = -0.2, dz/dw1 = 0.4, dz/db1 = 1, dz/dx0 = 0.94."""
    params = {"w0": 0.3, "b0": 0.1, "w1": -0.2, "b1": -0.3}
    cache = {"p0": 0.3, "s0": 0.4, "x1": 0.4, "p1": -0.08, "s1": -0.38, "y": 0.62, "z": 0.62}
    grads, (_, _, after) = student.track("graph_backward", 1.0, params, cache)
    expected = {"w0": -0.2, "b0": -0.2, "w1": 0.4, "b1": 1.0, "x0": 0.94}
    values = assert_params(grads, {key: () for key in expected},
                           "the gradients returned by graph_backward")
    for key, value in expected.items():
        assert_close(values[key], value, f'dz/d{key} (grads["{key}"])', atol=1e-12)
    assert_unchanged(cache, after, "cache")


@graded(points=2, hidden=True)
def graph_backward_finite_differences(student: Student) -> None:
    """graph_backward matches finite differences of z, with either ReLU active or not, and
    each ReLU, the first and the last, blocks the gradient where its input is exactly 0."""
    from solutions.foundations import graph_forward
    cases = {
        "both ReLUs active": (0.9, {"w0": 0.8, "b0": -0.2, "w1": 1.3, "b1": 0.1}),
        "both ReLUs active, x0 < 0": (-0.5, {"w0": -2.5, "b0": 0.3, "w1": 0.4, "b1": 0.6}),
        "the first ReLU inactive": (1.1, {"w0": -0.9, "b0": 0.5, "w1": 1.7, "b1": -0.2}),
        "the last ReLU inactive": (-0.8, {"w0": -1.0, "b0": 0.6, "w1": -1.1, "b1": 0.3}),
        "both ReLUs inactive": (-0.6, {"w0": 0.4, "b0": 0.1, "w1": 0.2, "b1": -0.5}),
    }
    keys = ("w0", "b0", "w1", "b1", "x0")
    for case, (x0, params) in cases.items():
        def z(values: np.ndarray) -> float:
            named = dict(zip(keys, values))
            return graph_forward(named.pop("x0"), named)["z"]

        point = np.array([params["w0"], params["b0"], params["w1"], params["b1"], x0])
        numeric = numerical_gradient(z, point)
        grads = assert_params(student.graph_backward(x0, params, graph_forward(x0, params)),
                              {key: () for key in keys},
                              f"the gradients returned by graph_backward with {case}")
        for key, value in zip(keys, numeric):
            assert_close(grads[key], value, f"dz/d{key} with {case}", atol=1e-7)
    # where a ReLU's input is exactly 0 it blocks the gradient, as the notebook says: each
    # ReLU in turn (every value exact in binary)
    zeros = {
        "the first ReLU's input is exactly 0 (s0 = 0)": (
            1.0, {"w0": 1.0, "b0": -1.0, "w1": 0.5, "b1": 0.2}, (0.0, 0.0, 0.0, 1.0, 1.0)),
        "the last ReLU's input is exactly 0 (y = 0)": (
            -1.0, {"w0": 1.0, "b0": 2.0, "w1": 0.5, "b1": 0.5}, (0.0, 0.0, 0.0, 0.0, 0.0)),
    }
    for case, (x0, params, expected) in zeros.items():
        grads = assert_params(student.graph_backward(x0, params, graph_forward(x0, params)),
                              {key: () for key in keys},
                              "the gradients returned by graph_backward")
        for key, value in zip(keys, expected):
            assert_close(grads[key], value, f"dz/d{key} where {case} (a ReLU blocks the "
                         f"gradient where its input is zero)", atol=1e-12)
