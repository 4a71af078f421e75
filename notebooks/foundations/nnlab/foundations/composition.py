"""What fit_l1 and staircase_network are graded on: their own work, whatever the functions
they call do (README: "A mistake costs the tests of its own function").

fit_l1 calls the student's l1_subgradient and l1_loss. ``assert_fit_l1`` accepts its
(w, history) when it is the correct fit (the test gives it), or the fit the notebook's rule
makes of the student's own functions: w_0 = 0, w_{t+1} = w_t - lr / sqrt(t + 1) g_t, where g_t
is what the student's l1_subgradient returned for w_t when fit_l1 called it (from the record
of fit_l1's calls; else the loss's slope), history[t] the loss at w_t (the notebook's mean
absolute error, or what the student's l1_loss returned for w_t), and w the iterate of the
smallest history entry (the first on ties). So a wrong l1_subgradient or l1_loss costs its own
tests, not fit_l1's as well; a fit_l1 that steps the wrong way, forgets the 1/sqrt(t + 1) or
returns the last iterate still fails.

A staircase_network may add up the student's own boxes: ``staircase_of_own_boxes``.

Nothing here holds a solution beyond the loss the notebook defines.
"""

import numpy as np

from nnlab.testing import (as_float_array, assert_close, assert_public, describe, matches,
                           numerical_gradient, recorded_arguments)

ARGUMENTS = ("X", "y", "w")  # of l1_subgradient and l1_loss


def mean_absolute_error(X, y, w):
    """(1/N) sum_n |x_n . w - y_n|, the notebook's loss."""
    return float(np.mean(np.abs(X @ w - y)))


def fit_pair(returned, steps, D):
    """(w, history) of fit_l1's return value, checked for form: w (D,), history (steps + 1,)."""
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                  f"fit_l1 should return the pair (w, history), got {describe(returned)}")
    w, history = (as_float_array(part, name) for part, name in zip(returned, ("w", "history")))
    assert_public(w.shape == (D,), "fit_l1's w should have one weight per column of X")
    assert_public(history.shape == (steps + 1,),
                  "fit_l1's history should hold steps + 1 losses: at w_0, ..., w_steps")
    return w.astype(np.float64), history.astype(np.float64)


class _Calls:
    """A recorded function's calls, searched in order for the one at a given w."""

    WINDOW = 4  # a call at w_t is looked for among the next few calls only

    def __init__(self, recording, name):
        self.calls = [call for call in recording["calls"] if call["name"] == name]
        self.position = 0

    def result_at(self, X, y, w):
        """The result of the next call made at (X, y, w) (after the last one found), or None."""
        for index in range(self.position, min(self.position + self.WINDOW, len(self.calls))):
            try:
                at = recorded_arguments(self.calls[index], ARGUMENTS)
            except AssertionError:  # called with other arguments: not a call at w
                continue
            if matches(at["w"], w, rtol=1e-7, atol=1e-9) and matches(at["X"], X) \
                    and matches(at["y"], y):
                self.position = index + 1
                return self.calls[index]["result"]
        return None


def own_fit(X, y, lr, steps, history, recording):
    """(iterates, expected history, the recorded values used) of the notebook's rule on what
    the student's own l1_subgradient and l1_loss returned when fit_l1 called them (where it
    did not call them at w_t: the loss computed here, and its slope by centred differences,
    which is 0 for a residual exactly 0), or None when l1_subgradient returned no finite
    vector of w's shape."""
    gradients, losses = _Calls(recording, "l1_subgradient"), _Calls(recording, "l1_loss")
    w, iterates, expected, used = np.zeros(X.shape[1]), [], [], []
    for t in range(steps + 1):
        iterates.append(w)
        loss = mean_absolute_error(X, y, w)
        if not matches(history[t], loss, atol=1e-9):
            mine = losses.result_at(X, y, w)
            if mine is not None and matches(history[t], mine, rtol=1e-9, atol=1e-9):
                loss = float(history[t])  # the student's l1_loss gave it
                used.append(("l1_loss", w, mine))
        expected.append(loss)
        if t == steps:
            break
        g = gradients.result_at(X, y, w)
        if g is None:  # not called at w_t: the loss's slope, sign(0) = 0 at a kink
            g = numerical_gradient(lambda v: mean_absolute_error(X, y, v), w.copy())
        else:
            used.append(("l1_subgradient", w, g))
        if np.shape(g) != w.shape or not matches(g, g, finite=True):
            return None
        w = w - lr / np.sqrt(t + 1) * np.asarray(g, dtype=np.float64)
    return iterates, np.array(expected), used


def fit_of_own_functions(student, X, y, lr, steps, returned):
    """True if fit_l1's (w, history) is the notebook's rule on the student's own
    l1_subgradient and l1_loss (fit_l1 is run again, recording its calls to them)."""
    w, history = fit_pair(returned, steps, X.shape[1])
    if not np.isfinite(history).all():
        return False
    _, recording = student.record({"l1_subgradient": "all", "l1_loss": "all"}, "fit_l1",
                                  X, y, lr, steps)
    fit = None if recording["truncated"] else own_fit(X, y, lr, steps, history, recording)
    if fit is None:
        return False
    iterates, expected, used = fit
    if not (matches(history, expected, rtol=1e-9, atol=1e-9)
            and matches(w, iterates[int(np.argmin(history))], rtol=1e-9, atol=1e-9)):
        return False
    # the record comes from the student's process: a few of its values, asked again
    for name, at, value in [used[i] for i in sorted({0, len(used) // 2, len(used) - 1})
                            if used]:
        if not matches(student.attempt(name, X, y, at), value, rtol=1e-9, atol=1e-12):
            return False
    return True


def assert_fit_l1(student, X, y, lr, steps, returned, expected, hide_values=False):
    """Assert fit_l1's return value for (X, y, lr, steps): the correct fit, or the notebook's
    rule on the student's own l1_subgradient and l1_loss (module docstring).

    Inputs:
    - student: the student object of the test
    - X, y, lr, steps: what fit_l1 was given
    - returned: what fit_l1 returned
    - expected: (w, history) of the correct fit (the notebook's numbers, or the reference's)
    - hide_values: hidden tests: messages without numbers (PublicFailure)
    """
    w, history = fit_pair(returned, steps, X.shape[1])
    right_w, right_history = expected
    if matches(history, right_history, atol=1e-9) and matches(w, right_w, atol=1e-9):
        return
    if fit_of_own_functions(student, X, y, lr, steps, returned):
        return
    assert_close(history, right_history, f"history after {steps} steps (the loss at w_0, "
                 f"..., w_{steps})", atol=1e-9, hide_values=hide_values)
    assert_close(w, right_w, f"w (the iterate of the smallest loss among w_0, ..., w_{steps})",
                 atol=1e-9, hide_values=hide_values)


def staircase_of_own_boxes(student, B, heights, x):
    """The output at x of the student's own boxes, box_network(x_i, x_{i+1}, heights[i]) for
    the n pieces [x_i, x_{i+1}) of [-B, B), added up: what a staircase_network built from the
    student's box_network gives (None when box_network raises or returns no network).

    staircase_network is accepted when it gives this, so that a wrong box_network costs its
    own tests only; a staircase with the wrong pieces or heights still fails."""
    from nnlab.foundations.networks import one_hidden_layer
    edges = np.linspace(-B, B, len(heights) + 1)
    total = np.zeros(np.shape(x))
    for left, right, height in zip(edges[:-1], edges[1:], heights):
        box = student.attempt("box_network", float(left), float(right), float(height))
        try:
            total = total + one_hidden_layer(x, box)
        except (TypeError, ValueError, KeyError, AttributeError):  # not a network
            return None
    return total


def staircase_is_own_boxes(student, B, heights, params, x):
    """True if the staircase ``params`` gives, at x, what the student's own boxes add up to."""
    from nnlab.foundations.networks import one_hidden_layer
    own = staircase_of_own_boxes(student, B, heights, x)
    return own is not None and matches(one_hidden_layer(x, params), own, atol=1e-9,
                                       finite=True)


# What fit_l1 calls, by the notebook's formulas, with a probe each: one that raises, returns
# a wrong shape, NaN or modifies its input is stood in while fit_l1 is graded (nnlab.stand_ins).
def _l1_probe(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, w) with one residual exactly 0 (x_0 = e_0, y_0 = w_0: exact in any order of
    summation), the kink fit_l1 meets at w_0 = 0 when some y_n = 0: a subgradient that
    divides by |residual| gives NaN there."""
    X, y, w = rng.normal(size=(7, 3)), rng.normal(size=7), rng.normal(size=3)
    X[0] = (1.0, 0.0, 0.0)
    y[0] = w[0]
    return X, y, w


STAND_INS = {
    "l1_loss": (lambda X, y, w: float(np.mean(np.abs(X @ w - y))), _l1_probe),
    "l1_subgradient": (lambda X, y, w: X.T @ np.sign(X @ w - y) / X.shape[0], _l1_probe),
}
