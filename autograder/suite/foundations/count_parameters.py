"""Tests of count_parameters(layer_sizes)."""

import numpy as np

from autograder.registry import graded
from nnlab.testing import describe


@graded(points=1)
def count_parameters_worked_example(student):
    """30 -> 1024 -> 512 -> 1 has 557,057 parameters, 784 -> 30 -> 10 has 23,860, as ints."""
    for sizes, expected in (((30, 1024, 512, 1), 557057), ([784, 30, 10], 23860)):
        count = student.count_parameters(sizes)
        assert isinstance(count, (int, np.integer)) and not isinstance(count, bool), (
            f"count_parameters({sizes}) should return an int, got {describe(count)}")
        assert count == expected, (
            f"count_parameters({sizes}) returned {count}, expected {expected} "
            f"(weights and biases of every layer)")


@graded(points=1, hidden=True)
def count_parameters_other_sizes(student):
    """count_parameters matches the reference for one layer, deep nets and odd sizes."""
    from solutions.foundations import count_parameters as reference
    for sizes in ([5, 3], (1, 1), [3, 7, 7, 7, 2], (100, 1), [2, 4096, 3]):
        count, (after,) = student.track("count_parameters", list(sizes))
        assert isinstance(count, (int, np.integer)) and not isinstance(count, bool), (
            f"count_parameters({list(sizes)}) should return an int, got {describe(count)}")
        assert count == reference(sizes), (
            f"count_parameters({list(sizes)}) returned {count}, expected {reference(sizes)}")
        assert list(after) == list(sizes), "count_parameters changed the list it was given"
