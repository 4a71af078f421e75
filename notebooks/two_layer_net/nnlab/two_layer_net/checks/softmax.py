"""check("softmax"): the handout's logits and batch, rows that sum to 1, softmax(x + c) =
softmax(x), no overflow at logits of +-1000, no change to its input.

``check_softmax`` is the checker; HINTS holds the hints for the mistakes it recognises and
``exception_hints`` those for the errors a softmax typically raises.
"""

from typing import Any, Callable

import numpy as np

from nnlab.checking import (Failure, as_numbers, check_unchanged, is_close, quiet_call,
                            worst_entry)
from nnlab.checking.engine import Run
from nnlab.two_layer_net import handout
from nnlab.two_layer_net.checks.common import log_softmax

HINTS = {
    "softmax_values": "softmax(x) = exp(x) / sum(exp(x)) for each row separately (along the "
                      "last axis), after subtracting that row's maximum for stability.",
    "softmax_epsilon": "softmax adds a small constant (an epsilon such as 1e-5) somewhere, "
                       "typically to the denominator: the probabilities come out about "
                       "epsilon too small (relative) and rows no longer sum to 1. Softmax "
                       "needs no epsilon: once each row's maximum is subtracted, the "
                       "denominator is at least 1.",
    "softmax_global_max": "softmax subtracts one maximum of the whole batch (np.max(x)) "
                          "instead of each row's own maximum: a row far below the batch's "
                          "maximum underflows to 0/0. Subtract each row's maximum (np.max "
                          "along the last axis, with keepdims=True).",
    "softmax_unstable": "softmax overflows: exp(1000) is inf in float64 (and exp(-1000) is "
                        "0), which gives NaN. Use softmax(x) = softmax(x - c): subtract each "
                        "row's maximum before np.exp, so that the largest exponential is "
                        "exp(0) = 1.",
    "softmax_axis": "softmax normalises the columns (axis=0): each column sums to 1 instead "
                    "of each row. One row is one example: sum along the last axis "
                    "(axis=-1) with keepdims=True.",
    "softmax_whole": "softmax divides by the sum over the whole batch: normalise every row "
                     "on its own (sum along the last axis with keepdims=True) so that each "
                     "row sums to 1.",
    "softmax_keepdims": "the row sums (or maxima) have shape (N,) and do not broadcast "
                        "against x of shape (N, K): use keepdims=True so they have shape "
                        "(N, 1).",
    "softmax_vector": "softmax must also work on a single vector of shape (K,), like the "
                      "handout's 10 logits: use axis=-1 (the last axis) rather than axis=1.",
    "softmax_shape": "softmax must return an array of x's shape: (K,) for a vector, (N, K) "
                     "for a batch.",
    "softmax_inplace": "softmax changed its input x in place (e.g. x -= x.max(...) or "
                       "np.exp(x, out=x)), so the caller's logits are modified: compute "
                       "into new arrays instead.",
}


def exception_hints(error: Exception, shapes: bool) -> tuple[str, ...] | None:
    """The hints for an exception softmax raised (None: the engine's): an axis that a
    vector lacks, or row sums that do not broadcast (``shapes``)."""
    message = str(error)
    if type(error).__name__ == "AxisError" or ("axis" in message and "out of bounds" in message):
        return ("softmax_vector",)
    if shapes:
        return ("softmax_keepdims",)
    return None


def check_softmax(run: Run, softmax: Callable[..., Any]) -> None:
    """Run the checks of softmax on the student's ``softmax`` (a checker: see
    ``nnlab.checking.engine``)."""
    with run.check("softmax(handout logits), a vector of shape (10,)"):
        x = handout.SOFTMAX_LOGITS.copy()
        result = run.call(softmax, x.copy())
        _softmax_verdict(run, softmax, x, result, handout.SOFTMAX_PROBABILITIES)
    batch = np.log(handout.BATCH_PROBABILITIES)
    batch_expected = handout.BATCH_PROBABILITIES / handout.BATCH_PROBABILITIES.sum(
        axis=1, keepdims=True)
    with run.check("softmax(handout batch), 3 rows of 10 logits"):
        result = run.call(softmax, batch.copy())
        _softmax_verdict(run, softmax, batch, result, batch_expected)
    x = np.random.default_rng(5).normal(scale=4.0, size=(5, 7))
    with run.check("rows of softmax(x) are positive and sum to 1, for x of shape (5, 7)"):
        result = as_numbers(run.call(softmax, x.copy()))
        expected = np.exp(log_softmax(x))
        if result.shape != x.shape or not np.isfinite(result).all() \
                or not np.allclose(result.sum(axis=-1), 1.0, rtol=0, atol=1e-12) \
                or (result <= 0).any():
            _softmax_verdict(run, softmax, x, result, expected, rtol=0.0, atol=1e-12)
            sums = ", ".join(f"{s:.10g}" for s in result.sum(axis=-1))
            raise Failure(f"row sums {sums}", ("softmax_values",))
    with run.check("softmax(x + c) equals softmax(x) for a different constant c per row"):
        shift = np.array([[40.0], [-25.0], [7.5], [-60.0], [0.25]])
        plain = as_numbers(run.call(softmax, x.copy()))
        shifted = as_numbers(run.call(softmax, x + shift))
        if not is_close(shifted, plain, rtol=1e-9, atol=1e-15):
            _softmax_verdict(run, softmax, x + shift, shifted, np.exp(log_softmax(x)))
            raise Failure("softmax(x + c) differs from softmax(x): "
                           + worst_entry(shifted, plain), ("softmax_values",))
    with run.check("softmax at logits of +-1000 (no NaN, inf or RuntimeWarning)"):
        x = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1001.0]])
        w = np.exp([0.0, 0.0, -1.0])
        expected = np.array([[0.5, 0.5, 0.0], w / w.sum()])
        result = run.call(softmax, x.copy())
        _softmax_verdict(run, softmax, x, result, expected, rtol=0.0, atol=1e-12)
    with run.check("softmax of the rows [800, 801, 799] and [-800, -801, -799] together"):
        x = np.array([[800.0, 801.0, 799.0], [-800.0, -801.0, -799.0]])
        expected = np.array([np.exp([-1.0, 0.0, -2.0]), np.exp([-1.0, -2.0, 0.0])])
        expected /= expected.sum(axis=1, keepdims=True)
        result = run.call(softmax, x.copy())
        _softmax_verdict(run, softmax, x, result, expected, rtol=0.0, atol=1e-12)
    with run.check("x unchanged by softmax(x)"):
        x_copy = batch.copy()
        run.call(softmax, x_copy)
        check_unchanged(("x",), (batch,), (x_copy,), "softmax_inplace")


def _softmax_verdict(run: Run, softmax: Callable[..., Any], x: np.ndarray, result: Any,
                     expected: np.ndarray, rtol: float = 1e-6, atol: float = 0.0) -> None:
    """Pass if result matches expected without RuntimeWarning; else name the mistake."""
    warned = list(run.caught)
    result = as_numbers(result)
    if result.shape != expected.shape:
        raise Failure(f"shape {result.shape} for x of shape {x.shape}", ("softmax_shape",))
    if is_close(result, expected, rtol=rtol, atol=atol) and not warned:
        return
    finite = bool(np.isfinite(result).all())
    got = worst_entry(result, expected)
    if warned:
        got += f"; RuntimeWarning: {warned[0].message}"
    overflow = any("overflow" in str(w.message) for w in warned)
    if is_close(result, expected, rtol=rtol, atol=atol):  # right, but with a warning
        raise Failure(got, ("softmax_unstable",) if overflow else ("runtime_warning",))
    if x.ndim == 2 and finite:
        rows_ok = np.allclose(result.sum(axis=1), 1.0, atol=1e-6)
        if not rows_ok and np.allclose(result.sum(axis=0), 1.0, atol=1e-6):
            raise Failure(f"{got}; the columns sum to 1, not the rows", ("softmax_axis",))
        if not rows_ok and abs(result.sum() - 1.0) < 1e-6:
            raise Failure(f"{got}; the whole array sums to 1", ("softmax_whole",))
    badly = not finite or not is_close(result, expected, rtol=1e-3, atol=1e-9)
    if x.ndim == 2 and x.shape[0] > 1 and badly:
        alone = [quiet_call(softmax, x[i:i + 1].copy()) for i in range(x.shape[0])]
        if all(row is not None and is_close(np.reshape(row, (-1,)), expected[i], rtol=1e-3,
                                          atol=1e-9) for i, row in enumerate(alone)):
            raise Failure(f"{got}, while each row alone comes out right",
                           ("softmax_global_max",))
    if overflow or (not finite and np.abs(x).max() >= 500):
        raise Failure(got, ("softmax_unstable",))
    if finite:
        positive = expected > 1e-300
        relative = np.abs(result[positive] - expected[positive]) / expected[positive]
        sums = result.sum(axis=-1)
        if 1e-10 < relative.max() < 1e-2 and (sums < 1.0 - 1e-13).all():
            raise Failure(f"{got}; rows sum to {np.min(sums):.10g}", ("softmax_epsilon",))
    raise Failure(got, ("softmax_values",))
