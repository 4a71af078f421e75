"""check("relu"): the handout's table, the dtype, any shape, no change to its input.

``check_relu`` is the checker; HINTS holds the hints for the mistakes it recognises.
"""

from typing import Any, Callable

import numpy as np

from nnlab.checking import Failure, as_numbers, check_unchanged, is_close, worst_entry
from nnlab.checking.engine import Run
from nnlab.two_layer_net import handout

HINTS = {
    "relu_values": "relu(x) is x where x > 0 and 0 where x <= 0, entry by entry, with the "
                   "shape of x.",
    "relu_mask": "relu returned the 0/1 mask of x > 0 instead of the values max(0, x): that "
                 "mask is relu's derivative (backprop needs it), not relu itself.",
    "relu_negatives_kept": "the negative entries must become 0 (relu(x) = max(0, x)); your "
                           "relu returned them unchanged.",
    "relu_wrong_side": "relu keeps the positive entries and sets the negative ones to 0; "
                       "yours does the opposite (min instead of max?).",
    "relu_int": "relu returned integers: the values must stay floats. Avoid astype(int) or "
                "filling an integer array; np.maximum and np.where keep x's float dtype.",
    "relu_dtype": "relu should return float64 for float64 input (the dtype of x).",
    "relu_shape": "relu must work entry by entry on an array of any shape (1-D, 2-D, 3-D) "
                  "and return that shape: use NumPy operations rather than loops over rows "
                  "and columns.",
    "relu_inplace": "relu changed its input in place (e.g. x[x < 0] = 0 modifies the "
                    "caller's array, such as the cached Z1). Return a new array instead, "
                    "e.g. with np.maximum(x, 0), or work on x.copy().",
}


def check_relu(run: Run, relu: Callable[..., Any]) -> None:
    """Run the checks of relu on the student's ``relu`` (a checker: see
    ``nnlab.checking.engine``)."""
    x = handout.RELU_INPUT.copy()
    expected = np.where(x > 0, x, 0.0)
    with run.check("relu(handout 5x3 table)"):
        result = as_numbers(run.call(relu, x.copy()), allow_bool=True)
        _diagnose_relu(x, result, expected)
    with run.check("relu(x) keeps float64 for float64 x"):
        result = as_numbers(run.call(relu, x.copy()), allow_bool=True)
        if result.dtype == np.bool_:
            raise Failure("got dtype bool", ("relu_mask",))
        if result.dtype.kind in "iu":
            raise Failure(f"got dtype {result.dtype}", ("relu_int",))
        if result.dtype != np.float64:
            raise Failure(f"got dtype {result.dtype}", ("relu_dtype",))
    with run.check("relu on inputs of shape (7,) and (2, 3, 4)"):
        for shape in ((7,), (2, 3, 4)):
            x_shaped = np.linspace(-2.0, 2.0, int(np.prod(shape))).reshape(shape)
            result = as_numbers(run.call(relu, x_shaped.copy(), hints=("relu_shape",)),
                            allow_bool=True)
            if result.shape != shape:
                raise Failure(f"relu(x of shape {shape}) has shape {result.shape}",
                               ("relu_shape",))
            _diagnose_relu(x_shaped, result, np.where(x_shaped > 0, x_shaped, 0.0))
    with run.check("x unchanged by relu(x)"):
        x_copy = x.copy()
        run.call(relu, x_copy)
        check_unchanged(("x",), (x,), (x_copy,), "relu_inplace")


def _diagnose_relu(x: np.ndarray, result: np.ndarray, expected: np.ndarray) -> None:
    if result.shape != expected.shape:
        raise Failure(f"shape {result.shape}, expected {expected.shape}", ("relu_shape",))
    if is_close(result, expected, rtol=1e-12, atol=0.0):
        return
    got = worst_entry(result, expected)
    if result.dtype.kind == "f" and result.dtype != np.float64 \
            and is_close(result, expected, rtol=1e-6, atol=0.0):
        raise Failure(f"dtype {result.dtype}", ("relu_dtype",))
    if is_close(result, (x > 0).astype(float), rtol=0, atol=0):
        raise Failure(f"{got}: the result is the mask x > 0", ("relu_mask",))
    if result.dtype.kind in "iu":
        raise Failure(f"{got} (dtype {result.dtype})", ("relu_int",))
    if is_close(result, x, rtol=1e-12, atol=0.0):
        raise Failure(f"{got}: the result equals x", ("relu_negatives_kept",))
    if is_close(result, np.minimum(x, 0.0), rtol=1e-12, atol=0.0):
        raise Failure(f"{got}: the result is min(x, 0)", ("relu_wrong_side",))
    raise Failure(got, ("relu_values",))
