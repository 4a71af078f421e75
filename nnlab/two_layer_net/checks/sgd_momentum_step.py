"""check("sgd_momentum_step"): two steps worked out by hand (a wrong update rule is
recognised by what it gives), no change to grads.

``check_sgd_momentum_step`` is the checker; HINTS holds the hints for the mistakes it
recognises.
"""

import copy
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

from nnlab.checking import Failure, as_numbers, check_unchanged, is_close
from nnlab.checking.engine import Run
from nnlab.testing import describe
from nnlab.two_layer_net import PARAM_KEYS, Params

HINTS = {
    "sgd_return": "sgd_momentum_step must return the pair (params, velocity): two dicts "
                  "with the parameters' keys and shapes.",
    "sgd_values": "one step of SGD with momentum, for every key: v <- momentum * v - "
                  "lr * grad, then params <- params + v.",
    "sgd_momentum_ignored": "the parameters move along -lr * grad and ignore the velocity, so "
                            "momentum has no effect: update the parameters with the new "
                            "velocity, params <- params + v.",
    "sgd_velocity_no_momentum": "the new velocity lacks the momentum term: v <- momentum * v "
                                "- lr * grad uses the previous velocity.",
    "sgd_params_before_velocity": "the velocity is right but the parameters moved with the "
                                  "old velocity: first compute the new velocity v <- "
                                  "momentum * v - lr * grad, then step params <- params + v "
                                  "with that new v.",
    "sgd_velocity_sign": "the velocity has the opposite sign of the convention v <- momentum "
                         "* v - lr * grad, params <- params + v: your parameters are right "
                         "but the returned velocity is negated.",
    "sgd_uphill": "the parameters move up the gradient: the step must go against it "
                  "(v <- momentum * v - lr * grad, then params <- params + v).",
    "sgd_other_convention": "your velocity follows another convention (v <- momentum * v + "
                            "grad, params <- params - lr * v); this course's velocity is "
                            "v <- momentum * v - lr * grad, with params <- params + v.",
    "sgd_velocity_not_updated": "the returned velocity is the one passed in: return the "
                                "updated velocity.",
    "sgd_grads_modified": "sgd_momentum_step changed grads in place: only params and "
                          "velocity may be updated.",
}

# Two steps with lr=0.25, momentum=0.5 from zero velocity, computed by hand (all exact in
# binary): v1 = -lr g1, p1 = p0 + v1; v2 = momentum v1 - lr g2, p2 = p1 + v2.
_SGD_P0 = {"W1": [[0.5, -1.0], [2.0, 0.0]], "b1": [0.25, -0.5], "W2": [[1.0], [-2.0]],
           "b2": [0.75]}
_SGD_G1 = {"W1": [[1.0, 0.5], [-2.0, 4.0]], "b1": [-1.0, 2.0], "W2": [[0.5], [1.0]],
           "b2": [-4.0]}
_SGD_G2 = {"W1": [[-2.0, 1.0], [0.0, 2.0]], "b1": [1.0, 1.0], "W2": [[2.0], [-1.0]],
           "b2": [0.5]}
_SGD_V1 = {"W1": [[-0.25, -0.125], [0.5, -1.0]], "b1": [0.25, -0.5],
           "W2": [[-0.125], [-0.25]], "b2": [1.0]}
_SGD_P1 = {"W1": [[0.25, -1.125], [2.5, -1.0]], "b1": [0.5, -1.0], "W2": [[0.875], [-2.25]],
           "b2": [1.75]}
_SGD_V2 = {"W1": [[0.375, -0.3125], [0.25, -1.0]], "b1": [-0.125, -0.5],
           "W2": [[-0.5625], [0.125]], "b2": [0.375]}
_SGD_P2 = {"W1": [[0.625, -1.4375], [2.75, -2.0]], "b1": [0.375, -1.5],
           "W2": [[0.3125], [-2.125]], "b2": [2.125]}


def _arrays(values: Mapping[str, object]) -> Params:
    return {key: np.array(value, dtype=np.float64) for key, value in values.items()}


def _dict_close(result: object, expected: Params) -> bool:
    return isinstance(result, dict) and all(
        key in result and is_close(result[key], expected[key], rtol=1e-12, atol=1e-12)
        for key in expected)


def check_sgd_momentum_step(run: Run, step: Callable[..., Any]) -> None:
    """Run the checks of sgd_momentum_step on the student's function ``step`` (a checker:
    see ``nnlab.checking.engine``)."""
    lr, momentum = 0.25, 0.5
    p0, g1, g2 = _arrays(_SGD_P0), _arrays(_SGD_G1), _arrays(_SGD_G2)
    v1, p1, v2, p2 = _arrays(_SGD_V1), _arrays(_SGD_P1), _arrays(_SGD_V2), _arrays(_SGD_P2)
    zero = {key: np.zeros_like(value) for key, value in p0.items()}
    with run.check(f"step 1 from zero velocity (lr={lr}, momentum={momentum}), by hand"):
        params, velocity = _sgd_call(run, step, p0, g1, zero, lr, momentum)
        _sgd_verdict(params, velocity, p1, v1, previous=(p0, zero, g1), lr=lr)
    with run.check("step 2 from the state after a correct step 1, by hand"):
        params, velocity = _sgd_call(run, step, p1, g2, v1, lr, momentum)
        _sgd_verdict(params, velocity, p2, v2, previous=(p1, v1, g2), lr=lr)
    with run.check("grads unchanged by sgd_momentum_step"):
        grads = copy.deepcopy(g2)
        run.call(step, copy.deepcopy(p1), grads, copy.deepcopy(v1), lr, momentum)
        check_unchanged(("grads",), (g2,), (grads,), "sgd_grads_modified")


def _sgd_call(run: Run, step: Callable[..., Any], params: Params, grads: Params,
              velocity: Params, lr: float, momentum: float) -> tuple[Any, Any]:
    returned = run.call(step, copy.deepcopy(params), copy.deepcopy(grads),
                        copy.deepcopy(velocity), lr, momentum)
    if returned is None:
        raise Failure("returned None", ("no_return",))
    if not isinstance(returned, (tuple, list)) or len(returned) != 2 \
            or not all(isinstance(part, dict) for part in returned):
        raise Failure(f"returned {describe(returned)}", ("sgd_return",))
    params, velocity = returned
    for part, name in ((params, "params"), (velocity, "velocity")):
        for key in PARAM_KEYS:
            if key not in part:
                raise Failure(f"the returned {name} lacks the key {key!r}", ("sgd_return",))
            if as_numbers(part[key]).shape != np.shape(grads[key]):
                raise Failure(f"the returned {name}[{key!r}] has shape "
                               f"{np.shape(part[key])}, expected {np.shape(grads[key])}",
                               ("sgd_values",))
    return params, velocity


def _sgd_verdict(params: Any, velocity: Any, want_p: Params, want_v: Params,
                 previous: tuple[Params, Params, Params], lr: float) -> None:
    old_p, old_v, grads = previous
    params_ok, velocity_ok = _dict_close(params, want_p), _dict_close(velocity, want_v)
    if params_ok and velocity_ok:
        return
    key = next(k for k in PARAM_KEYS if not (is_close(params[k], want_p[k], 1e-12, 1e-12)
                                             and is_close(velocity[k], want_v[k], 1e-12, 1e-12)))
    got = (f"params[{key!r}] = {np.asarray(params[key]).tolist()} (expected "
           f"{want_p[key].tolist()}), velocity[{key!r}] = "
           f"{np.asarray(velocity[key]).tolist()} (expected {want_v[key].tolist()})")
    negated = {k: -value for k, value in want_v.items()}
    if params_ok and _dict_close(velocity, negated):
        raise Failure(got, ("sgd_velocity_sign",))
    if params_ok and _dict_close(velocity, {k: -value / lr for k, value in want_v.items()}):
        raise Failure(got, ("sgd_other_convention",))
    if _dict_close(params, {k: old_p[k] - want_v[k] for k in old_p}):
        raise Failure(got, ("sgd_uphill",))
    if velocity_ok and _dict_close(params, {k: old_p[k] - lr * grads[k] for k in old_p}):
        raise Failure(got, ("sgd_momentum_ignored",))
    if velocity_ok and _dict_close(params, {k: old_p[k] + old_v[k] for k in old_p}):
        raise Failure(got, ("sgd_params_before_velocity",))
    if not velocity_ok and _dict_close(velocity, {k: -lr * grads[k] for k in grads}):
        raise Failure(got, ("sgd_velocity_no_momentum",))
    if _dict_close(velocity, old_v) and not velocity_ok:
        raise Failure(got, ("sgd_velocity_not_updated",))
    raise Failure(got, ("sgd_values",))
