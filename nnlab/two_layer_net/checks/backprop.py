"""check("backprop"): the gradients' keys and shapes, finite differences of the loss (of
the student's forward and averageCE when they pass their own checks), which mistake a
wrong gradient shows, no change to its arguments or to the cache.

``check_backprop`` is the checker; HINTS holds the hints for the mistakes it recognises and
GENERIC those of them that name no particular mistake.
"""

import copy
from typing import Any, Callable

import numpy as np

from nnlab.checking import (Failure, as_numbers, count_changed, is_about, is_close,
                            quiet_call, scale_of)
from nnlab.checking.engine import Context, Run
from nnlab.testing import GRADIENT_THRESHOLD, describe, relative_error
from nnlab.two_layer_net import PARAM_KEYS, Array, Params
from nnlab.two_layer_net.checks.common import log_softmax, numeric_gradients, tiny_problem
from nnlab.two_layer_net.composition import finite_differences

HINTS = {
    "backprop_not_dict": "backprop must return a dict {'W1': ..., 'b1': ..., 'W2': ..., "
                         "'b2': ...}: the gradient of the loss for each parameter, under the "
                         "parameter's name.",
    "backprop_keys": "the gradients must be stored under the parameters' names 'W1', 'b1', "
                     "'W2', 'b2'.",
    "backprop_transposed": "a weight gradient is transposed: the gradient of a parameter "
                           "always has that parameter's shape, W1 (D, H) and W2 (H, K); "
                           "check the order and the transposes in the product that gives it.",
    "backprop_bias_shape": "a bias gradient must have the bias's shape, (H,) for b1 and (K,) "
                           "for b2: sum over the examples (axis 0), without keepdims.",
    "backprop_double_N": "all gradients are 1/N of the finite differences: backprop divides "
                         "by N although gradCE already did. The 1/N of the average must "
                         "appear exactly once.",
    "backprop_N_times": "all gradients are N times the finite differences: the 1/N of the "
                        "average loss is missing. Start from gradCE(target, P), which "
                        "already divides by N (or divide dL/dZ2 by N once yourself).",
    "backprop_sign": "all gradients have the wrong sign: check the sign of dL/dZ2 "
                     "(prediction minus target).",
    "backprop_bias_mean": "the weight gradients are right but a bias gradient is 1/N of "
                          "the finite differences: sum over the examples, do not average "
                          "(gradCE already divided by N).",
    "backprop_relu": "the layer-2 gradients are right, the layer-1 ones are wrong: check the "
                     "ReLU derivative.",
    "backprop_relu_mask_missing": "the layer-1 gradients are right when every hidden unit is "
                                  "active and wrong otherwise: the ReLU mask is missing. "
                                  "Multiply the gradient reaching the hidden layer by the "
                                  "0/1 mask of Z1 > 0.",
    "backprop_relu_not_mask": "the layer-1 gradients are wrong even when every hidden unit "
                              "is active: ReLU's derivative is the 0/1 mask of Z1 > 0 (1 "
                              "where the unit is active, 0 elsewhere), not the activations H "
                              "or Z1 themselves.",
    "backprop_layer2": "the layer-1 gradients are right but the layer-2 ones are wrong: the "
                       "gradient of W2 uses the hidden activations H = cache['H'] (after "
                       "relu) and dL/dZ2 (was H overwritten by the ReLU mask first?).",
    "backprop_mutates_cache": "backprop changed the cache in place. For example "
                              "`mask = cache['H']` followed by `mask[mask > 0] = 1` "
                              "overwrites the cached activations, because `mask` is the same "
                              "array, not a copy. Build the ReLU mask as a new array, e.g. "
                              "with the comparison Z1 > 0. If cache['P'] changed, look at "
                              "gradCE too: backprop passes it cache['P'] as its prediction, "
                              "and prediction -= target writes into it.",
    "backprop_mutates_input": "backprop changed X, target or params in place: compute new "
                              "arrays.",
    "backprop_fd": "backprop's gradients do not match finite differences of your forward and "
                   "averageCE: run gradient_check(backprop, forward, averageCE) to see the "
                   "worst entries, and check each step of the chain rule against your "
                   "derivation.",
}

# "backprop_fd" names no particular mistake (after a specific hint it is not repeated) and
# is about wrong values (a RuntimeWarning raised on the way is reported with it).
GENERIC = {"backprop_fd"}
VALUE_HINTS = {"backprop_fd"}


def _independent_forward(X: Array, params: Params) -> dict[str, Array]:
    """forward by its formulas (for backprop's check when the student's forward fails)."""
    Z1 = X @ params["W1"] + params["b1"]
    Z2 = np.maximum(Z1, 0.0) @ params["W2"] + params["b2"]
    return {"Z1": Z1, "H": np.maximum(Z1, 0.0), "Z2": Z2, "P": np.exp(log_softmax(Z2))}


def _independent_averageCE(target: Array, prediction: Array) -> float:
    return float(-np.sum(target * np.log(prediction)) / prediction.shape[0])


def _loss_functions(context: Context
                    ) -> tuple[Callable[..., Any], Callable[..., Any], str | None]:
    """(forward, averageCE) for backprop's finite differences: the student's own when both
    pass their checks, else independent ones (with a note saying why)."""
    if context.passes("forward") and context.passes("averageCE"):
        return context.lookup("forward"), context.lookup("averageCE"), None
    broken = [name for name in ("forward", "averageCE") if not context.passes(name)]
    return _independent_forward, _independent_averageCE, (
        f"the finite differences were taken of an independent forward pass and loss, "
        f"because your {' and '.join(broken)} {'does' if len(broken) == 1 else 'do'} not "
        f"pass its own check")


def check_backprop(run: Run, backprop: Callable[..., Any]) -> None:
    """Run the checks of backprop on the student's ``backprop`` (a checker: see
    ``nnlab.checking.engine``)."""
    context = run.context
    forward, averageCE, note = _loss_functions(context)
    if note:
        run.notes.append(note)
    grads = None
    with run.check("backprop returns a dict of gradients with the parameters' shapes"):
        X, target, params = tiny_problem(forward, seed=0)
        cache = forward(X.copy(), copy.deepcopy(params))
        N = X.shape[0]
        args = (X.copy(), target.copy(), copy.deepcopy(params), copy.deepcopy(cache))
        grads = run.call(backprop, *args)
        _backprop_shapes(grads, params)
    if grads is None:
        return
    numeric = numeric_gradients(forward, averageCE, X, target, params)
    with run.check("backprop equals finite differences of averageCE(target, "
                   "forward(X, params)['P']) (N=4, D=5, H=3, K=3, float64)"):
        _backprop_shapes(grads, params)
        grads = {key: np.asarray(grads[key], dtype=np.float64) for key in PARAM_KEYS}
        errors = {key: relative_error(grads[key], numeric[key]) for key in PARAM_KEYS}
        good = {key: bool(np.isfinite(errors[key]) and errors[key] < GRADIENT_THRESHOLD)
                for key in PARAM_KEYS}
        if not all(good.values()):
            got = "relative errors " + ", ".join(f"{key} {errors[key]:.1e}"
                                                 for key in PARAM_KEYS)
            if not _from_own_gradCE(run, grads, X, target, params, cache):
                raise Failure(got, _backprop_mistakes(run, backprop, grads, numeric, good, N))
    with run.check("X, target, params and cache unchanged by backprop"):
        for name, before, after in zip(("X", "target", "params"), (X, target, params),
                                       args[:3]):
            count = count_changed(before, after)
            if count:
                raise Failure(f"{name} was changed in place ({count} entries)",
                               ("backprop_mutates_input",))
        changed = [key for key in cache if count_changed(cache[key], args[3].get(key))]
        if changed:
            raise Failure(", ".join(
                f"cache[{key!r}] was changed in place ({count_changed(cache[key], args[3].get(key))}"
                f" entries)" for key in changed), ("backprop_mutates_cache",))


def _from_own_gradCE(run: Run, grads: Params, X: Array, target: Array, params: Params,
                     cache: dict[str, Any]) -> bool:
    """True if grads are what backprop makes of the student's gradCE, which fails its own
    check (finite differences of sum(G * Z2) with G = gradCE(target, P) fixed)."""
    gradCE = run.context.lookup("gradCE")
    if gradCE is None or run.context.passes("gradCE"):
        return False
    G = quiet_call(gradCE, target.copy(), np.array(cache["P"], dtype=np.float64))
    try:
        G = np.asarray(G, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if G.shape != np.shape(cache["P"]) or not np.isfinite(G).all():
        return False
    own = finite_differences(X, params, lambda Z2: float(np.sum(G * Z2)))
    if not all(relative_error(grads[key], own[key]) < GRADIENT_THRESHOLD for key in PARAM_KEYS):
        return False
    run.notes.append("backprop's gradients are right for the dL/dZ2 your gradCE returns, and "
                     "gradCE does not pass its own check: fix it there (check('gradCE'))")
    return True


def _backprop_shapes(grads: object, params: Params) -> None:
    if grads is None:
        raise Failure("returned None", ("no_return",))
    if not isinstance(grads, dict):
        raise Failure(f"returned {describe(grads)}", ("backprop_not_dict",))
    missing = [key for key in PARAM_KEYS if key not in grads]
    if missing:
        raise Failure(f"the keys {missing} are missing (found {sorted(map(str, grads))})",
                       ("backprop_keys",))
    for key in PARAM_KEYS:
        shape, want = as_numbers(grads[key]).shape, params[key].shape
        if shape == want:
            continue
        got = f"grads[{key!r}] has shape {shape}, expected {want}"
        if key.startswith("W") and shape == want[::-1]:
            raise Failure(got, ("backprop_transposed",))
        raise Failure(got, ("backprop_bias_shape",) if key.startswith("b")
                       else ("shape_error",))


def _backprop_mistakes(run: Run, backprop: Callable[..., Any], grads: Params, numeric: Params,
                       good: dict[str, bool], N: int) -> tuple[str, ...]:
    """Hint keys naming what is wrong with backprop's gradients."""
    scales = {key: scale_of(grads[key], numeric[key]) for key in PARAM_KEYS}
    if all(is_about(scales[key], 1.0 / N) for key in PARAM_KEYS):
        return ("backprop_double_N",)
    if all(is_about(scales[key], float(N)) for key in PARAM_KEYS):
        return ("backprop_N_times",)
    if all(is_about(scales[key], -1.0) for key in PARAM_KEYS):
        return ("backprop_sign",)
    if good["W1"] and good["W2"] and all(good[key] or is_about(scales[key], 1.0 / N)
                                         for key in ("b1", "b2")):
        return ("backprop_bias_mean",)
    if not good["W2"] and is_close(grads["W2"].T, numeric["W2"], rtol=1e-5, atol=1e-9):
        return ("backprop_transposed",)
    if good["W2"] and good["b2"] and not good["b1"]:
        # dL/dZ1 is wrong (b1's gradient sums it): the ReLU's derivative
        return ("backprop_relu", _relu_mistake(run, backprop))
    if good["W1"] and good["b1"]:
        return ("backprop_layer2",)
    return ("backprop_fd",)


def _relu_mistake(run: Run, backprop: Callable[..., Any]) -> str:
    """Layer 1 is wrong: is it right when every hidden unit is active (mask missing)?"""
    forward, averageCE, _ = _loss_functions(run.context)
    X, target, params = tiny_problem(forward, seed=0, all_active=True)
    cache = forward(X.copy(), copy.deepcopy(params))
    grads = quiet_call(backprop, X.copy(), target.copy(), copy.deepcopy(params), cache)
    numeric = numeric_gradients(forward, averageCE, X, target, params)
    try:
        right = all(relative_error(grads[key], numeric[key]) < GRADIENT_THRESHOLD
                    for key in ("W1", "b1"))
    except Exception:  # no usable gradients this time: treat as wrong
        right = False
    return "backprop_relu_mask_missing" if right else "backprop_relu_not_mask"
