"""check("averageCE"): the handout's batch (9.4518), a batch of 4 examples and one with
probabilities of exactly 0 for classes that are not the target; a wrong formula students
often write is recognised by the number it gives.

``check_averageCE`` is the checker; HINTS holds the hints for the mistakes it recognises.
"""

from typing import Any, Callable

import numpy as np

from nnlab.checking import Failure, as_numbers, check_unchanged
from nnlab.checking.engine import Run
from nnlab.testing import describe
from nnlab.two_layer_net import handout

HINTS = {
    "averageCE_values": "averageCE = -(1/N) * sum over examples n and classes k of "
                        "t_nk * log(p_nk): the mean over the N examples of each example's "
                        "cross-entropy.",
    "averageCE_not_scalar": "averageCE must return one number (a float): sum over the "
                            "classes and average over the examples, not an array per "
                            "example or per entry.",
    "averageCE_mean_over_NK": "averageCE averages over all N*K entries (np.mean of the "
                              "(N, K) array), which also divides by K: the loss is K times "
                              "too small. Sum over the classes and divide by the number of "
                              "examples N only.",
    "averageCE_sign": "the minus sign is missing: log p <= 0, so the cross-entropy "
                      "-(1/N) sum t log p is positive (the handout prints its formula "
                      "without the minus sign).",
    "averageCE_epsilon": "averageCE adds an epsilon inside the log (or clips p with one), "
                         "e.g. log(p + 1e-5): the handout batch has a target probability of "
                         "1.2e-06, so this changes its loss (9.4518 is right). Use log(p) "
                         "as it is; to guard against log(0) use a floor far below any real "
                         "probability, such as 1e-300.",
    "averageCE_sum": "averageCE sums over the batch without dividing by N: it must be the "
                     "average over the N examples.",
    "averageCE_divide_by_K": "averageCE divides by K, the number of classes "
                             "(prediction.shape[1]), instead of N, the number of examples "
                             "(prediction.shape[0]).",
    "averageCE_log_base": "use the natural logarithm np.log, not np.log10 or np.log2.",
    "averageCE_ignores_target": "averageCE must use the target: only the log-probability of "
                                "each example's target class counts (multiply log p by the "
                                "one-hot target before summing).",
    "averageCE_binary": "this is the multi-class cross-entropy -(1/N) sum t log p: there is "
                        "no (1 - t) log(1 - p) term (that is the binary cross-entropy).",
    "averageCE_zero_probability": "averageCE gives NaN (or inf) when a class that is not the "
                                  "target has probability exactly 0, as softmax gives for a "
                                  "far-off logit: 0 * log(0) is 0 * -inf = NaN in NumPy. "
                                  "Take the log of the target class's probability only "
                                  "(e.g. prediction[np.arange(N), labels]), or floor p far "
                                  "below any real probability first: np.log(np.maximum(p, "
                                  "1e-300)).",
    "averageCE_inplace": "averageCE changed one of its arguments in place (e.g. "
                         "prediction += 1e-5 or np.log(prediction, out=prediction)): compute "
                         "into new arrays.",
}


def check_averageCE(run: Run, averageCE: Callable[..., Any]) -> None:
    """Run the checks of averageCE on the student's ``averageCE`` (a checker: see
    ``nnlab.checking.engine``)."""
    T, P = handout.BATCH_TARGETS, handout.BATCH_PROBABILITIES
    with run.check("averageCE(handout batch of 3), which is 9.4518"):
        result = run.call(averageCE, T.copy(), P.copy())
        _averageCE_verdict(result, handout.BATCH_LOSS, T, P)
    # N=4, K=6: the target probabilities are 0.5, 0.25, 0.125 and 0.75
    T2 = np.eye(6)[[0, 3, 1, 5]]
    P2 = np.array([[0.5, 0.2, 0.1, 0.1, 0.05, 0.05], [0.25, 0.25, 0.2, 0.25, 0.025, 0.025],
                   [0.375, 0.125, 0.25, 0.125, 0.0625, 0.0625],
                   [0.05, 0.05, 0.05, 0.05, 0.05, 0.75]])
    loss2 = -(np.log(0.5) + np.log(0.25) + np.log(0.125) + np.log(0.75)) / 4
    with run.check("averageCE for N=4 examples of K=6 classes"):
        result = run.call(averageCE, T2.copy(), P2.copy())
        _averageCE_verdict(result, loss2, T2, P2)
    # exactly 0 where the target is 0: the loss is that of the target classes alone
    P3 = np.array([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75]])
    T3 = np.eye(3)[[0, 2]]
    loss3 = -(np.log(0.5) + np.log(0.75)) / 2
    with run.check("averageCE with probabilities of exactly 0 for classes that are not the "
                   "target"):
        value = as_numbers(run.call(averageCE, T3.copy(), P3.copy()))
        if value.ndim == 0 and not np.isfinite(float(value)):
            raise Failure(f"got {float(value)}, expected {loss3:.8g}",
                          ("averageCE_zero_probability",))
        _averageCE_verdict(value, loss3, T3, P3)
    with run.check("target and prediction unchanged by averageCE"):
        args = (T.copy(), P.copy())
        run.call(averageCE, *args)
        check_unchanged(("target", "prediction"), (T, P), args, "averageCE_inplace")


def _averageCE_verdict(result: object, expected: float, T: np.ndarray, P: np.ndarray) -> None:
    value = as_numbers(result)
    if value.ndim != 0:
        raise Failure(f"returned {describe(value)}", ("averageCE_not_scalar",))
    value = float(value.reshape(()))
    if np.isfinite(value) and abs(value - expected) <= 1e-6 * abs(expected):
        return
    got = f"got {value:.8g}, expected {expected:.8g}"
    if not np.isfinite(value):
        raise Failure(got, ("averageCE_values",))
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 of zero probabilities
        matched = _averageCE_mistakes(value, T, P, expected)
    if matched is not None:
        description, hints = matched
        raise Failure(f"{got} (which is {description})", hints)
    raise Failure(got, ("averageCE_values",))


def _averageCE_mistakes(value: float, T: np.ndarray, P: np.ndarray,
                        expected: float) -> tuple[str, tuple[str, ...]] | None:
    """(description, hint keys) of a known wrong formula giving value, or None."""
    N, K = T.shape
    p_target = P[T.astype(bool)]
    inner: list[tuple[float, str, tuple[str, ...]]] = [(expected, "the cross-entropy", ())]
    for eps in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10):
        inner.append((-np.sum(np.log(p_target + eps)) / N,
                      f"the cross-entropy with log(p + {eps:g})", ("averageCE_epsilon",)))
        inner.append((-np.sum(np.log(np.maximum(p_target, eps))) / N,
                      f"the cross-entropy with p clipped at {eps:g}", ("averageCE_epsilon",)))
    inner.append((expected / np.log(10.0), "the cross-entropy with log10",
                  ("averageCE_log_base",)))
    inner.append((expected / np.log(2.0), "the cross-entropy with log2",
                  ("averageCE_log_base",)))
    inner.append((-np.sum(np.log(P)) / N, "-(1/N) times the sum of log p over all entries, "
                  "target or not", ("averageCE_ignores_target",)))
    inner.append((expected - np.sum((1 - T) * np.log(1 - P)) / N,
                  "the binary cross-entropy", ("averageCE_binary",)))
    scales = [(1.0, "", ()), (1.0 / K, "divided by N*K", ("averageCE_mean_over_NK",)),
              (float(N), "not divided by N", ("averageCE_sum",)),
              (N / K, "divided by K instead of N", ("averageCE_divide_by_K",))]
    for sign, sign_text, sign_hints in ((1.0, "", ()),
                                        (-1.0, "without the minus sign", ("averageCE_sign",))):
        for base, base_text, base_hints in inner:
            for factor, scale_text, scale_hints in scales:
                hints = sign_hints + scale_hints + base_hints
                if not hints:
                    continue
                candidate = sign * factor * base
                if abs(value - candidate) <= 1e-6 * abs(candidate):
                    text = ", ".join(t for t in (base_text, scale_text, sign_text) if t)
                    return text, hints
    return None
