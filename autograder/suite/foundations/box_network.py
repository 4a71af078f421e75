"""Tests of box_network(a, b, h)."""

import numpy as np

from autograder.graded import graded
from nnlab.foundations.networks import one_hidden_layer
from nnlab.testing import Student, assert_close, assert_params


@graded(points=1)
def box_network_handout_box(student: Student) -> None:
    """box_network(-1, 2, 3) outputs 3 on [-1, 2) and 0 elsewhere (checked on a grid)."""
    shapes = {"W1": (1, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
    params = assert_params(student.box_network(-1.0, 2.0, 3.0), shapes,
                           "the params returned by box_network(-1, 2, 3)")
    x = np.linspace(-4.0, 5.0, 901) + 0.005   # no grid point on an edge
    expected = np.where((x >= -1.0) & (x < 2.0), 3.0, 0.0)
    assert_close(one_hidden_layer(x, params), expected,
                 "the output of box_network(-1, 2, 3) on a grid over [-4, 5]", atol=1e-12)


@graded(points=1, hidden=True)
def box_network_edges(student: Student) -> None:
    """The box includes its left edge a and excludes its right edge b (three random boxes)."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    shapes = {"W1": (1, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
    # multiples of 1/8 (exact in floating point): x = a lands exactly on the edge
    for case in range(1, 4):
        a, width = rng.integers(-40, 40) / 8, rng.integers(1, 24) / 8
        h = rng.choice([-1.0, 1.0]) * rng.integers(1, 40) / 8
        params = assert_params(student.box_network(a, a + width, h), shapes,
                               f"the params returned by box_network (box {case})")
        output = one_hidden_layer(np.array([a, a + width]), params)
        assert_close(output, [h, 0.0], f"the output of box_network (box {case}) at x = a "
                     f"and x = b", atol=1e-12)


@graded(points=1, hidden=True)
def box_network_other_boxes(student: Student) -> None:
    """Random boxes, negative heights included, are right on a grid around them."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    shapes = {"W1": (1, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
    for _ in range(5):
        a, width, h = rng.uniform(-10, 10), rng.uniform(0.1, 5), rng.uniform(-5, 5)
        params = assert_params(student.box_network(a, a + width, h), shapes,
                               "the params returned by box_network")
        x = a + np.linspace(-2.0, 2.0 + width, 400) + 1e-7
        expected = np.where((x >= a) & (x < a + width), h, 0.0)
        assert_close(one_hidden_layer(x, params), expected,
                     "the output of box_network on a grid around a random box", atol=1e-9)
