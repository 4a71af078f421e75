"""Tests of softmax_jacobian(y)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, assert_close, assert_shape, assert_unchanged, numerical_gradient


@graded(points=1)
def softmax_jacobian_small_vector(student: Student) -> None:
    """The Jacobian at y = [0.5, 0.3, 0.2] is the notebook's 3x3 matrix; y is not modified."""
    y = np.array([0.5, 0.3, 0.2])
    J, (after,) = student.track("softmax_jacobian", y)
    expected = np.array([[0.25, -0.15, -0.10], [-0.15, 0.21, -0.06], [-0.10, -0.06, 0.16]])
    assert_close(J, expected, "softmax_jacobian([0.5, 0.3, 0.2])", atol=1e-12)
    assert_unchanged(y, after, "y")


@graded(points=1)
def softmax_jacobian_batch(student: Student) -> None:
    """A batch (N, K) gives (N, K, K): one Jacobian per row, each matching finite differences of softmax."""
    z = np.array([[0.2, -1.0, 2.0, 0.5], [3.0, 3.0, -2.0, 0.0], [-0.5, 0.1, 0.4, -1.5]])

    def softmax(v: np.ndarray) -> np.ndarray:
        e = np.exp(v - v.max())
        return e / e.sum()

    y = np.array([softmax(row) for row in z])
    J, (after,) = student.track("softmax_jacobian", y)
    J = assert_shape(J, (3, 4, 4), "softmax_jacobian(y) for y of shape (3, 4)")
    for n in range(3):
        # compared with the true Jacobian, never with the student's own single-vector one
        numeric = np.array([numerical_gradient(lambda v: softmax(v)[i], z[n].copy())
                            for i in range(4)])
        assert_close(J[n], numeric, f"softmax_jacobian(y)[{n}] (the Jacobian of softmax at "
                     f"row {n}: finite differences, J[{n}, i, j] = d y[{n}, i] / d z[{n}, j])",
                     rtol=1e-5, atol=1e-9)
    assert_unchanged(y, after, "y")


@graded(points=2, hidden=True)
def softmax_jacobian_finite_differences(student: Student) -> None:
    """softmax_jacobian matches finite differences of softmax, for a vector and a batch."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max())
        return e / e.sum()

    for shape in [(6,), (4, 5), (1, 3)]:
        z = rng.normal(scale=1.5, size=shape)
        rows = z.reshape(-1, shape[-1])
        numeric = np.array([[numerical_gradient(lambda v: softmax(v)[i], row.copy())
                             for i in range(shape[-1])] for row in rows])
        y = np.array([softmax(row) for row in rows]).reshape(shape)
        J = student.softmax_jacobian(y)
        assert_close(J, numeric.reshape(shape + shape[-1:]),
                     f"softmax_jacobian(y) for y of shape {shape}", rtol=1e-5, atol=1e-9)
