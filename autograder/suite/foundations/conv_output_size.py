"""Tests of conv_output_size(n, kernel, stride=1, padding=0)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, describe


@graded(points=1)
def conv_output_size_examples(student: Student) -> None:
    """conv_output_size gives the notebook's five examples, as ints, and defaults work."""
    examples = ((32, 5, 1, 0, 28), (28, 3, 2, 1, 14), (14, 2, 2, 0, 7), (224, 7, 2, 3, 112),
                (5, 2, 2, 0, 2))
    for n, kernel, stride, padding, expected in examples:
        size = student.conv_output_size(n, kernel, stride, padding)
        assert isinstance(size, (int, np.integer)) and not isinstance(size, bool), (
            f"conv_output_size({n}, {kernel}, {stride}, {padding}) should return an int, "
            f"got {describe(size)}: use // (floor division)")
        assert size == expected, (
            f"conv_output_size(n={n}, kernel={kernel}, stride={stride}, padding={padding}) "
            f"returned {size}, expected {expected}")
    size = student.conv_output_size(32, 5)
    assert size == 28, (
        f"conv_output_size(32, 5) (stride 1, no padding) returned {size}, expected 28")


@graded(points=1, hidden=True)
def conv_output_size_floor(student: Student) -> None:
    """conv_output_size matches the reference when the stride does not divide evenly."""
    from autograder.hidden import hidden_rng
    from solutions.foundations import conv_output_size as reference
    rng = hidden_rng()
    cases: list[tuple[int, int, int, int]] = []
    while len(cases) < 20:  # most with a stride that does not divide n + 2 padding - kernel
        n, kernel = int(rng.integers(5, 100)), int(rng.integers(1, 8))
        stride, padding = int(rng.integers(2, 5)), int(rng.integers(0, 4))
        if kernel <= n + 2 * padding and ((n + 2 * padding - kernel) % stride or len(cases) < 2):
            cases.append((n, kernel, stride, padding))
    for n, kernel, stride, padding in cases:
        size = student.conv_output_size(n, kernel, stride, padding)
        expected = reference(n, kernel, stride, padding)
        assert isinstance(size, (int, np.integer)) and not isinstance(size, bool), (
            f"conv_output_size should return an int, got {describe(size)}")
        assert size == expected, (
            f"conv_output_size(n={n}, kernel={kernel}, stride={stride}, "
            f"padding={padding}) returned {size}, expected {expected}")
