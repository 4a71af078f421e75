"""Self-checks of sections 3 and 4: the softmax Jacobian and the L1 linear model.

Same engine as ``checks.graph``: ``with run.check("what"):`` blocks, ``run.call`` for
student code, ``Failure(got, hints)`` naming keys of HINTS.
"""

import numpy as np

from nnlab.checking import Failure, as_numbers, count_changed, is_close, worst_entry
from nnlab.foundations import handout
from nnlab.foundations.demos import line_with_outliers
from nnlab.testing import describe

HINTS = {
    # softmax_jacobian
    "softmax_jacobian_values": "J[i, j] = dy_i / dz_j = y_i (delta_ij - y_j): y_i (1 - y_i) "
                               "on the diagonal and -y_i y_j off it.",
    "jacobian_sign": "the signs are flipped: raising z_i raises y_i, so the diagonal "
                     "y_i (1 - y_i) is positive, and it lowers every other y_j, so the "
                     "off-diagonal entries -y_i y_j are negative.",
    "jacobian_plus": "the off-diagonal entries are -y_i y_j (a minus sign is missing): raising "
                     "one logit takes probability away from all the others. Each row of J "
                     "must sum to 0.",
    "jacobian_off_diagonal": "only the diagonal is filled: y_i depends on every z_j through "
                             "the denominator, so J[i, j] = -y_i y_j for i != j.",
    "jacobian_outer": "y_i y_j is an outer product, a (K, K) matrix: y * y (or y ** 2) is "
                      "elementwise, shape (K,), and broadcasts along the wrong axis. Use "
                      "np.outer(y, y), or y[:, None] * y[None, :].",
    "jacobian_of_probabilities": "softmax_jacobian receives the probabilities y = softmax(z), "
                                 "not the logits: do not apply softmax to y again.",
    "jacobian_shape": "for y of shape (K,) the Jacobian has shape (K, K): one row per output "
                      "y_i, one column per logit z_j.",
    "jacobian_batch": "for a batch y of shape (N, K) return (N, K, K), J[n] being the "
                      "Jacobian of row n. np.diag and np.outer work on one vector only (np.diag "
                      "of a matrix extracts its diagonal): loop over the rows, or broadcast "
                      "with y[:, :, None] and y[:, None, :].",
    "jacobian_inplace": "softmax_jacobian changed y in place: compute into new arrays.",
    # l1_loss
    "l1_loss_values": "the L1 loss is (1/N) sum_n |x_n . w - y_n|: the residuals X w - y, "
                      "their absolute values, averaged over the N examples.",
    "l1_loss_sum": "the absolute residuals are summed but not divided by N: the loss is "
                   "their mean.",
    "l1_loss_squared": "the residuals are squared: that is least squares (L2). The L1 loss "
                       "takes their absolute values.",
    "l1_loss_abs": "the absolute value is missing: positive and negative residuals cancel.",
    "l1_loss_not_scalar": "return one number (a float), the mean over all examples, not one "
                          "value per example.",
    "l1_inplace": "your function changed X, y or w in place: compute new arrays.",
    # l1_subgradient
    "l1_subgradient_values": "the subgradient is (1/N) X^T sign(X w - y), with sign(0) = 0: "
                             "shape (D,), one entry per weight.",
    "l1_sign_zero": "where a residual is exactly 0, |r| has no slope and this course takes 0 "
                    "(np.sign(0) is 0). np.where(r > 0, 1, -1) or (r >= 0) * 2 - 1 give "
                    "+-1 there, so a perfect fit would be moved away from.",
    "l1_sign_zero_nan": "r / np.abs(r) is 0 / 0 = NaN where a residual is 0: use np.sign(r), "
                        "which gives 0 there.",
    "l1_subgradient_mean": "divide by N: the loss is a mean over the examples, so its "
                           "subgradient is one too.",
    "l1_subgradient_sign": "the sign is flipped: the derivative of |x . w - y| with respect "
                           "to w is sign(x . w - y) x, not sign(y - x . w) x.",
    "l1_subgradient_l2": "that is the gradient of the squared error, which uses the residuals "
                         "themselves; the L1 loss's subgradient only uses their signs.",
    "l1_subgradient_shape": "return one entry per weight, shape (D,): X^T (D, N) times the "
                            "signs (N,), not one entry per example.",
    # fit_l1
    "fit_l1_values": "follow the docstring: w_0 = 0, w_{t+1} = w_t - lr / sqrt(t + 1) * "
                     "l1_subgradient(X, y, w_t), history[t] = l1_loss(X, y, w_t), and return "
                     "the w with the smallest loss.",
    "fit_return": "fit_l1 must return the pair (w, history): w of shape (D,), history of "
                  "shape (steps + 1,).",
    "fit_history_length": "history holds steps + 1 losses: the loss at the start w_0 = 0, "
                          "then one after each step.",
    "fit_start": "start from w_0 = 0 (np.zeros(D)): history[0] is the loss there, the mean of "
                 "|y|.",
    "fit_uphill": "the loss goes up after the first step: move against the subgradient, "
                  "w <- w - step * g.",
    "fit_constant_step": "the step size stays lr: at step t (counting from 0) it is "
                         "lr / sqrt(t + 1), so that the steps shrink.",
    "fit_step_schedule": "the step size at step t (counting from 0) is lr / sqrt(t + 1), not "
                         "lr / (t + 1).",
    "fit_last_iterate": "w is the last iterate, not the best: a subgradient step can raise "
                        "the loss, so keep the w with the smallest loss seen (the first on "
                        "ties) and return that one.",
}


def _softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def _numeric_jacobian(z, h=1e-6):
    columns = [(_softmax(z + h * e) - _softmax(z - h * e)) / (2 * h) for e in np.eye(z.size)]
    return np.stack(columns, axis=1)


def _check_softmax_jacobian(run, softmax_jacobian):
    y = handout.JACOBIAN_PROBABILITIES
    with run.check("softmax_jacobian([0.5, 0.3, 0.2]), the notebook's 3x3 matrix"):
        given = y.copy()
        _jacobian_verdict(as_numbers(run.call(softmax_jacobian, given)), y, handout.JACOBIAN)
        if count_changed(y, given):
            raise Failure("y was changed in place", ("jacobian_inplace",))
    z = np.array([0.3, -1.2, 2.0, 0.7, -0.4])
    with run.check("softmax_jacobian(softmax(z)) equals finite differences of softmax, K=5"):
        J = as_numbers(run.call(softmax_jacobian, _softmax(z)))
        _jacobian_verdict(J, _softmax(z), _numeric_jacobian(z))
    Z = np.array([[1.0, -0.5, 0.2, 0.0], [-2.0, 0.3, 0.3, 1.1], [0.6, 0.6, -0.9, 2.2]])
    with run.check("softmax_jacobian of a batch (3, 4) gives (3, 4, 4), one J per row"):
        Y = np.array([_softmax(row) for row in Z])
        J = as_numbers(run.call(softmax_jacobian, Y, hints=("jacobian_batch",)))
        expected = np.stack([_numeric_jacobian(row) for row in Z])
        if J.shape != expected.shape:
            raise Failure(f"shape {J.shape}, expected {expected.shape}", ("jacobian_batch",))
        if not is_close(J, expected, rtol=1e-5, atol=1e-9):
            single = run.passed == 2  # the vector checks passed: the batch handling is wrong
            raise Failure(worst_entry(J, expected),
                           ("jacobian_batch",) if single else ("softmax_jacobian_values",))


def _jacobian_verdict(J, y, expected):
    if J.shape != expected.shape:
        raise Failure(f"shape {J.shape} for y of shape {y.shape}", ("jacobian_shape",))
    if is_close(J, expected, rtol=1e-5, atol=1e-9):
        return
    outer, diagonal, s = np.outer(y, y), np.diag(y), _softmax(y)
    variants = {
        "jacobian_sign": [outer - diagonal],
        "jacobian_plus": [diagonal + outer],
        "jacobian_off_diagonal": [np.diag(y * (1 - y))],
        "jacobian_outer": [diagonal - y[None, :] ** 2, diagonal - y[:, None] ** 2],
        "jacobian_of_probabilities": [np.diag(s) - np.outer(s, s)],
    }
    got = worst_entry(J, expected)
    sums = J.astype(np.float64) @ np.ones(y.size)
    if np.all(np.isfinite(sums)) and np.max(np.abs(sums)) > 1e-9:
        got += f"; J @ ones is {np.array2string(sums, precision=4)}, not 0"
    for hint, candidates in variants.items():
        if any(is_close(J, candidate, rtol=1e-5, atol=1e-9) for candidate in candidates):
            raise Failure(got, (hint,))
    raise Failure(got, ("softmax_jacobian_values",))


def _check_l1_loss(run, l1_loss):
    X, y = handout.L1_X, handout.L1_Y
    for w, expected in ((handout.L1_W, handout.L1_LOSS), (np.array([2.0, 0.0]), 2.25)):
        with run.check(f"l1_loss on the notebook's four points at w = {w.tolist()}, "
                       f"which is {expected}"):
            given = (X.copy(), y.copy(), w.copy())
            value = run.call(l1_loss, *given)
            _loss_verdict(value, X @ w - y, expected)
            if any(count_changed(a, b) for a, b in zip((X, y, w), given)):
                raise Failure("an argument was changed in place", ("l1_inplace",))


def _loss_verdict(value, residuals, expected):
    if value is None:
        raise Failure("returned None", ("no_return",))
    array = as_numbers(value)
    if array.shape != ():
        raise Failure(f"returned {describe(value)}", ("l1_loss_not_scalar",))
    if abs(float(array) - expected) <= 1e-9:
        return
    variants = {"l1_loss_sum": np.sum(np.abs(residuals)),
                "l1_loss_squared": np.mean(residuals ** 2),
                "l1_loss_abs": np.mean(residuals)}
    variants["l1_loss_root"] = np.sqrt(variants["l1_loss_squared"])
    for hint, candidate in variants.items():
        if abs(float(array) - candidate) <= 1e-9:
            raise Failure(f"returned {float(array):.6g}, expected {expected}",
                           ("l1_loss_squared",) if hint == "l1_loss_root" else (hint,))
    raise Failure(f"returned {float(array):.6g}, expected {expected}", ("l1_loss_values",))


def _check_l1_subgradient(run, l1_subgradient):
    X, y, w = handout.L1_X, handout.L1_Y, handout.L1_W
    with run.check("l1_subgradient on the notebook's four points, which is [0, -0.25]"):
        given = (X.copy(), y.copy(), w.copy())
        g = run.call(l1_subgradient, *given)
        _subgradient_verdict(g, X, y, w, handout.L1_SUBGRADIENT)
        if any(count_changed(a, b) for a, b in zip((X, y, w), given)):
            raise Failure("an argument was changed in place", ("l1_inplace",))
    with run.check("l1_subgradient is 0 at a perfect fit (every residual 0)"):
        w = np.array([-1.0, 0.5])
        g = run.call(l1_subgradient, X, X @ w, w)
        _subgradient_verdict(g, X, X @ w, w, np.zeros(2))
    with run.check("l1_subgradient equals finite differences of the loss away from kinks"):
        rng = np.random.default_rng(7)
        X, y, w = rng.normal(size=(9, 3)), rng.normal(size=9), rng.normal(size=3)
        numeric = np.array([(np.mean(np.abs(X @ (w + 1e-6 * e) - y))
                             - np.mean(np.abs(X @ (w - 1e-6 * e) - y))) / 2e-6
                            for e in np.eye(3)])
        _subgradient_verdict(run.call(l1_subgradient, X, y, w), X, y, w, numeric)


def _subgradient_verdict(g, X, y, w, expected):
    array = as_numbers(g)
    got = f"returned {np.array2string(array, precision=4)}, expected " \
          f"{np.array2string(expected, precision=4)}"
    if array.shape != expected.shape:
        raise Failure(f"shape {array.shape}, expected {expected.shape}",
                       ("l1_subgradient_shape",))
    if not np.all(np.isfinite(array)):
        raise Failure(got, ("l1_sign_zero_nan",))
    if is_close(array, expected, rtol=1e-5, atol=1e-9):
        return
    residuals, N = X @ w - y, X.shape[0]
    for scale, flip, zero in [(s, f, z) for s in (1 / N, 1.0) for f in (1, -1)
                              for z in (0.0, 1.0, -1.0)]:
        signs = np.where(residuals == 0, zero, np.sign(residuals))
        if is_close(array, scale * flip * (X.T @ signs), rtol=1e-5, atol=1e-9):
            hints = (("l1_sign_zero",) if zero else ()) + \
                (("l1_subgradient_sign",) if flip < 0 else ()) + \
                (("l1_subgradient_mean",) if scale == 1.0 else ())
            raise Failure(got, hints or ("l1_subgradient_values",))
    if any(is_close(array, factor * (X.T @ residuals), rtol=1e-5, atol=1e-9)
           for factor in (1 / N, 2 / N, 1.0, 2.0)):
        raise Failure(got, ("l1_subgradient_l2",))
    raise Failure(got, ("l1_subgradient_values",))


def _check_fit_l1(run, fit_l1):
    X, y = handout.FIT_X, handout.FIT_Y
    with run.check("fit_l1 on X = ones((3, 1)), y = [0, 1, 5], lr = 1.2, steps = 3"):
        given = (X.copy(), y.copy())
        w, history = _pair(run.call(fit_l1, *given, handout.FIT_LR, handout.FIT_STEPS))
        _history_verdict(history, handout.FIT_HISTORY)
        if not is_close(w, handout.FIT_W, rtol=1e-6, atol=1e-9):
            last = is_close(w, handout.FIT_ITERATES[-1], rtol=1e-6, atol=1e-9)
            raise Failure(f"w is {np.array2string(w, precision=6)}, expected "
                           f"{np.array2string(handout.FIT_W, precision=6)} (w_2, the best)",
                           ("fit_last_iterate",) if last else ("fit_l1_values",))
        if any(count_changed(a, b) for a, b in zip((X, y), given)):
            raise Failure("X or y was changed in place", ("l1_inplace",))
    X, y = line_with_outliers(n=30, outliers=4, seed=11)
    with run.check("fit_l1 on 30 points with 4 outliers (300 steps) returns its best w"):
        w, history = _pair(run.call(fit_l1, X, y, 0.5, 300))
        if history.shape != (301,):
            raise Failure(f"history has shape {history.shape}, expected (301,)",
                           ("fit_history_length",))
        if w.shape != (2,):
            raise Failure(f"w has shape {w.shape}, expected (2,)", ("fit_return",))
        loss = float(np.mean(np.abs(X @ w - y)))
        if abs(loss - np.min(history)) > 1e-9 * max(1.0, loss):
            last = abs(loss - history[-1]) <= 1e-9 * max(1.0, loss)
            raise Failure(f"the loss of w is {loss:.6g}, the smallest in history "
                           f"{np.min(history):.6g}",
                           ("fit_last_iterate",) if last else ("fit_l1_values",))


def _pair(returned):
    if returned is None:
        raise Failure("returned None", ("no_return",))
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        raise Failure(f"returned {describe(returned)}", ("fit_return",))
    return as_numbers(returned[0]).astype(np.float64), as_numbers(returned[1]).astype(np.float64)


def _history_verdict(history, expected):
    if history.shape != expected.shape:
        hint = "fit_history_length" if history.ndim == 1 else "fit_return"
        raise Failure(f"history has shape {history.shape}, expected {expected.shape}",
                       (hint,))
    if is_close(history, expected, rtol=1e-6, atol=1e-9):
        return
    got = (f"history is {np.array2string(history, precision=5)}, expected "
           f"{np.array2string(expected, precision=5)}")
    if abs(history[0] - expected[0]) > 1e-9:
        raise Failure(got, ("fit_start",))
    if history[1] > history[0]:
        raise Failure(got, ("fit_uphill",))
    if abs(history[2] - 1.7333333333333334) <= 1e-6:
        raise Failure(got, ("fit_constant_step",))
    if abs(history[2] - 1.6666666666666667) <= 1e-6:
        raise Failure(got, ("fit_step_schedule",))
    raise Failure(got, ("fit_l1_values",))


CHECKERS = {
    "softmax_jacobian": _check_softmax_jacobian,
    "l1_loss": _check_l1_loss,
    "l1_subgradient": _check_l1_subgradient,
    "fit_l1": _check_fit_l1,
}
