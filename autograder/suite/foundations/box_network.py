"""Tests of box_network(a, b, h)."""

import numpy as np

from autograder.registry import graded
from nnlab.foundations.networks import one_hidden_layer
from nnlab.testing import assert_close, assert_params


@graded(points=1)
def box_network_handout_box(student):
    """box_network(-1, 2, 3) outputs 3 on [-1, 2) and 0 elsewhere (checked on a grid)."""
    shapes = {"W1": (1, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
    params = assert_params(student.box_network(-1.0, 2.0, 3.0), shapes,
                           "the params returned by box_network(-1, 2, 3)")
    x = np.linspace(-4.0, 5.0, 901) + 0.005   # no grid point on an edge
    expected = np.where((x >= -1.0) & (x < 2.0), 3.0, 0.0)
    assert_close(one_hidden_layer(x, params), expected,
                 "the output of box_network(-1, 2, 3) on a grid over [-4, 5]", atol=1e-12)


@graded(points=1, hidden=True)
def box_network_edges(student):
    """The box includes its left edge a and excludes its right edge b."""
    shapes = {"W1": (1, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
    for a, b, h in ((0.0, 1.0, 1.0), (-2.5, -0.5, -4.0), (3.0, 3.25, 0.5)):
        params = assert_params(student.box_network(a, b, h), shapes,
                               f"the params returned by box_network({a}, {b}, {h})")
        output = one_hidden_layer(np.array([a, b]), params)
        assert_close(output, [h, 0.0], f"the output of box_network({a}, {b}, {h}) at x = "
                     f"a and x = b", atol=1e-12)


@graded(points=1, hidden=True)
def box_network_other_boxes(student):
    """Random boxes, negative heights included, are right on a grid around them."""
    rng = np.random.default_rng(6765)
    shapes = {"W1": (1, 2), "b1": (2,), "W2": (2, 1), "b2": (1,)}
    for _ in range(5):
        a, width, h = rng.uniform(-10, 10), rng.uniform(0.1, 5), rng.uniform(-5, 5)
        params = assert_params(student.box_network(a, a + width, h), shapes,
                               "the params returned by box_network")
        x = a + np.linspace(-2.0, 2.0 + width, 400) + 1e-7
        expected = np.where((x >= a) & (x < a + width), h, 0.0)
        assert_close(one_hidden_layer(x, params), expected,
                     "the output of box_network on a grid around a random box", atol=1e-9)
