"""Tests of staircase_network(B, heights). A staircase built from the student's own
box_network is also accepted when it gives what those boxes add up to
(nnlab/foundations/composition.py): a wrong box costs box_network's tests only."""

import numpy as np

from autograder.graded import graded
from nnlab.foundations.composition import staircase_is_own_boxes
from nnlab.foundations.networks import one_hidden_layer
from nnlab.testing import Student, assert_close, assert_params


@graded(points=1)
def staircase_network_two_boxes(student: Student) -> None:
    """staircase_network(1, [1, 2]) has 4 units, outputs 1 on [-1, 0), 2 on [0, 1), else 0."""
    shapes = {"W1": (1, 4), "b1": (4,), "W2": (4, 1), "b2": (1,)}
    params = assert_params(student.staircase_network(1.0, np.array([1.0, 2.0])), shapes,
                           "the params returned by staircase_network(1, [1, 2])")
    x = np.linspace(-2.0, 2.0, 401) + 0.005
    expected = np.select([(x >= -1) & (x < 0), (x >= 0) & (x < 1)], [1.0, 2.0], 0.0)
    if np.allclose(one_hidden_layer(x, params), expected, rtol=0, atol=1e-12) or \
            staircase_is_own_boxes(student, 1.0, np.array([1.0, 2.0]), params, x):
        return  # right, or what the student's own (wrong) boxes add up to
    assert_close(one_hidden_layer(x, params), expected,
                 "the output of staircase_network(1, [1, 2]) on a grid over [-2, 2]",
                 atol=1e-12)


@graded(points=1, hidden=True)
def staircase_network_random_heights(student: Student) -> None:
    """With B = 2.5 and 7 random heights, each piece of [-B, B) has its height."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    heights = rng.normal(size=7)
    shapes = {"W1": (1, 14), "b1": (14,), "W2": (14, 1), "b2": (1,)}
    params = assert_params(student.staircase_network(2.5, heights), shapes,
                           "the params returned by staircase_network(2.5, 7 heights)")
    edges = np.linspace(-2.5, 2.5, 8)
    inside = np.concatenate([np.linspace(lo + 1e-6, hi - 1e-6, 9)
                             for lo, hi in zip(edges[:-1], edges[1:])])
    expected = np.repeat(heights, 9)
    outside = np.array([-4.0, -2.5 - 1e-6, 2.5 + 1e-6, 3.0])
    points = np.concatenate([inside, outside])
    if np.allclose(one_hidden_layer(points, params), np.concatenate([expected, np.zeros(4)]),
                   rtol=0, atol=1e-9) or staircase_is_own_boxes(student, 2.5, heights, params,
                                                                points):
        return  # right, or what the student's own (wrong) boxes add up to
    assert_close(one_hidden_layer(inside, params), expected,
                 "the output inside the 7 pieces of [-2.5, 2.5)", atol=1e-9)
    assert_close(one_hidden_layer(outside, params), np.zeros(4),
                 "the output outside [-2.5, 2.5]", atol=1e-9)


@graded(points=2, hidden=True)
def staircase_network_error_shrinks(student: Student) -> None:
    """Heights at the midpoints approximate sin(2x) + x/2 on [-3, 3): the error falls like 1/n."""
    B = 3.0
    x = np.linspace(-B, B, 6001)[:-1] + 2.5e-4   # 6000 points, none on a piece's edge
    errors = []
    for n in (6, 24, 96):
        midpoints = -B + (np.arange(n) + 0.5) * (2 * B / n)
        heights = np.sin(2 * midpoints) + midpoints / 2
        shapes = {"W1": (1, 2 * n), "b1": (2 * n,), "W2": (2 * n, 1), "b2": (1,)}
        params = assert_params(student.staircase_network(B, heights), shapes,
                               f"the params returned by staircase_network for n = {n}")
        error = float(np.max(np.abs(one_hidden_layer(x, params) - np.sin(2 * x) - x / 2)))
        bound = 2.5 * B / n   # |f'| <= 2.5, and no point is farther than B / n from its midpoint
        if error > bound and staircase_is_own_boxes(student, B, heights, params, x[::7]):
            return  # the student's own box_network, wrong: charged to its tests
        assert error <= bound, (
            f"with n = {n} pieces the largest error on [-3, 3) is {error:.4f}, more than "
            f"{bound:.4f} (max |f'| times half a piece's width)")
        errors.append(error)
    assert errors[0] > errors[1] > errors[2], f"the error does not shrink with n: {errors}"
