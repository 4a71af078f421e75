"""Tests of count_parameters(layer_sizes)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, describe


@graded(points=1)
def count_parameters_worked_example(student: Student) -> None:
    """30 -> 1024 -> 512 -> 1 has 557,057 parameters, 784 -> 30 -> 10 has 23,860, as ints."""
    for sizes, expected in (((30, 1024, 512, 1), 557057), ([784, 30, 10], 23860)):
        count = student.count_parameters(sizes)
        assert isinstance(count, (int, np.integer)) and not isinstance(count, bool), (
            f"count_parameters({sizes}) should return an int, got {describe(count)}")
        assert count == expected, (
            f"count_parameters({sizes}) returned {count}, expected {expected} "
            f"(weights and biases of every layer)")


@graded(points=1, hidden=True)
def count_parameters_other_sizes(student: Student) -> None:
    """count_parameters matches the reference for random sizes: one layer, deep nets, a wide layer, 1 -> 1."""
    from autograder.hidden import hidden_rng
    from solutions.foundations import count_parameters as reference
    rng = hidden_rng()
    drawn = [[int(v) for v in rng.integers(1, 60, size=length)] for length in (2, 3, 5)]
    drawn.append([int(rng.integers(1, 9)), int(rng.integers(1000, 5000)), int(rng.integers(1, 9))])
    for sizes in drawn + [(1, 1), (int(rng.integers(50, 200)), 1)]:
        count, (after,) = student.track("count_parameters", list(sizes))
        assert isinstance(count, (int, np.integer)) and not isinstance(count, bool), (
            f"count_parameters({list(sizes)}) should return an int, got {describe(count)}")
        assert count == reference(sizes), (
            f"count_parameters({list(sizes)}) returned {count}, expected {reference(sizes)}")
        assert list(after) == list(sizes), "count_parameters changed the list it was given"
