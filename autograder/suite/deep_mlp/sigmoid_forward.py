"""Tests of sigmoid_forward(Z)."""

import numpy as np

from autograder.graded import graded
from nnlab.deep_mlp import handout
from nnlab.testing import Student, assert_close, assert_public, assert_unchanged


@graded(points=1)
def sigmoid_forward_values_and_cache(student: Student) -> None:
    """sigmoid_forward at Z = [-2, 0, 3] gives [0.1192, 0.5, 0.9526] and caches Z itself."""
    Z = handout.SIGMOID_Z.copy()
    (A, cache), (after,) = student.track("sigmoid_forward", Z)
    assert_close(A, handout.SIGMOID_A, "A")
    assert_public(isinstance(cache, dict) and "Z" in cache,
                  "the cache should be the dict {'Z': Z}")
    assert_close(cache["Z"], Z, 'cache["Z"] (the pre-activation)')
    assert_unchanged(Z, after, "Z")


@graded(points=1, hidden=True)
def sigmoid_forward_stable(student: Student) -> None:
    """sigmoid_forward is right, without overflow (no RuntimeWarning), at Z = +-1000, at large |Z| and on a random batch."""
    from autograder.hidden import hidden_rng
    from nnlab.quiet import assert_no_warning
    rng = hidden_rng()
    Z = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]])
    A, _ = assert_no_warning(student, "sigmoid_forward", Z, what="sigmoid_forward at +-1000")
    assert_close(A, 0.5 * (1.0 + np.tanh(0.5 * Z)), "A at +-1000", atol=1e-12)
    # |Z| from 100 to 1000, both signs: exp(-Z) overflows for Z below about -710
    Z = rng.uniform(100.0, 1000.0, size=(4, 5)) * rng.choice([-1.0, 1.0], size=(4, 5))
    Z[0, 0] = -rng.uniform(720.0, 1000.0)
    A, _ = assert_no_warning(student, "sigmoid_forward", Z, what="sigmoid_forward at large |Z|")
    assert_close(A, 0.5 * (1.0 + np.tanh(0.5 * Z)), "A at large |Z|", atol=1e-12,
                 hide_values=True)
    Z = rng.normal(size=(5, 4)) * 4
    A, _ = student.sigmoid_forward(Z)
    assert_close(A, 1.0 / (1.0 + np.exp(-Z)), "A", hide_values=True)
