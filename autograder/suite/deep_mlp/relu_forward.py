"""Tests of relu_forward(Z)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, assert_close, assert_public, assert_unchanged


@graded(points=1)
def relu_forward_values_and_cache(student: Student) -> None:
    """relu_forward gives max(Z, 0) and caches the pre-activation Z itself."""
    Z = np.array([[-1.5, 0.0, 2.0], [3.0, -0.25, 0.5]])
    (A, cache), (after,) = student.track("relu_forward", Z)
    assert_close(A, np.maximum(Z, 0.0), "A")
    assert_public(isinstance(cache, dict) and "Z" in cache,
                  "the cache should be the dict {'Z': Z}")
    assert_close(cache["Z"], Z, 'cache["Z"] (the pre-activation)')
    assert_unchanged(Z, after, "Z")
