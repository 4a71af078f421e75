"""Self-checks of section 1: the scalar computation graph with a skip connection.

Each ``_check_<function>(run, function)`` runs with the engine of ``nnlab.checking``: a
``with run.check("what"):`` block per check, ``run.call`` for every call of student code,
and ``Failure(got, hints)`` naming the keys of HINTS that explain what came out.
"""

import numpy as np

from nnlab.checking import Failure, count_changed
from nnlab.foundations import handout
from nnlab.testing import describe

CACHE_KEYS = ("p0", "s0", "x1", "p1", "s1", "y", "z")
GRAD_KEYS = ("w0", "b0", "w1", "b1", "x0")

HINTS = {
    # graph_forward
    "graph_forward_not_dict": "graph_forward must return a dict, the cache {'p0': ..., 's0': "
                              "..., 'x1': ..., 'p1': ..., 's1': ..., 'y': ..., 'z': ...}, not "
                              "a tuple or only z.",
    "graph_forward_keys": "the cache holds the keys 'p0', 's0', 'x1', 'p1', 's1', 'y' and 'z' "
                          "(lower case): graph_backward and the tests read them by name.",
    "graph_not_scalars": "every value must be one number (a float), not a list or an array "
                         "of shape (1,).",
    "graph_forward_values": "go through the graph one node at a time: p0 = w0 * x0, s0 = p0 + "
                            "b0, x1 = relu(s0), p1 = w1 * x1, s1 = p1 + b1, y = s1 + x0, "
                            "z = relu(y).",
    "graph_skip_missing": "y equals s1: the skip connection is missing. The input x0 is "
                          "added again after the second layer: y = s1 + x0.",
    "graph_skip_source": "the skip connection carries the input x0 around the first layer: "
                         "y = s1 + x0, not s1 + x1 or s1 + s0.",
    "graph_hidden_relu": "x1 must be relu(s0) = max(s0, 0): where s0 < 0, x1 is 0.",
    "graph_output_relu": "z must be relu(y) = max(y, 0): where y < 0, z is 0.",
    "graph_forward_inplace": "graph_forward changed params: read the values, do not write "
                             "into the dict.",
    # graph_backward
    "graph_backward_not_dict": "graph_backward must return a dict {'w0': ..., 'b0': ..., "
                               "'w1': ..., 'b1': ..., 'x0': ...} of the derivatives of z.",
    "graph_backward_keys": "store each derivative under the name of what it is taken with "
                           "respect to: 'w0', 'b0', 'w1', 'b1' and 'x0'.",
    "graph_backward_values": "apply the chain rule from z back to each input, one node at a "
                             "time: the derivative arriving at a node times that node's "
                             "local derivative.",
    "graph_skip_gradient": "dz/dx0 lacks the skip connection's share: x0 reaches z along two "
                           "paths, through the first layer (dz/ds0 * w0) and straight into "
                           "y = s1 + x0 (local derivative 1, so it adds dz/dy). Add both.",
    "graph_skip_only": "dz/dx0 only follows the skip connection: x0 also reaches z through "
                       "the first layer, which adds dz/ds0 * w0.",
    "graph_product_rule": "the derivative of w * x with respect to w is x (and with respect "
                          "to x it is w): dz/dw1 = dz/ds1 * x1 and dz/dw0 = dz/ds0 * x0.",
    "graph_relu_derivative": "a ReLU's derivative is 1 where its input is positive and 0 "
                             "elsewhere, not the ReLU's output: multiply by (s0 > 0), not "
                             "by x1.",
    "graph_relu_gate": "a ReLU whose input is negative blocks the derivative: multiply by 0 "
                       "there (by 1 where it is positive). The first ReLU's input is s0, the "
                       "last one's is y.",
    "graph_relu_at_zero": "a ReLU whose input is exactly 0 blocks the derivative too: the "
                          "notebook takes its derivative there as 0 (it passes the "
                          "derivative only where its input is positive), so test s0 > 0 and "
                          "y > 0, not s0 >= 0 or y >= 0.",
    "graph_backward_fd": "graph_backward does not match finite differences of z from your "
                         "graph_forward: recheck each step of the chain rule.",
    "graph_backward_inplace": "graph_backward changed params or the cache: compute new "
                              "values instead of writing into its arguments.",
}

_POINTS = {  # (x0, params, cache, grads), worked out by hand
    "the first ReLU inactive (s0 < 0)": (
        0.5, {"w0": -1.0, "b0": 0.2, "w1": 0.7, "b1": 0.4},
        {"p0": -0.5, "s0": -0.3, "x1": 0.0, "p1": 0.0, "s1": 0.4, "y": 0.9, "z": 0.9},
        {"w0": 0.0, "b0": 0.0, "w1": 0.0, "b1": 1.0, "x0": 1.0}),
    "the last ReLU inactive (y < 0)": (
        -0.6, {"w0": -2.0, "b0": 0.3, "w1": -0.8, "b1": 0.1},
        {"p0": 1.2, "s0": 1.5, "x1": 1.5, "p1": -1.2, "s1": -1.1, "y": -1.7, "z": 0.0},
        {"w0": 0.0, "b0": 0.0, "w1": 0.0, "b1": 0.0, "x0": 0.0}),
    # a ReLU input of exactly 0 (every value exact in binary): derivative 0 there
    "the first ReLU's input exactly 0 (s0 = 0)": (
        0.5, {"w0": -1.0, "b0": 0.5, "w1": 0.75, "b1": 0.25},
        {"p0": -0.5, "s0": 0.0, "x1": 0.0, "p1": 0.0, "s1": 0.25, "y": 0.75, "z": 0.75},
        {"w0": 0.0, "b0": 0.0, "w1": 0.0, "b1": 1.0, "x0": 1.0}),
    "the last ReLU's input exactly 0 (y = 0)": (
        0.5, {"w0": 2.0, "b0": -0.5, "w1": -2.0, "b1": 0.5},
        {"p0": 1.0, "s0": 0.5, "x1": 0.5, "p1": -1.0, "s1": -0.5, "y": 0.0, "z": 0.0},
        {"w0": 0.0, "b0": 0.0, "w1": 0.0, "b1": 0.0, "x0": 0.0}),
}


def _scalars(value, keys, function, not_dict, missing):
    """``value`` as {key: float} for ``keys``, else a Failure with the right hint."""
    if value is None:
        raise Failure("returned None", ("no_return",))
    if not isinstance(value, dict):
        raise Failure(f"returned {describe(value)}", (not_dict,))
    absent = [key for key in keys if key not in value]
    if absent:
        raise Failure(f"the keys {absent} are missing (found {sorted(map(str, value))})",
                       (missing,))
    out = {}
    for key in keys:
        array = np.asarray(value[key]) if not isinstance(value[key], str) else None
        if array is None or array.dtype.kind not in "fiu" or array.shape != ():
            raise Failure(f"{function}(...)[{key!r}] is {describe(value[key])}",
                           ("graph_not_scalars",))
        out[key] = float(array)
    return out


def _check_graph_forward(run, graph_forward):
    points = {"the worked example": (handout.GRAPH_X0, handout.GRAPH_PARAMS,
                                     handout.GRAPH_CACHE, None)}
    points.update(_POINTS)
    for what, (x0, params, expected, _) in points.items():
        if run.failures:
            break  # one mistake at a time: the other points would mostly repeat it
        with run.check(f"graph_forward with {what}"):
            given = dict(params)
            cache = _scalars(run.call(graph_forward, x0, given), CACHE_KEYS, "graph_forward",
                             "graph_forward_not_dict", "graph_forward_keys")
            _forward_verdict(cache, expected)
            if count_changed(params, given):
                raise Failure("params was changed in place", ("graph_forward_inplace",))


def _forward_verdict(cache, expected):
    """The first wrong node of the cache, diagnosed from the (right) nodes before it."""
    for key in CACHE_KEYS:
        if abs(cache[key] - expected[key]) <= 1e-9:
            continue
        got = f"cache[{key!r}] is {cache[key]:.6g}, expected {expected[key]:.6g}"
        value = cache[key]
        if key == "x1" and expected["s0"] < 0 and abs(value - expected["s0"]) <= 1e-9:
            raise Failure(got, ("graph_hidden_relu",))
        if key == "y" and abs(value - expected["s1"]) <= 1e-9:
            raise Failure(got, ("graph_skip_missing",))
        if key == "y" and min(abs(value - expected["s1"] - expected[other])
                              for other in ("x1", "s0", "p0")) <= 1e-9:
            raise Failure(got, ("graph_skip_source",))
        if key == "z" and expected["y"] < 0 and abs(value - expected["y"]) <= 1e-9:
            raise Failure(got, ("graph_output_relu",))
        raise Failure(got, ("graph_forward_values",))


def _check_graph_backward(run, graph_backward):
    points = {"the worked example": (handout.GRAPH_X0, handout.GRAPH_PARAMS,
                                     handout.GRAPH_CACHE, handout.GRAPH_GRADS)}
    points.update(_POINTS)
    for what, (x0, params, cache, expected) in points.items():
        if run.failures:
            return  # one mistake at a time; finite differences only once these pass
        with run.check(f"graph_backward with {what}"):
            given, given_cache = dict(params), dict(cache)
            grads = _scalars(run.call(graph_backward, x0, given, given_cache), GRAD_KEYS,
                             "graph_backward", "graph_backward_not_dict",
                             "graph_backward_keys")
            _backward_verdict(grads, x0, params, cache, expected)
            if count_changed(params, given) or count_changed(cache, given_cache):
                raise Failure("params or the cache was changed in place",
                               ("graph_backward_inplace",))
    if not run.context.passes("graph_forward"):
        run.notes.append("finite differences skipped until graph_forward passes its check")
        return
    forward = run.context.lookup("graph_forward")
    with run.check("graph_backward equals finite differences of z from your graph_forward"):
        x0, params = -0.35, {"w0": -1.7, "b0": 0.45, "w1": 0.65, "b1": 0.05}
        grads = _scalars(run.call(graph_backward, x0, dict(params),
                                  run.call(forward, x0, dict(params))),
                         GRAD_KEYS, "graph_backward", "graph_backward_not_dict",
                         "graph_backward_keys")
        for key in GRAD_KEYS:
            numeric = _finite_difference(run, forward, x0, params, key)
            if abs(grads[key] - numeric) > 1e-6:
                raise Failure(f"dz/d{key} is {grads[key]:.6g}, finite differences give "
                               f"{numeric:.6g}", ("graph_backward_fd",))


def _finite_difference(run, forward, x0, params, key, h=1e-6):
    values = []
    for sign in (1.0, -1.0):
        point, shifted = dict(params), x0
        if key == "x0":
            shifted = x0 + sign * h
        else:
            point[key] += sign * h
        values.append(float(run.call(forward, shifted, point)["z"]))
    return (values[0] - values[1]) / (2 * h)


def _backward_verdict(grads, x0, params, cache, expected):
    wrong = [key for key in GRAD_KEYS if abs(grads[key] - expected[key]) > 1e-9]
    if not wrong:
        return
    got = ", ".join(f"dz/d{key} is {grads[key]:.6g} (expected {expected[key]:.6g})"
                    for key in wrong)
    if _passes_at_zero(grads, x0, params, cache):
        raise Failure(got, ("graph_relu_at_zero",))
    hints = []
    dy = 1.0 if cache["y"] > 0 else 0.0
    ds0 = dy * params["w1"] * (cache["s0"] > 0)
    if cache["s0"] <= 0 and (grads["w0"] != 0 or grads["b0"] != 0) \
            or cache["y"] <= 0 and any(grads[key] != 0 for key in GRAD_KEYS):
        hints.append("graph_relu_gate")
    if "x0" in wrong and dy and _near(grads["x0"], ds0 * params["w0"]):
        hints.append("graph_skip_gradient")
    if "x0" in wrong and dy and ds0 and _near(grads["x0"], dy):
        hints.append("graph_skip_only")
    if "w1" in wrong and _near(grads["w1"], dy * params["w1"]) \
            or "w0" in wrong and ds0 and _near(grads["w0"], ds0 * params["w0"]):
        hints.append("graph_product_rule")
    if "b0" in wrong and ds0 and _near(grads["b0"], ds0 * cache["x1"]):
        hints.append("graph_relu_derivative")
    raise Failure(got, tuple(hints) or ("graph_backward_values",))


def _passes_at_zero(grads, x0, params, cache):
    """True if ``grads`` are the chain rule's with a ReLU whose input is exactly 0 passing
    the derivative (gate 1, or 1/2 as np.heaviside(x, 0.5) gives) instead of blocking it."""
    zeros = [key for key in ("s0", "y") if cache[key] == 0]
    for key in zeros:
        for gate in (1.0, 0.5):
            gates = {name: (1.0 if cache[name] > 0 else 0.0) for name in ("s0", "y")}
            gates[key] = gate
            ds1 = gates["y"]
            ds0 = ds1 * params["w1"] * gates["s0"]
            variant = {"w0": ds0 * x0, "b0": ds0, "w1": ds1 * cache["x1"], "b1": ds1,
                       "x0": ds0 * params["w0"] + ds1}
            if all(_near(grads[name], variant[name]) for name in GRAD_KEYS):
                return True
    return False


def _near(value, target):
    return abs(value - target) <= 1e-9


CHECKERS = {
    "graph_forward": _check_graph_forward,
    "graph_backward": _check_graph_backward,
}
