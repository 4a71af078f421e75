"""Tests of init_mlp(sizes, scheme, seed): its contract, as the notebook states it (one
Generator rng = np.random.default_rng(seed) for all layers, W1 first, each W drawn as
rng.normal(0, std, size=(n_in, n_out)), or as an (n_out, n_in) draw transposed)."""

import numpy as np

from autograder.graded import graded
from nnlab.deep_mlp.composition import param_shapes
from nnlab.testing import Student, assert_params, assert_public


@graded(points=1)
def init_mlp_shapes_and_seed(student: Student) -> None:
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


@graded(points=1, hidden=True)
def init_mlp_scales(student: Student) -> None:
    """Each scheme's weights have mean ~0 and variance 1/max(n_in, n_out) ("seed"), 2/n_in ("he"), 2/(n_in+n_out) ("xavier")."""
    from autograder.hidden import hidden_rng
    seed = int(hidden_rng().integers(2, 2**31))
    sizes = [700, 400, 100]
    rules = {"seed": lambda i, o: 1 / max(i, o), "he": lambda i, o: 2 / i,
             "xavier": lambda i, o: 2 / (i + o)}
    for scheme, rule in rules.items():
        params = assert_params(student.init_mlp(sizes, scheme, seed), param_shapes(sizes),
                               "params")
        for l in (1, 2):
            W = params[f"W{l}"]
            std, target = float(W.std()), float(np.sqrt(rule(sizes[l - 1], sizes[l])))
            assert_public(abs(std / target - 1) < 0.05, (
                f'scheme "{scheme}": W{l} ({sizes[l - 1]} -> {sizes[l]}) should have standard '
                f"deviation {target:.4g} (within 5%)"))
            assert_public(abs(float(W.mean())) < 0.2 * target,
                          f'scheme "{scheme}": W{l} should have mean 0')


@graded(points=1, hidden=True)
def init_mlp_draws(student: Student) -> None:
    """For several seeds and every scheme, the weights are exactly the notebook's draws: one Generator for all layers, in order, each W (n_in, n_out) or an (n_out, n_in) draw transposed."""
    from autograder.hidden import hidden_rng

    def stated_draws(sizes: list[int], scheme: str, seed: int,
                     transposed: bool) -> list[np.ndarray]:
        """The notebook's draws: one Generator, W1 first; each (n_in, n_out), or an
        (n_out, n_in) draw transposed."""
        rng, weights = np.random.default_rng(seed), []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            std = np.sqrt({"seed": 1.0 / max(n_in, n_out), "he": 2.0 / n_in,
                           "xavier": 2.0 / (n_in + n_out)}[scheme])
            weights.append(rng.normal(0.0, std, size=(n_out, n_in)).T if transposed
                           else rng.normal(0.0, std, size=(n_in, n_out)))
        return weights

    rng = hidden_rng()
    schemes = ("seed", "he", "xavier")
    for case in range(6):
        seed = int(rng.integers(2, 2**31))
        sizes = [int(n) for n in rng.integers(2, 12, size=4)]
        sizes[1] = sizes[0] + 1 + sizes[1]  # W1 never square: a draw left transposed shows
        scheme = schemes[case % 3]
        params = assert_params(student.init_mlp(sizes, scheme, seed), param_shapes(sizes),
                               "params")
        candidates = [stated_draws(sizes, scheme, seed, transposed) for transposed in (False, True)]
        good = [all(np.allclose(params[f"W{l}"], W, rtol=1e-12, atol=0)
                    for l, W in enumerate(weights, start=1)) for weights in candidates]
        if any(good):
            continue
        first = any(np.allclose(params["W1"], weights[0], rtol=1e-12, atol=0)
                    for weights in candidates)
        assert_public(first, (
            f'scheme "{scheme}": W1 is not the first draw of np.random.default_rng(seed) '
            f"(rng.normal(0, std, size=(n_in, n_out)), std the square root of the "
            f"scheme's variance), for some seed"))
        assert_public(False, (
            f'scheme "{scheme}": W1 is right but a later layer is not the next draw of the '
            f"same generator: make rng once, before the first layer, and draw W1, W2, ... "
            f"from it in order"))
