"""Self-checks of the layers: affine, ReLU, sigmoid (forward/backward pairs) and softmax
cross-entropy. Each ``_check_<function>(run, function)`` runs on the engine of
``nnlab.checking``; ``Failure(got, hints)`` names the keys of HINTS that explain it."""

from typing import Any, Callable

import numpy as np
import numpy.typing as npt

from nnlab.checking import Failure, as_numbers, count_changed, is_close, worst_entry
from nnlab.checking.engine import Run
from nnlab.deep_mlp import Array, handout
from nnlab.testing import describe

HINTS = {
    "layer_pair": "a forward returns the pair (output, cache): `return Z, {\"X\": X, \"W\": W}` "
                  "for affine_forward, `return A, {\"Z\": Z}` for the activations.",
    "affine_forward_values": "Z = X @ W + b: X is (N, D), W is (D, H), b (H,) is added to "
                             "every row.",
    "affine_no_bias": "Z equals X @ W: the bias b is not added.",
    "affine_cache": "affine_forward's cache is {\"X\": X, \"W\": W}: the input and the "
                    "weights, which affine_backward needs.",
    "affine_backward_values": "with Z = X W + b: dX = dZ W^T (N, D), dW = X^T dZ (D, H), "
                              "db = the column sums of dZ (H,).",
    "affine_db_mean": "db is the mean of dZ's rows: it is their sum (the loss already "
                      "averages over the batch, in softmax_ce_loss).",
    "affine_dW_transposed": "dW is transposed, shape (H, D): dW = X^T dZ = X.T @ dZ has W's "
                            "shape (D, H), not dZ.T @ X.",
    "affine_db_axis": "db sums dZ over the wrong axis: one entry per example (axis=1) instead "
                      "of one per unit, dZ.sum(axis=0), of b's shape (H,).",
    "affine_dW_mean": "dW is divided by N: it is X^T dZ without averaging (dZ already holds "
                      "the 1/N of the mean loss, from softmax_ce_loss).",
    "affine_backward_triple": "affine_backward returns the triple (dX, dW, db).",
    "relu_forward_abs": "relu(Z) is not |Z|: negative entries become 0, not their absolute "
                        "value: np.maximum(Z, 0).",
    "relu_forward_values": "relu(Z) = max(Z, 0), entry by entry (np.maximum, not np.max).",
    "cache_preactivation": "the cache must hold the pre-activation Z (the layer's input), "
                           "not the activation A: the backward pass needs the derivative at Z.",
    "relu_backward_values": "dZ = dA where Z > 0 and 0 elsewhere: multiply dA by (Z > 0), "
                            "with Z from the cache.",
    "sigmoid_forward_values": "sigmoid(Z) = 1 / (1 + exp(-Z)), entry by entry.",
    "sigmoid_overflow": "exp(-Z) overflows for Z = -1000: use exp(-|Z|), which is at most 1, "
                        "and 1 / (1 + e) where Z >= 0, e / (1 + e) where Z < 0.",
    "sigmoid_at_activation": "you take the sigmoid's derivative at the activation A = s(Z): "
                             "dZ = dA * s(A) (1 - s(A)). It is s(Z) (1 - s(Z)), at the "
                             "pre-activation Z: compute A = s(Z) once, then dA * A * (1 - A). "
                             "This is the seed network's bug, which stalls it near 76%.",
    "sigmoid_z_as_a": "you use Z (1 - Z): that formula is for the activation A = s(Z), "
                      "so compute A = s(cache[\"Z\"]) first, then dA * A * (1 - A).",
    "sigmoid_backward_values": "dZ = dA * s(Z) * (1 - s(Z)), with s the sigmoid and Z the "
                               "pre-activation from the cache.",
    "ce_values": "loss = -(1/N) sum over n of log p[n, true class]; p = softmax of each row "
                 "of scores; dscores = (p - Y) / N.",
    "ce_not_mean": "divide by N, the number of examples: the loss is the batch's mean, and "
                   "so is its gradient, (P - Y) / N.",
    "ce_overflow": "subtract each row's maximum from the scores before exp: softmax does not "
                   "change, and exp never overflows (scores of 1000 must work).",
    "ce_pair": "softmax_ce_loss returns the pair (loss, dscores): a float and an (N, K) array.",
    "layer_inplace": "a layer changed its arguments: compute new arrays (Z = Z * mask "
                     "rather than Z *= mask or Z[Z < 0] = 0).",
}


def _sigmoid(Z: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


def _pair(value: object, hint: str) -> tuple[Any, ...] | list[Any]:
    if value is None:
        raise Failure("returned None", ("no_return",))
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Failure(f"returned {describe(value)}", (hint,))
    return value


def _compare(got: Any, expected: npt.ArrayLike, what: str,
             hints: tuple[str, ...]) -> np.ndarray:
    got = as_numbers(got)
    if got.shape != np.shape(expected):
        raise Failure(f"{what} has shape {got.shape}, expected {np.shape(expected)}",
                      ("shape_error",))
    if not is_close(got, expected):
        raise Failure(f"{what}: {worst_entry(got, expected)}", hints)
    return got


def _inputs() -> tuple[Array, Array, Array]:
    rng = np.random.default_rng(7)  # not a seed of the graded tests
    return rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)


def _cache_of(value: object, hint: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise Failure(f"the cache is {describe(value)}", (hint,))
    return value


def _check_affine_forward(run: Run, affine_forward: Callable[..., Any]) -> None:
    X, W, b = _inputs()
    with run.check("affine_forward(X (4, 3), W (3, 5), b (5,))"):
        given = (X.copy(), W.copy(), b.copy())
        Z, cache = _pair(run.call(affine_forward, *given), "layer_pair")
        if is_close(as_numbers(Z), X @ W):
            raise Failure("Z equals X @ W", ("affine_no_bias",))
        _compare(Z, X @ W + b, "Z", ("affine_forward_values",))
        cache = _cache_of(cache, "affine_cache")
        if not all(key in cache for key in ("X", "W")) or not is_close(
                as_numbers(cache["X"]), X) or not is_close(as_numbers(cache["W"]), W):
            raise Failure(f"the cache is {describe(cache)}", ("affine_cache",))
        if sum(count_changed(a, g) for a, g in zip((X, W, b), given)):
            raise Failure("an argument was changed in place", ("layer_inplace",))


def _check_affine_backward(run: Run, affine_backward: Callable[..., Any]) -> None:
    X, W, _ = _inputs()
    dZ = np.random.default_rng(8).normal(size=(4, 5))
    with run.check("affine_backward(dZ (4, 5), {'X': (4, 3), 'W': (3, 5)})"):
        value = run.call(affine_backward, dZ.copy(), {"X": X.copy(), "W": W.copy()})
        if value is None:
            raise Failure("returned None", ("no_return",))
        if not isinstance(value, (tuple, list)) or len(value) != 3:
            raise Failure(f"returned {describe(value)}", ("affine_backward_triple",))
        dX, dW, db = value
        _compare(dX, dZ @ W.T, "dX", ("affine_backward_values",))
        dW_got, db_got = as_numbers(dW), as_numbers(db)
        if dW_got.shape == W.T.shape and is_close(dW_got, dZ.T @ X):
            raise Failure(f"dW has shape {dW_got.shape}, expected {W.shape}: the transpose "
                          f"of X^T dZ", ("affine_dW_transposed",))
        if dW_got.shape == W.shape and is_close(dW_got, X.T @ dZ / len(dZ)):
            raise Failure("dW is X^T dZ / N", ("affine_dW_mean",))
        _compare(dW, X.T @ dZ, "dW", ("affine_backward_values",))
        if db_got.shape == (len(dZ),) and is_close(db_got, dZ.sum(axis=1)):
            raise Failure(f"db has shape {db_got.shape}, expected ({dZ.shape[1]},): dZ's "
                          f"row sums", ("affine_db_axis",))
        if as_numbers(db).shape == (5,) and is_close(as_numbers(db), dZ.mean(axis=0)):
            raise Failure("db is the mean of dZ's rows", ("affine_db_mean",))
        _compare(db, dZ.sum(axis=0), "db", ("affine_backward_values",))


def _check_activation_forward(run: Run, function: Callable[..., Any], name: str,
                              expected_of: Callable[[Array], Array], hint: str) -> None:
    Z = np.array([[-2.0, -0.5, 0.0], [0.25, 1.5, 3.0]])
    with run.check(f"{name}(Z (2, 3))"):
        given = Z.copy()
        A, cache = _pair(run.call(function, given), "layer_pair")
        if name == "relu_forward" and is_close(as_numbers(A), np.abs(Z)):
            raise Failure("A = |Z|", ("relu_forward_abs",))
        _compare(A, expected_of(Z), "A", (hint,))
        if count_changed(Z, given):  # (then its cache holds the changed Z too)
            raise Failure("Z was changed in place", ("layer_inplace",))
        cache = _cache_of(cache, "cache_preactivation")
        if "Z" not in cache:
            raise Failure(f"the cache is {describe(cache)}", ("cache_preactivation",))
        if not is_close(as_numbers(cache["Z"]), Z):
            raise Failure("cache['Z'] is not the Z it was given", ("cache_preactivation",))


def _check_relu_forward(run: Run, relu_forward: Callable[..., Any]) -> None:
    _check_activation_forward(run, relu_forward, "relu_forward",
                              lambda Z: np.maximum(Z, 0.0), "relu_forward_values")


def _check_sigmoid_forward(run: Run, sigmoid_forward: Callable[..., Any]) -> None:
    _check_activation_forward(run, sigmoid_forward, "sigmoid_forward", _sigmoid,
                              "sigmoid_forward_values")
    with run.check("sigmoid_forward at the handout's Z = [-2, 0, 3]"):
        A, _ = _pair(run.call(sigmoid_forward, handout.SIGMOID_Z.copy()), "layer_pair")
        _compare(A, handout.SIGMOID_A, "A", ("sigmoid_forward_values",))
    with run.check("sigmoid_forward at Z = [-1000, 1000] (no overflow)"):
        A, _ = _pair(run.call(sigmoid_forward, np.array([[-1000.0, 1000.0]])), "layer_pair")
        if run.caught or not is_close(as_numbers(A), np.array([[0.0, 1.0]])):
            raise Failure(f"A = {describe(A)}", ("sigmoid_overflow",))


def _check_relu_backward(run: Run, relu_backward: Callable[..., Any]) -> None:
    Z = np.array([[-2.0, -0.5, 0.5], [0.25, -1.5, 3.0]])
    dA = np.array([[1.0, 2.0, 3.0], [-4.0, 5.0, -6.0]])
    with run.check("relu_backward(dA (2, 3), {'Z': (2, 3)})"):
        given = (dA.copy(), {"Z": Z.copy()})
        dZ = run.call(relu_backward, *given)
        if dZ is None:
            raise Failure("returned None", ("no_return",))
        _compare(dZ, dA * (Z > 0), "dZ", ("relu_backward_values",))
        if count_changed(dA, given[0]) + count_changed({"Z": Z}, given[1]):
            raise Failure("an argument was changed in place", ("layer_inplace",))


def _check_sigmoid_backward(run: Run, sigmoid_backward: Callable[..., Any]) -> None:
    Z = handout.SIGMOID_Z
    dA = np.ones_like(Z)
    with run.check("sigmoid_backward(ones, {'Z': the handout's Z = [-2, 0, 3]})"):
        dZ = run.call(sigmoid_backward, dA.copy(), {"Z": Z.copy()})
        if dZ is None:
            raise Failure("returned None", ("no_return",))
        got = as_numbers(dZ)
        if got.shape == Z.shape and is_close(got, handout.SIGMOID_DERIVATIVE_AT_A):
            raise Failure(f"dZ = {np.round(got, 4).tolist()}, the derivative at A = s(Z)",
                          ("sigmoid_at_activation",))
        if got.shape == Z.shape and is_close(got, Z * (1 - Z)):
            raise Failure(f"dZ = {np.round(got, 4).tolist()} = Z (1 - Z)", ("sigmoid_z_as_a",))
        _compare(got, handout.SIGMOID_DERIVATIVE, "dZ", ("sigmoid_backward_values",))
    with run.check("sigmoid_backward scales dA entry by entry"):
        dA = np.array([[2.0, -1.0, 0.5]])
        _compare(run.call(sigmoid_backward, dA, {"Z": Z.copy()}),
                 dA * handout.SIGMOID_DERIVATIVE, "dZ", ("sigmoid_backward_values",))


def _check_softmax_ce_loss(run: Run, softmax_ce_loss: Callable[..., Any]) -> None:
    scores = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    P = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss_expected = -np.log(P[Y > 0]).mean()
    with run.check("softmax_ce_loss on 2 examples, 3 classes"):
        loss, dscores = _pair(run.call(softmax_ce_loss, scores.copy(), Y.copy()), "ce_pair")
        loss = as_numbers(loss)
        if loss.shape != ():
            raise Failure(f"loss is {describe(loss)}", ("ce_pair",))
        if is_close(loss, 2 * loss_expected):
            raise Failure(f"loss = {float(loss):.6g}, the sum over the batch", ("ce_not_mean",))
        _compare(loss, loss_expected, "loss", ("ce_values",))
        if is_close(as_numbers(dscores), P - Y):
            raise Failure("dscores = P - Y", ("ce_not_mean",))
        _compare(dscores, (P - Y) / 2, "dscores", ("ce_values",))
    with run.check("softmax_ce_loss with scores of 1000 (stability)"):
        loss, dscores = _pair(run.call(softmax_ce_loss, scores * 1000, Y.copy()), "ce_pair")
        if run.caught or not np.all(np.isfinite(as_numbers(dscores))) \
                or not np.isfinite(as_numbers(loss)):
            raise Failure(f"loss = {describe(loss)}", ("ce_overflow",))


CHECKERS = {
    "affine_forward": _check_affine_forward,
    "affine_backward": _check_affine_backward,
    "relu_forward": _check_relu_forward,
    "relu_backward": _check_relu_backward,
    "sigmoid_forward": _check_sigmoid_forward,
    "sigmoid_backward": _check_sigmoid_backward,
    "softmax_ce_loss": _check_softmax_ce_loss,
}
