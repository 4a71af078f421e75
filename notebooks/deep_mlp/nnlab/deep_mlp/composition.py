"""Helpers the tests and checks share: a small random network, the scores of a network
computed from the formulas the notebook states, and its gradients by finite differences.

mlp_forward and mlp_backward are graded on their own work, whatever the layer functions they
call do (README: "A mistake costs the tests of its own function"):

- ``assert_mlp_forward`` checks the caches stage by stage: each layer's "Z" must be
  A_prev W + b of that cache's own "A_prev", or what the student's affine_forward gives for
  it; each "A_prev" the activation of the layer below's cached "Z", or what the student's
  relu_forward / sigmoid_forward gives for it. A wrong layer forward costs its own tests; an
  mlp_forward that caches the activation as "Z" or skips an activation still fails.
- ``assert_mlp_gradients`` compares mlp_backward's gradients with centred finite differences
  of sum(G * scores(params)), G a fixed array standing for dL/dscores (the chain rule applied
  to G, whatever G is); it also accepts the gradients the student's own affine_backward,
  relu_backward and sigmoid_backward compose to (called here, layer L down to 1, on the
  correct caches). A wrong layer backward costs its own tests, not mlp_backward's as well.

No solution code beyond the notebook's formulas.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Callable

import numpy as np

from nnlab.deep_mlp import Array, Params
from nnlab.testing import (GRADIENT_THRESHOLD, Student, assert_close, assert_gradient,
                           assert_public, matches, numerical_gradient, relative_error)


def _sigmoid(Z: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


def layer_values(X: Array, params: Params,
                 activations: Sequence[str]) -> list[tuple[Array, Array]]:
    """[(A_prev, Z)] of every layer, layer 1 first, for a network with these activations."""
    out, A = [], X
    for index in range(len(activations) + 1):
        Z = A @ params[f"W{index + 1}"] + params[f"b{index + 1}"]
        out.append((A, Z))
        if index < len(activations):
            A = np.maximum(Z, 0.0) if activations[index] == "relu" else _sigmoid(Z)
    return out


def small_network(rng: np.random.Generator, sizes: Sequence[int], N: int = 4,
                  activations: Sequence[str] | None = None) -> tuple[Array, Params]:
    """(X (N, sizes[0]), params) for a test: weights of scale 1/sqrt(n_in), and each bias
    set between the two middle values of its unit's A_prev W over the batch, so that every unit is
    positive for some examples and negative for others (ReLUs neither all dead nor all
    active). ``activations`` (default: all "relu") is what the layers below feed on."""
    activations = ["relu"] * (len(sizes) - 2) if activations is None else list(activations)
    X = rng.normal(size=(N, sizes[0]))
    params, A = {}, X
    for l in range(1, len(sizes)):
        W = rng.normal(size=(sizes[l - 1], sizes[l])) / np.sqrt(sizes[l - 1])
        middle = np.sort(A @ W, axis=0)[(N - 1) // 2:(N - 1) // 2 + 2]
        params[f"W{l}"], params[f"b{l}"] = W, -middle.mean(axis=0)
        if l < len(sizes) - 1:
            Z = A @ W + params[f"b{l}"]
            A = np.maximum(Z, 0.0) if activations[l - 1] == "relu" else _sigmoid(Z)
    return X, params


def caches_of(X: Array, params: Params, activations: Sequence[str]) -> list[dict[str, Array]]:
    """The caches mlp_forward should return: [{"A_prev": ..., "Z": ...}, ...]."""
    return [{"A_prev": A, "Z": Z} for A, Z in layer_values(X, params, activations)]


def numerical_mlp_gradients(X: Array, params: Params, activations: Sequence[str],
                            G: Array) -> Params:
    """{key: d sum(G * scores) / d params[key]} by centred finite differences."""
    grads = {}
    for key in params:
        def total(value: Array, key: str = key) -> float:
            scores = layer_values(X, dict(params, **{key: value}), activations)[-1][1]
            return float((G * scores).sum())
        grads[key] = numerical_gradient(total, np.array(params[key], dtype=float))
    return grads


def own_layer_gradients(student: Student, G: Array, caches: Sequence[Mapping[str, Array]],
                        params: Params, activations: Sequence[str]) -> dict[str, Any] | None:
    """{key: gradient} the student's own affine_backward, relu_backward and sigmoid_backward
    compose to, from dscores = G, layer L down to 1, on ``caches`` (the notebook's
    {"A_prev", "Z"}); None when one of them raises or returns no triple."""
    grads, dZ = {}, G
    for l in range(len(caches), 0, -1):
        out = student.attempt("affine_backward", dZ, {"X": caches[l - 1]["A_prev"],
                                                      "W": params[f"W{l}"]})
        if not (isinstance(out, (tuple, list)) and len(out) == 3):
            return None
        dA, grads[f"W{l}"], grads[f"b{l}"] = out
        if l > 1:
            dZ = student.attempt(f"{activations[l - 2]}_backward", dA, {"Z": caches[l - 2]["Z"]})
            if dZ is None:
                return None
    return grads


def _gradient_agrees(analytic: object, numeric: Array) -> bool:
    analytic = np.asarray(analytic)
    if analytic.dtype.kind not in "fiub" or analytic.shape != np.shape(numeric):
        return False
    error = relative_error(analytic.astype(np.float64), numeric)
    return bool(np.isfinite(error) and error < GRADIENT_THRESHOLD)


def assert_mlp_gradients(grads: Any, X: Array, params: Params, activations: Sequence[str],
                         G: Array, hide_values: bool = False,
                         student: Student | None = None) -> None:
    """Assert mlp_backward's grads (a dict with params' keys) match finite differences, or
    (with ``student``) what the student's own layer backwards compose to."""
    assert_public(isinstance(grads, dict),
                  f"mlp_backward should return a dict, got {type(grads).__name__}")
    missing = [key for key in params if key not in grads]
    assert_public(not missing, f"the grads returned by mlp_backward lack the keys {missing}")
    numeric = numerical_mlp_gradients(X, params, activations, G)
    if all(_gradient_agrees(grads[key], numeric[key]) for key in params):
        return
    if student is not None:
        own = own_layer_gradients(student, G, caches_of(X, params, activations), params,
                                  activations)
        if own is not None and all(key in own and matches(grads[key], own[key], rtol=1e-6,
                                                          atol=1e-10, finite=True)
                                   for key in params):
            return
    for key in params:
        assert_gradient(grads[key], numeric[key], f'grads["{key}"]', hide_values=hide_values)


def param_shapes(sizes: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """{"W1": (sizes[0], sizes[1]), "b1": (sizes[1],), ...}: the shapes of a network's params."""
    shapes: dict[str, tuple[int, ...]] = {}
    for l in range(1, len(sizes)):
        shapes[f"W{l}"], shapes[f"b{l}"] = (sizes[l - 1], sizes[l]), (sizes[l],)
    return shapes


def mean_cross_entropy(scores: Array, Y: Array) -> float:
    """The notebook's loss, -(1/N) sum_n log softmax(scores)[n, true class], for the tests."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -float((Y * log_p).sum()) / len(scores)


def _first(value: object) -> object:
    """A of a layer forward's (A, cache), or None."""
    return value[0] if isinstance(value, (tuple, list)) and len(value) == 2 else None


def _stage(actual: object, correct: Array, own: Callable[[], object] | None, name: str,
           hide_values: bool) -> None:
    """One array of mlp_forward's caches: the correct value, or what the student's own layer
    function gives (``own()``, called only when needed)."""
    try:
        if matches(actual, correct):
            return
    except (TypeError, ValueError):  # ragged lists and the like
        pass
    if own is not None:
        mine = own()
        try:
            if mine is not None and matches(actual, mine, finite=True):
                return
        except (TypeError, ValueError):
            pass
    assert_close(actual, correct, name, hide_values=hide_values)


def assert_mlp_forward(value: Any, X: Array, params: Params, activations: Sequence[str],
                       hide_values: bool = False, student: Student | None = None) -> None:
    """Assert mlp_forward's (scores, caches) for X and params: every layer's cache
    {"A_prev", "Z"} (the pre-activation) and the scores, each from the cache's previous
    array; with ``student``, also what the student's own layer forward gives for it."""
    assert_public(isinstance(value, (tuple, list)) and len(value) == 2,
                  "mlp_forward should return the pair (scores, caches)")
    scores, caches = value
    L = len(activations) + 1
    assert_public(isinstance(caches, (tuple, list)) and len(caches) == L,
                  f"caches should be a list of {L} dicts, one per layer")
    ask = (lambda name, *args: None) if student is None else student.attempt
    previous = None
    own: Callable[[], object] | None
    for l, cache in enumerate(caches, start=1):
        assert_public(isinstance(cache, dict) and "A_prev" in cache and "Z" in cache,
                      f"layer {l}'s cache should be a dict with the keys 'A_prev' and 'Z'")
        if previous is None:
            correct, own = X, None
        else:
            Z_below = np.asarray(previous, dtype=np.float64)
            kind = activations[l - 2]
            correct = np.maximum(Z_below, 0.0) if kind == "relu" else _sigmoid(Z_below)
            own = (lambda kind=kind, Z=Z_below: _first(ask(f"{kind}_forward", Z.copy())))
        _stage(cache["A_prev"], correct, own, f'caches[{l - 1}]["A_prev"]', hide_values)
        A_prev = np.asarray(cache["A_prev"], dtype=np.float64)
        W, b = params[f"W{l}"], params[f"b{l}"]
        own = (lambda A=A_prev, W=W, b=b: _first(ask("affine_forward", A, W, b)))
        _stage(cache["Z"], A_prev @ W + b, own, f'caches[{l - 1}]["Z"] (the pre-activation)',
               hide_values)
        previous = cache["Z"]
    assert_close(scores, np.asarray(previous, dtype=np.float64), 'scores (the last layer\'s "Z")',
                 hide_values=hide_values)


def _agrees(got: object, want: object) -> bool:
    """``got`` matches ``want`` (arrays, or dicts, lists and tuples of them), never raising."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(_agrees(got.get(key), item)
                                             for key, item in want.items())
    if isinstance(want, (list, tuple)):
        return isinstance(got, (list, tuple)) and len(got) == len(want) and all(
            _agrees(a, b) for a, b in zip(got, want))
    try:
        return matches(got, want, rtol=1e-5, atol=1e-8, finite=True)
    except (TypeError, ValueError):
        return False


def own_network_right(student: Student, X: Array, Y: Array, params: Params,
                      activations: Sequence[str], forward: Callable[..., Any],
                      loss: Callable[..., Any], backward: Callable[..., Any]) -> bool:
    """True if the student's ``mlp_forward``, ``softmax_ce_loss`` and ``mlp_backward`` give
    what ``forward``, ``loss`` and ``backward`` (correct functions the caller supplies) give on
    ``X`` (N, D), one-hot ``Y`` (N, K) and ``params``.

    A training test charges train_mlp for what its training reached only when the functions
    it runs are right: a wrong layer loses its own tests' points, not the training's too.
    """
    scores, caches = forward(X, params, activations)
    value, dscores = loss(scores, Y)
    return _agrees(student.attempt("mlp_forward", X, params, activations), (scores, caches)) \
        and _agrees(student.attempt("softmax_ce_loss", scores, Y), (value, dscores)) \
        and _agrees(student.attempt("mlp_backward", dscores, caches, params, activations),
                    backward(dscores, caches, params, activations))


# What mlp_forward and mlp_backward call, by the notebook's formulas, with a probe each
# (distinct sizes): a layer that breaks is stood in while its caller is graded
# (nnlab.stand_ins).
def _sigmoid_backward(dA: Array, cache: Mapping[str, Array]) -> Array:
    A = _sigmoid(cache["Z"])
    return dA * A * (1.0 - A)


def _pair_probe(rng: np.random.Generator) -> tuple[Array, dict[str, Array]]:
    return rng.normal(size=(3, 4)), {"Z": rng.normal(size=(3, 4))}


STAND_INS = {
    "affine_forward": (lambda X, W, b: (X @ W + b, {"X": X, "W": W}),
                       lambda rng: (rng.normal(size=(6, 5)), rng.normal(size=(5, 4)),
                                    rng.normal(size=4))),
    "affine_backward": (lambda dZ, cache: (dZ @ cache["W"].T, cache["X"].T @ dZ,
                                           dZ.sum(axis=0)),
                        lambda rng: (rng.normal(size=(6, 4)), {"X": rng.normal(size=(6, 5)),
                                                               "W": rng.normal(size=(5, 4))})),
    "relu_forward": (lambda Z: (np.maximum(Z, 0.0), {"Z": Z}),
                     lambda rng: (rng.normal(size=(3, 4)),)),
    "relu_backward": (lambda dA, cache: dA * (cache["Z"] > 0), _pair_probe),
    "sigmoid_forward": (lambda Z: (_sigmoid(Z), {"Z": Z}), lambda rng: (rng.normal(size=(3, 4)),)),
    "sigmoid_backward": (_sigmoid_backward, _pair_probe),
}
FORWARD_HELPERS = ("affine_forward", "relu_forward", "sigmoid_forward")
BACKWARD_HELPERS = ("affine_backward", "relu_backward", "sigmoid_backward")
