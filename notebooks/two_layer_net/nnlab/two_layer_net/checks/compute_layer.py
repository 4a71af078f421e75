"""check("compute_layer"): a product worked out by hand, one example, the identity matrix,
no change to its arguments.

``check_compute_layer`` is the checker; HINTS holds the hints for the mistakes it
recognises and ``exception_hints`` the one for a product whose shapes do not fit.
"""

import re
from typing import Any, Callable

import numpy as np

from nnlab.checking import Failure, as_numbers, check_unchanged, is_close, worst_entry
from nnlab.checking.engine import Run

HINTS = {
    "compute_layer_values": "compute_layer(X, W, b) is the matrix product of X (N, D) and W "
                            "(D, H), with b added to every row: shape (N, H).",
    "compute_layer_order": "with X of shape (N, D) and W of shape (D, H) the product is "
                           "X @ W, of shape (N, H): W @ X does not fit (one example per row, "
                           "not per column).",
    "compute_layer_bias": "the bias b is missing: add b (shape (H,)) to every row of the "
                          "product; broadcasting does that with a plain +.",
    "compute_layer_column_bias": "b is used as a column, shape (H, 1) (b.reshape(-1, 1), "
                                 "b[:, None] or b.T of a column): added to the (N, H) "
                                 "product it broadcasts along the wrong axis. Add b as it "
                                 "is, shape (H,): X @ W + b adds it to every row.",
    "compute_layer_transposed": "compute_layer returned the transpose, shape (H, N): the "
                                "result has one example per row, shape (N, H), as X does.",
    "compute_layer_inplace": "compute_layer changed one of its arguments in place (e.g. "
                             "with += on X, W or b): return a new array.",
}


def exception_hints(error: Exception, shapes: bool) -> tuple[str, ...] | None:
    """The hint for an exception compute_layer raised (None: the engine's): shapes that do
    not broadcast, one of them a column (H, 1), are a column bias; a product whose shapes do
    not fit is most likely W @ X."""
    if shapes and "broadcast" in str(error) and re.search(r"\(\d+, ?1\)", str(error)):
        return ("compute_layer_column_bias",)
    return ("compute_layer_order",) if shapes else None


def check_compute_layer(run: Run, compute_layer: Callable[..., Any]) -> None:
    """Run the checks of compute_layer on the student's ``compute_layer`` (a checker: see
    ``nnlab.checking.engine``)."""
    X = np.array([[1.0, 2.0, 0.0], [-1.0, 0.0, 3.0]])
    W = np.array([[1.0, 0.0, 2.0, -1.0], [0.0, 1.0, 1.0, 0.0], [2.0, -1.0, 0.0, 1.0]])
    b = np.array([0.5, -1.0, 0.0, 2.0])
    product = np.array([[1.0, 2.0, 4.0, -1.0], [5.0, -3.0, -2.0, 4.0]])  # by hand
    expected = np.array([[1.5, 1.0, 4.0, 1.0], [5.5, -4.0, -2.0, 6.0]])
    with run.check("compute_layer(X, W, b) with X (2, 3), W (3, 4), b (4,), by hand"):
        result = as_numbers(run.call(compute_layer, X.copy(), W.copy(), b.copy()))
        if result.shape == (4, 2):
            raise Failure("shape (4, 2), expected (2, 4)", ("compute_layer_transposed",))
        if not is_close(result, expected):
            got = worst_entry(result, expected)
            if is_close(result, product):
                raise Failure(f"{got}: the result is X W without b", ("compute_layer_bias",))
            raise Failure(got, ("compute_layer_values",))
    with run.check("compute_layer on one example, X of shape (1, 3)"):
        result = as_numbers(run.call(compute_layer, X[1:].copy(), W.copy(), b.copy()))
        if not is_close(result, expected[1:]):
            raise Failure(worst_entry(result, expected[1:]), ("compute_layer_values",))
    with run.check("compute_layer(identity, W, b) gives W + b in every row, float64"):
        W_square = np.arange(12.0).reshape(4, 3) / 4.0 - 1.0
        b_square = np.array([0.25, -2.0, 1.0])
        result = as_numbers(run.call(compute_layer, np.eye(4), W_square.copy(), b_square.copy()))
        if not is_close(result, W_square + b_square):
            raise Failure(worst_entry(result, W_square + b_square), ("compute_layer_values",))
        if result.dtype != np.float64:
            raise Failure(f"dtype {result.dtype}", ("compute_layer_values",))
    with run.check("X, W and b unchanged by compute_layer(X, W, b)"):
        args = (X.copy(), W.copy(), b.copy())
        run.call(compute_layer, *args)
        check_unchanged(("X", "W", "b"), (X, W, b), args, "compute_layer_inplace")
