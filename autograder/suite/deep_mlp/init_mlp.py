"""Tests of init_mlp(sizes, scheme, seed)."""

import numpy as np

from autograder.registry import graded
from nnlab.deep_mlp.composition import param_shapes
from nnlab.testing import assert_params, assert_public


@graded(points=1)
def init_mlp_shapes_and_seed(student):
    """init_mlp([8, 6, 4, 3], "he", seed) gives W1..W3, b1..b3 of the right shapes, zero biases, reproducible by seed."""
    sizes = [8, 6, 4, 3]
    first = assert_params(student.init_mlp(sizes, "he", 0), param_shapes(sizes), "params")
    again = assert_params(student.init_mlp(sizes, "he", 0), param_shapes(sizes), "params")
    other = assert_params(student.init_mlp(sizes, "he", 1), param_shapes(sizes), "params")
    for l in (1, 2, 3):
        assert_public(np.all(first[f"b{l}"] == 0), f"b{l} should start at 0")
        assert_public(np.array_equal(first[f"W{l}"], again[f"W{l}"]),
                      f"W{l} differs between two calls with seed=0: draw from "
                      f"np.random.default_rng(seed)")
    assert_public(not np.array_equal(first["W1"], other["W1"]),
                  "seeds 0 and 1 give the same W1: draw from np.random.default_rng(seed)")


@graded(points=2, hidden=True)
def init_mlp_scales(student):
    """Each scheme's weights have mean ~0 and variance 1/max(n_in, n_out) ("seed"), 2/n_in ("he"), 2/(n_in+n_out) ("xavier")."""
    sizes = [700, 400, 100]
    rules = {"seed": lambda i, o: 1 / max(i, o), "he": lambda i, o: 2 / i,
             "xavier": lambda i, o: 2 / (i + o)}
    for scheme, rule in rules.items():
        params = assert_params(student.init_mlp(sizes, scheme, 5), param_shapes(sizes), "params")
        for l in (1, 2):
            W = params[f"W{l}"]
            std, target = float(W.std()), float(np.sqrt(rule(sizes[l - 1], sizes[l])))
            assert_public(abs(std / target - 1) < 0.05, (
                f'scheme "{scheme}": W{l} ({sizes[l - 1]} -> {sizes[l]}) should have standard '
                f"deviation {target:.4g} (within 5%)"))
            assert_public(abs(float(W.mean())) < 0.2 * target,
                          f'scheme "{scheme}": W{l} should have mean 0')
