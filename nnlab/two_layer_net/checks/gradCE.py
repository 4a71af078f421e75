"""check("gradCE"): the handout's dL/dZ matrix, the shape and dtype, finite differences of
the loss of the logits, no change to its arguments.

``check_gradCE`` is the checker; HINTS holds the hints for the mistakes it recognises.
"""

from typing import Any, Callable

import numpy as np

from nnlab.checking import (Failure, as_numbers, check_unchanged, is_about, is_close,
                            scale_of, worst_entry)
from nnlab.checking.engine import Context, Run
from nnlab.testing import GRADIENT_THRESHOLD, numerical_gradient, relative_error
from nnlab.two_layer_net import Array, handout
from nnlab.two_layer_net.checks.common import log_softmax

HINTS = {
    "gradCE_values": "gradCE must return dL/dz, the derivative of the average cross-entropy "
                     "of softmax(z) with respect to each logit, shape (N, K): compare with "
                     "the handout's dL/dZ matrix (handout.BATCH_GRADIENT) for the batch of 3.",
    "gradCE_no_N": "gradCE is N times too large: the loss is an average over the N "
                   "examples, so its gradient is divided by N too.",
    "gradCE_sign": "gradCE has the wrong sign: it is prediction minus target, not target "
                   "minus prediction (raising the target class's logit lowers the loss, so "
                   "the gradient there is negative).",
    "gradCE_NK": "gradCE divides by N*K, the number of entries: the loss averages over the "
                 "N examples only, so divide by N.",
    "gradCE_K": "gradCE divides by K, the number of classes (prediction.shape[1]), instead "
                "of N, the number of examples (prediction.shape[0]).",
    "gradCE_dp": "gradCE returned the derivative with respect to the probabilities (-t/p) "
                 "instead of the logits z: chain it through softmax's derivative; for "
                 "softmax followed by cross-entropy the result simplifies a lot (see the "
                 "handout's dL/dZ matrix (handout.BATCH_GRADIENT)).",
    "gradCE_transposed": "gradCE must return an array shaped like prediction, (N, K), not "
                         "its transpose.",
    "gradCE_inplace": "gradCE changed its arguments in place (e.g. prediction -= target): "
                      "compute a new array.",
}


def check_gradCE(run: Run, gradCE: Callable[..., Any]) -> None:
    """Run the checks of gradCE on the student's ``gradCE`` (a checker: see
    ``nnlab.checking.engine``)."""
    T, P = handout.BATCH_TARGETS, handout.BATCH_PROBABILITIES
    G = handout.BATCH_GRADIENT
    with run.check("gradCE(handout batch of 3) is the handout's dL/dZ matrix (handout.BATCH_GRADIENT)"):
        result = as_numbers(run.call(gradCE, T.copy(), P.copy()))
        _gradCE_verdict(result, G, T, P)
    with run.check("gradCE returns float64 of prediction's shape for N=1"):
        result = as_numbers(run.call(gradCE, T[:1].copy(), P[:1].copy()))
        if result.shape != (1, 10):
            raise Failure(f"shape {result.shape} for N=1, K=10", ("gradCE_values",))
        if result.dtype != np.float64:
            raise Failure(f"dtype {result.dtype}", ("gradCE_values",))
    with run.check("gradCE equals finite differences of the loss of the logits z "
                   "(N=4, K=6)"):
        rng = np.random.default_rng(41)
        z = rng.normal(scale=2.0, size=(4, 6))
        target = np.eye(6)[[2, 0, 5, 2]]
        loss, source = _loss_of_logits(run.context, target)
        run.notes.append(f"the finite differences were taken of {source}")
        probabilities = _probabilities(run.context, z)
        numeric = numerical_gradient(loss, z.copy())
        result = as_numbers(run.call(gradCE, target.copy(), probabilities))
        if result.shape != numeric.shape:
            raise Failure(f"shape {result.shape}, expected {numeric.shape}",
                           ("gradCE_transposed",) if result.shape == numeric.T.shape
                           else ("gradCE_values",))
        error = relative_error(result, numeric)
        if not np.isfinite(error) or error >= GRADIENT_THRESHOLD:
            got = f"relative error {error:.2e}; {worst_entry(result, numeric)}"
            scale = scale_of(result, numeric)
            for factor, hints in ((4.0, ("gradCE_no_N",)), (-1.0, ("gradCE_sign",)),
                                  (-4.0, ("gradCE_sign", "gradCE_no_N")),
                                  (1.0 / 6.0, ("gradCE_NK",)), (4.0 / 6.0, ("gradCE_K",))):
                if is_about(scale, factor):
                    raise Failure(f"{got}; yours are {factor:g} times the finite "
                                   f"differences", hints)
            raise Failure(got, ("gradCE_values",))
    with run.check("target and prediction unchanged by gradCE"):
        args = (T.copy(), P.copy())
        run.call(gradCE, *args)
        check_unchanged(("target", "prediction"), (T, P), args, "gradCE_inplace")


def _gradCE_verdict(result: np.ndarray, G: Array, T: Array, P: Array) -> None:
    N, K = T.shape
    if result.shape == (K, N):
        raise Failure(f"shape {result.shape}, expected {(N, K)}", ("gradCE_transposed",))
    if result.shape != G.shape:
        raise Failure(f"shape {result.shape}, expected {G.shape}", ("gradCE_values",))
    if is_close(result, G, rtol=1e-6, atol=1e-15):
        return
    got = worst_entry(result, G)
    candidates = (
        (N * G, f"{N} times the right values", ("gradCE_no_N",)),
        (-G, "the right values negated", ("gradCE_sign",)),
        (-N * G, f"-{N} times the right values", ("gradCE_sign", "gradCE_no_N")),
        (G / K, f"1/{K} of the right values", ("gradCE_NK",)),
        (G * N / K, f"{N}/{K} of the right values", ("gradCE_K",)),
        (-T / P / N, "-t/(N p), the derivative with respect to p", ("gradCE_dp",)),
        (-T / P, "-t/p, the derivative with respect to p", ("gradCE_dp",)),
    )
    for candidate, description, hints in candidates:
        if is_close(result, candidate, rtol=1e-6, atol=1e-15):
            raise Failure(f"{got}: yours are {description}", hints)
    raise Failure(got, ("gradCE_values",))


def _loss_of_logits(context: Context,
                    target: Array) -> tuple[Callable[[Array], float], str]:
    """The loss of the logits whose finite differences gradCE must match, and its name."""
    softmax, averageCE = context.lookup("softmax"), context.lookup("averageCE")
    if context.passes("softmax") and context.passes("averageCE"):
        return (lambda z: float(averageCE(target.copy(), softmax(z.copy()))),
                "your own averageCE(target, softmax(z))")
    broken = [name for name in ("softmax", "averageCE") if not context.passes(name)]
    reason = " and ".join(broken) + (" does" if len(broken) == 1 else " do")

    def loss(z: Array) -> float:
        return float(-np.sum(target * log_softmax(z)) / z.shape[0])

    return loss, (f"an independent log-sum-exp cross-entropy, because your {reason} not "
                  f"pass its own check")


def _probabilities(context: Context, z: Array) -> Array:
    """softmax(z) by the student's softmax if it passes its check, else by log-sum-exp."""
    if context.passes("softmax"):
        return np.asarray(context.lookup("softmax")(z.copy()), dtype=np.float64)
    return np.exp(log_softmax(z))
