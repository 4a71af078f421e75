"""Self-checks of the L-layer network: init_mlp, mlp_forward, mlp_backward (train_mlp's
is in checks.training).
mlp_backward is compared with finite differences of a loss whose gradient with respect to
the scores is a fixed array G (so any dscores can be checked)."""

from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from nnlab.checking import Failure, as_numbers, is_close, worst_entry
from nnlab.checking.engine import Run
from nnlab.deep_mlp import Array, Params
from nnlab.deep_mlp.composition import layer_values, small_network
from nnlab.testing import describe, numerical_gradient

HINTS = {
    "init_keys": "init_mlp returns {\"W1\": (sizes[0], sizes[1]), \"b1\": (sizes[1],), ..., "
                 "\"WL\", \"bL\"}: one weight matrix and one bias per layer, numbered from 1.",
    "init_bias": "the biases start at 0: np.zeros(n_out).",
    "init_seed": "draw with rng = np.random.default_rng(seed), made once inside init_mlp: the "
                 "same seed must give the same weights, another seed other weights.",
    "init_variance_as_std": "the weights' standard deviation is the square root of the "
                            "scheme's variance: np.sqrt(variance), not the variance itself.",
    "init_scale": "the weights' spread does not fit the scheme: variance 1 / max(n_in, n_out) "
                  "for \"seed\", 2 / n_in for \"he\", 2 / (n_in + n_out) for \"xavier\" "
                  "(standard deviation = its square root).",
    "init_values": "draw each W from a normal of mean 0 with the scheme's variance.",
    "init_draws": "make one rng = np.random.default_rng(seed) before the first layer and draw "
                  "every W from it in layer order, W1 first, as rng.normal(0, sigma, "
                  "size=(n_in, n_out)): a generator made again for each layer repeats the "
                  "same numbers in every layer, and the seed must be used whatever its value.",
    "mlp_forward_pair": "mlp_forward returns the pair (scores, caches): caches is a list of "
                        "one dict {\"A_prev\": ..., \"Z\": ...} per layer.",
    "mlp_forward_values": "each layer computes Z = A_prev @ W + b; hidden layers then apply "
                          "their activation (activations[l - 1] for layer l); the last layer "
                          "has none: its Z is the scores.",
    "mlp_cache_activation": "cache[\"Z\"] holds the activation s(Z) or relu(Z), not the "
                            "pre-activation Z: cache Z before applying the activation "
                            "(mlp_backward needs the derivative at Z).",
    "mlp_cache_input": "cache[\"A_prev\"] is the layer's input: X for layer 1, the previous "
                       "layer's activation after that.",
    "mlp_backward_values": "go from the last layer to the first: dW_l = A_prev^T dZ_l, db_l = "
                           "column sums of dZ_l, dA_prev = dZ_l W_l^T, then through the "
                           "activation of the layer below at its pre-activation Z.",
    "mlp_bias_hidden": "the hidden layers' bias gradients are wrong (the weights' are right): "
                       "every layer has db_l = dZ_l.sum(axis=0), not only the last one.",
    "mlp_backward_keys": "grads has the keys of params: \"W1\", \"b1\", ..., \"WL\", \"bL\".",
}


def _layers(X: Array, params: Params,
            activations: Sequence[str]) -> list[tuple[Array, Array]]:
    return layer_values(X, params, activations)


def _network(sizes: Sequence[int],
             activations: Sequence[str] | None = None) -> tuple[Array, Params]:
    # seed 5 is none of the graded tests' seeds
    return small_network(np.random.default_rng(5), sizes, activations=activations)


def _sigmoid(Z: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


def _weights(value: object, sizes: Sequence[int]) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise Failure(f"returned {describe(value)}", ("init_keys",))
    for l in range(1, len(sizes)):
        for key, shape in ((f"W{l}", (sizes[l - 1], sizes[l])), (f"b{l}", (sizes[l],))):
            if key not in value or as_numbers(value[key]).shape != shape:
                raise Failure(f"params[{key!r}] is {describe(value.get(key))}, expected "
                              f"shape {shape}", ("init_keys",))
    return value


def _check_init_mlp(run: Run, init_mlp: Callable[..., Any]) -> None:
    sizes = [600, 300, 100]
    for scheme, variance in (("seed", lambda i, o: 1 / max(i, o)), ("he", lambda i, o: 2 / i),
                             ("xavier", lambda i, o: 2 / (i + o))):
        with run.check(f"init_mlp({sizes}, {scheme!r}, seed=3)"):
            params = _weights(run.call(init_mlp, list(sizes), scheme, 3), sizes)
            for l in (1, 2):
                std = float(np.std(as_numbers(params[f"W{l}"])))
                target = np.sqrt(variance(sizes[l - 1], sizes[l]))
                if abs(std / target ** 2 - 1) < 0.1:
                    raise Failure(f"W{l} has standard deviation {std:.4g}, expected "
                                  f"{target:.4g}", ("init_variance_as_std",))
                if abs(std / target - 1) > 0.1:
                    raise Failure(f"W{l} has standard deviation {std:.4g}, expected "
                                  f"{target:.4g}", ("init_scale",))
                if np.any(as_numbers(params[f"b{l}"]) != 0):
                    raise Failure(f"b{l} is not all zeros", ("init_bias",))
    with run.check("init_mlp is reproducible with its seed"):
        first, again, other = (run.call(init_mlp, [20, 10, 5], "he", s) for s in (4, 4, 9))
        same = all(np.array_equal(first[k], again[k]) for k in first)
        if not same or np.array_equal(first["W1"], other["W1"]):
            raise Failure("the same seed gave other weights, or another seed the same",
                          ("init_seed",))
    sizes = [6, 6, 6, 4]
    for seed in (7, 2024, 987654321):
        with run.check(f"init_mlp({sizes}, 'he', seed={seed}) draws as the notebook says"):
            params = _weights(run.call(init_mlp, list(sizes), "he", seed), sizes)
            stated = [_stated_draws(sizes, seed, transposed) for transposed in (False, True)]
            if not any(all(np.allclose(as_numbers(params[f"W{l}"]), expected[f"W{l}"])
                           for l in range(1, len(sizes))) for expected in stated):
                raise Failure("the weights are not the draws the notebook describes",
                              ("init_draws",))


def _stated_draws(sizes: Sequence[int], seed: int, transposed: bool) -> dict[str, Array]:
    """The weights init_mlp must return for the "he" scheme, as the notebook states the draws:
    one generator, layers in order, (n_in, n_out) draws (or (n_out, n_in) draws transposed)."""
    rng = np.random.default_rng(seed)
    drawn = {}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        sigma = np.sqrt(2 / n_in)
        drawn[f"W{l}"] = (rng.normal(0, sigma, size=(n_out, n_in)).T if transposed
                          else rng.normal(0, sigma, size=(n_in, n_out)))
    return drawn


def _check_mlp_forward(run: Run, mlp_forward: Callable[..., Any]) -> None:
    sizes, activations = [5, 4, 3, 2], ["relu", "sigmoid"]
    X, params = _network(sizes, activations)
    with run.check("mlp_forward on a 5-4-3-2 network (relu, sigmoid)"):
        value = run.call(mlp_forward, X.copy(), dict(params), list(activations))
        if not isinstance(value, (tuple, list)) or len(value) != 2 \
                or not isinstance(value[1], (tuple, list)):
            raise Failure(f"returned {describe(value)}", ("mlp_forward_pair",))
        expected = _layers(X, params, activations)
        scores, caches = value
        if len(caches) != 3 or not all(isinstance(c, dict) and "A_prev" in c and "Z" in c
                                       for c in caches):
            raise Failure(f"caches is {describe(caches)}", ("mlp_forward_pair",))
        for l, (cache, (A_prev, Z)) in enumerate(zip(caches, expected), start=1):
            got = as_numbers(cache["Z"])
            activated = [np.maximum(Z, 0), _sigmoid(Z)][l - 1] if l < 3 else Z
            if l < 3 and is_close(got, activated) and not is_close(got, Z):
                raise Failure(f"layer {l}'s cache['Z'] is the activation",
                              ("mlp_cache_activation",))
            if not is_close(got, Z):
                raise Failure(f"layer {l}'s Z: {worst_entry(got, Z)}", ("mlp_forward_values",))
            if not is_close(as_numbers(cache["A_prev"]), A_prev):
                raise Failure(f"layer {l}'s A_prev: {worst_entry(cache['A_prev'], A_prev)}",
                              ("mlp_cache_input",))
        if not is_close(as_numbers(scores), expected[-1][1]):
            raise Failure(f"scores: {worst_entry(scores, expected[-1][1])}",
                          ("mlp_forward_values",))


def _check_mlp_backward(run: Run, mlp_backward: Callable[..., Any]) -> None:
    sizes, activations = [5, 4, 3, 2], ["sigmoid", "relu"]
    X, params = _network(sizes, activations)
    G = np.random.default_rng(6).normal(size=(4, 2))
    layers = _layers(X, params, activations)
    caches = [{"A_prev": A, "Z": Z} for A, Z in layers]
    with run.check("mlp_backward on a 5-4-3-2 network against finite differences"):
        grads = run.call(mlp_backward, G.copy(), caches, dict(params), list(activations))
        if not isinstance(grads, dict) or set(grads) != set(params):
            raise Failure(f"returned {describe(grads)}", ("mlp_backward_keys",))
        wrong = []
        for key in params:
            def loss(value: Array, key: str = key) -> float:
                return float((G * _layers(X, dict(params, **{key: value}), activations)
                              [-1][1]).sum())
            numeric = numerical_gradient(loss, params[key].copy())
            got = as_numbers(grads[key])
            if not is_close(got, numeric, rtol=1e-5, atol=1e-7):
                wrong.append((key, worst_entry(got, numeric)))
        if wrong:
            names = [key for key, _ in wrong]
            hidden_b = [f"b{l}" for l in range(1, len(sizes) - 1)]
            hint = ("mlp_bias_hidden" if set(names) <= set(hidden_b)
                    else "mlp_backward_values")
            raise Failure(f"grads[{names[0]!r}]: {wrong[0][1]} (wrong: {names})", (hint,))


CHECKERS = {
    "init_mlp": _check_init_mlp,
    "mlp_forward": _check_mlp_forward,
    "mlp_backward": _check_mlp_backward,
}
