"""Self-checks of section 5: a box from two step units, a staircase of boxes.

The student's weights are run through ``nnlab.foundations.networks.one_hidden_layer`` (step
units) and its output is compared with the box or staircase the docstring describes.
"""

import numpy as np

from nnlab.checking import Failure, is_close, worst_entry
from nnlab.foundations import handout
from nnlab.foundations.networks import one_hidden_layer

HINTS = {
    # box_network
    "box_network_values": "the output must be h for a <= x < b and 0 everywhere else: one "
                          "unit switches on at x = a, the other at x = b, and the output "
                          "weights h and -h make their difference the box.",
    "box_shapes": "return params = {'W1': (1, 2), 'b1': (2,), 'W2': (2, 1), 'b2': (1,)}: one "
                  "input, two hidden units, one output, as float arrays (see "
                  "nnlab.foundations.networks).",
    "box_swapped": "the box is upside down (-h on [a, b)): the edges are swapped. The unit "
                   "that switches on at a gets the output weight +h, the one at b gets -h.",
    "box_height": "the box has height 1, not h: the output weights scale the two units, "
                  "+h and -h.",
    "box_bias_sign": "the units switch on at -a and -b: step(w x + c) switches on where "
                     "w x + c >= 0, i.e. at x = -c / w, so the bias for an edge at a is -a "
                     "(with w = 1).",
    "box_outside": "the box is right on [a, b) but the output is not 0 outside it: the "
                   "output bias b2 must be 0 (and the two output weights opposite).",
    "box_edges": "the inside and outside are right, but an edge is not: the box includes a "
                 "and excludes b. step(t) is 1 at t = 0, so a unit with w = 1 and bias -a "
                 "is already on at x = a.",
    # staircase_network
    "staircase_network_values": "piece i of [-B, B), from x_i = -B + 2 B i / n to x_{i+1}, "
                                "needs a box of height heights[i]: two units per piece, 2n "
                                "in all, and an output of 0 outside [-B, B).",
    "staircase_units": "use exactly 2 units per piece: H = 2n for n heights (W1 (1, 2n), b1 "
                       "(2n,), W2 (2n, 1), b2 (1,)).",
    "staircase_edges": "the pieces are misplaced: cut [-B, B) into n equal pieces of width "
                       "2B / n (n + 1 edges, from -B to B), and put heights[i] on piece i.",
}


def _output(run, params, x, shape_hint):
    """The network's output at x, or a Failure if params has the wrong layout."""
    if params is None:
        raise Failure("returned None", ("no_return",))
    try:
        return one_hidden_layer(x, params)
    except ValueError as error:
        raise Failure(str(error), (shape_hint,)) from None


def _box(x, a, b, h):
    return np.where((x >= a) & (x < b), h, 0.0)


def _check_box_network(run, box_network):
    boxes = ((handout.BOX_A, handout.BOX_B, handout.BOX_H), (0.5, 1.25, -2.0))
    for a, b, h in boxes:
        with run.check(f"box_network({a}, {b}, {h}) on a grid (no point on an edge)"):
            x = np.linspace(a - 3.0, b + 3.0, 600) + 1e-4
            out = _output(run, run.call(box_network, a, b, h), x, "box_shapes")
            expected = _box(x, a, b, h)
            if is_close(out, expected):
                continue
            got = worst_entry(out, expected)
            inside = (x >= a) & (x < b)
            variants = {"box_swapped": -expected, "box_height": expected / h,
                        "box_bias_sign": _box(x, -b, -a, -h)}
            for hint, candidate in variants.items():
                if is_close(out, candidate):
                    raise Failure(got, (hint,))
            if is_close(out[inside], expected[inside]):
                raise Failure(got, ("box_outside",))
            raise Failure(got, ("box_network_values",))
    if run.failures:
        return  # a wrong box explains wrong edges
    a, b, h = boxes[0]
    with run.check(f"box_network({a}, {b}, {h}) is {h} at x = a = {a} and 0 at x = b = {b}"):
        out = _output(run, run.call(box_network, a, b, h), np.array([a, b]), "box_shapes")
        if not is_close(out, [h, 0.0]):
            raise Failure(f"the output is {out[0]:.6g} at x = a and {out[1]:.6g} at x = b",
                           ("box_edges",))


def _staircase(x, B, heights):
    n = len(heights)
    edges = np.linspace(-B, B, n + 1)
    piece = np.searchsorted(edges, x, side="right") - 1
    inside = (piece >= 0) & (piece < n)
    return np.where(inside, np.asarray(heights)[np.clip(piece, 0, n - 1)], 0.0)


def _check_staircase_network(run, staircase_network):
    cases = (("staircase_network(1, [1, 2])", 1.0, np.array([1.0, 2.0])),
             ("staircase_network(2, 5 heights)", 2.0, np.array([0.5, -1.0, 2.0, 0.0, 1.5])))
    for what, B, heights in cases:
        with run.check(f"{what}: 2n units, each piece of [-B, B) at its height"):
            params = run.call(staircase_network, B, heights.copy())
            n = heights.size
            W1 = np.asarray(params.get("W1") if isinstance(params, dict) else None)
            if W1.ndim == 2 and W1.shape[1] != 2 * n:
                raise Failure(f"{W1.shape[1]} hidden units for n = {n} heights",
                               ("staircase_units",))
            x = np.linspace(-B - 1.0, B + 1.0, 40 * n + 7) + 1e-4   # avoids the edges
            out = _output(run, params, x, "staircase_units")
            expected = _staircase(x, B, heights)
            if not is_close(out, expected):
                inside = (x >= -B) & (x < B)
                levels = np.unique(np.round(out[inside], 9))
                misplaced = set(levels) <= set(np.round(heights, 9)) | {0.0}
                raise Failure(worst_entry(out, expected), ("staircase_edges",) if misplaced
                               else ("staircase_network_values",))
    with run.check("heights cos(midpoints) on [-2, 2): the error shrinks like 1/n"):
        B, x, errors = 2.0, np.linspace(-2.0, 2.0, 4000, endpoint=False) + 3e-4, []
        for n in (4, 16, 64):
            midpoints = -B + (np.arange(n) + 0.5) * 2 * B / n
            params = run.call(staircase_network, B, np.cos(midpoints))
            errors.append(float(np.max(np.abs(_output(run, params, x, "staircase_units")
                                              - np.cos(x)))))
            if errors[-1] > B / n:
                raise Failure(f"with n = {n} the largest error is {errors[-1]:.4f}, more "
                               f"than B / n = {B / n:.4f}", ("staircase_network_values",))


CHECKERS = {
    "box_network": _check_box_network,
    "staircase_network": _check_staircase_network,
}
