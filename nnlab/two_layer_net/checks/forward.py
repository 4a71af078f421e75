"""check("forward"): the cache's keys and shapes, then each array from the one before it
(by the formula, or by the student's own compute_layer, relu or softmax), no change to X
or params.

``check_forward`` is the checker; HINTS holds the hints for the mistakes it recognises and
GENERIC those of them that name no particular mistake.
"""

import copy

from typing import Any, Callable

import numpy as np

from nnlab.checking import (Failure, as_numbers, check_unchanged, count_changed, is_close,
                            quiet_call, worst_entry)
from nnlab.checking.engine import Run
from nnlab.testing import describe
from nnlab.two_layer_net import CACHE_KEYS, PARAM_KEYS
from nnlab.two_layer_net.checks.common import log_softmax, random_params

HINTS = {
    "forward_not_dict": "forward must return a dict, the cache {'Z1': ..., 'H': ..., "
                        "'Z2': ..., 'P': ...}, not a tuple or an array.",
    "forward_keys": "the cache must hold the keys 'Z1', 'H', 'Z2' and 'P' (case matters): "
                    "backprop and the tests read them by these names.",
    "forward_shapes": "cache shapes: Z1 and H are (N, H), Z2 and P are (N, K).",
    "forward_Z1": "cache['Z1'] must be the first layer's pre-activation, "
                  "compute_layer(X, W1, b1).",
    "forward_Z1_after_relu": "cache['Z1'] holds the activation after relu: keep the "
                             "pre-activation in 'Z1' and relu(Z1) in 'H' (backprop needs "
                             "both).",
    "forward_relu_missing": "cache['H'] equals cache['Z1']: relu is not applied; H = relu(Z1).",
    "forward_H": "cache['H'] must be relu(cache['Z1']).",
    "forward_layer2_input": "the second layer is applied to Z1 instead of H = relu(Z1).",
    "forward_Z2": "cache['Z2'] must be the second layer's pre-activation (the logits), "
                  "computed from H with W2 and b2.",
    "forward_softmax_missing": "cache['P'] equals cache['Z2']: apply softmax to the logits, "
                               "P = softmax(Z2).",
    "forward_P": "cache['P'] must be softmax(cache['Z2']): each row positive and summing to 1.",
    "forward_inplace": "forward changed X or params in place: compute new arrays.",
}

# Hints that name no particular mistake: after a specific one they are not repeated.
GENERIC = {"forward_P", "forward_H", "forward_Z1", "forward_Z2"}


def check_forward(run: Run, forward: Callable[..., Any]) -> None:
    """forward's own work: each cache array from the one before it, by the formula or by
    the student's own compute_layer, relu or softmax (whose mistakes their checks report)."""
    rng = np.random.default_rng(17)
    N, D, H, K = 5, 6, 4, 3
    X = rng.normal(size=(N, D))
    params = random_params(rng, D, H, K)
    W1, b1, W2, b2 = (params[key] for key in PARAM_KEYS)
    cache = None
    with run.check("forward(X, params) returns a dict with the keys Z1, H, Z2, P"):
        cache = run.call(forward, X.copy(), copy.deepcopy(params))
        if not isinstance(cache, dict):
            raise Failure(f"returned {describe(cache)}",
                           ("no_return",) if cache is None else ("forward_not_dict",))
        missing = [key for key in CACHE_KEYS if key not in cache]
        if missing:
            raise Failure(f"the keys {missing} are missing (found {sorted(map(str, cache))})",
                           ("forward_keys",))
    if not isinstance(cache, dict) or any(key not in cache for key in CACHE_KEYS):
        return
    arrays = {}
    with run.check(f"cache shapes for N={N}, D={D}, H={H}, K={K}"):
        for key, shape in (("Z1", (N, H)), ("H", (N, H)), ("Z2", (N, K)), ("P", (N, K))):
            arrays[key] = as_numbers(cache[key]).astype(np.float64)
            if arrays[key].shape != shape:
                raise Failure(f"cache[{key!r}] has shape {arrays[key].shape}, expected "
                               f"{shape}", ("forward_shapes",))
    if len(arrays) < 4:
        return
    Z1, Hidden, Z2, P = (arrays[key] for key in CACHE_KEYS)
    with run.check("cache['Z1'] is compute_layer(X, W1, b1)"):
        expected = X @ W1 + b1
        if not is_close(Z1, expected, rtol=1e-9) \
                and not _own(run, "cache['Z1']", Z1, "compute_layer", X, W1, b1) \
                and not _own(run, "cache['Z1']", Z1, "relu", expected, modifies=True):
            got = worst_entry(Z1, expected)
            if is_close(Z1, np.where(expected > 0, expected, 0.0), rtol=1e-9):
                raise Failure(got, ("forward_Z1_after_relu",))
            raise Failure(got, ("forward_Z1",))
    with run.check("cache['H'] is relu(cache['Z1'])"):
        expected = np.where(Z1 > 0, Z1, 0.0)
        if not is_close(Hidden, expected, rtol=1e-12) \
                and not _own(run, "cache['H']", Hidden, "relu", Z1):
            raise Failure(worst_entry(Hidden, expected), ("forward_relu_missing",)
                           if is_close(Hidden, Z1) else ("forward_H",))
    with run.check("cache['Z2'] is compute_layer(cache['H'], W2, b2)"):
        expected = Hidden @ W2 + b2
        if not is_close(Z2, expected, rtol=1e-9) \
                and not _own(run, "cache['Z2']", Z2, "compute_layer", Hidden, W2, b2) \
                and not _own(run, "cache['Z2']", Z2, "softmax", expected, modifies=True):
            raise Failure(worst_entry(Z2, expected), ("forward_layer2_input",)
                           if is_close(Z2, Z1 @ W2 + b2, rtol=1e-9) else ("forward_Z2",))
    with run.check("cache['P'] is softmax(cache['Z2']), rows summing to 1"):
        expected = np.exp(log_softmax(Z2))
        if not is_close(P, expected, rtol=1e-9, atol=1e-15) \
                and not _own(run, "cache['P']", P, "softmax", Z2):
            raise Failure(worst_entry(P, expected), ("forward_softmax_missing",)
                           if is_close(P, Z2) else ("forward_P",))
    with run.check("X and params unchanged by forward"):
        args = (X.copy(), copy.deepcopy(params))
        run.call(forward, *args)
        check_unchanged(("X", "params"), (X, params), args, "forward_inplace")


def _own(run: Run, what: str, actual: np.ndarray, name: str, *args: np.ndarray,
         modifies: bool = False) -> bool:
    """True if ``actual`` is what the student's own ``name`` gives for args (with
    ``modifies``: what it leaves of its first argument, when it changes it); a note then
    says so when that function fails its own check."""
    function = run.context.lookup(name)
    if function is None:
        return False
    copies = [np.array(arg, dtype=np.float64) for arg in args]
    value = quiet_call(function, *copies)
    if modifies:
        value = copies[0] if count_changed(args[0], copies[0]) else None
    if value is None or not is_close(actual, value, rtol=1e-9, atol=1e-15):
        return False
    if not run.context.passes(name):
        how = "as your" if not modifies else "as left by your"
        run.notes.append(f"{what} is {how} {name} makes it, and {name} does not pass its "
                         f"own check: fix it there (check({name!r}))")
    return True
