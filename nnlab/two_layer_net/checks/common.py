"""What several checks of the two-layer network share, and ``gradient_check``.

- ``log_softmax``: an independent softmax (by log-sum-exp), to verify with;
- ``random_params``, ``tiny_problem``: small random networks and problems;
- ``numeric_gradients``: centred finite differences of the loss, for each parameter;
- ``gradient_check``: backprop against those finite differences, printed for students.
"""

import copy
from typing import Any, Callable

import numpy as np
import numpy.typing as npt

from nnlab.testing import GRADIENT_THRESHOLD, numerical_gradient, relative_error
from nnlab.two_layer_net import PARAM_KEYS, Array, Params


def log_softmax(x: npt.ArrayLike) -> Array:
    """Log-probabilities by log-sum-exp, along the last axis (used only to verify)."""
    x = np.asarray(x, dtype=np.float64)
    top = np.max(x, axis=-1, keepdims=True)
    return x - top - np.log(np.sum(np.exp(x - top), axis=-1, keepdims=True))


def random_params(rng: np.random.Generator, D: int, H: int, K: int) -> Params:
    """Random float64 params for a network of D inputs, H hidden units and K classes."""
    return {"W1": rng.normal(size=(D, H)), "b1": rng.normal(scale=0.5, size=H),
            "W2": rng.normal(size=(H, K)), "b2": rng.normal(scale=0.5, size=K)}


def tiny_problem(forward: Callable[..., Any], seed: int,
                 all_active: bool = False) -> tuple[Array, Array, Params]:
    """X (4, 5), one-hot target (4, 3), params for H=3 whose |Z1| >= 0.1 everywhere.

    With all_active, b1 is raised so that every hidden pre-activation is >= 0.5.
    Z1 comes from ``forward``; its other outputs are not used.
    """
    N, D, H, K = 4, 5, 3, 3
    for attempt in range(200):
        rng = np.random.default_rng([seed, attempt])
        X = rng.normal(size=(N, D))
        target = np.eye(K)[rng.permutation([0, 1, 2, int(rng.integers(K))])]
        params = random_params(rng, D, H, K)
        Z1 = np.asarray(forward(X.copy(), copy.deepcopy(params))["Z1"], dtype=np.float64)
        if all_active:
            params["b1"] = params["b1"] + 0.5 - Z1.min(axis=0)
            return X, target, params
        if np.abs(Z1).min() >= 0.1 and (Z1 < 0).sum() >= 3 and (Z1 > 0).sum() >= 3:
            return X, target, params
    raise RuntimeError("no tiny problem with pre-activations away from 0 was found")


def numeric_gradients(forward: Callable[..., Any], averageCE: Callable[..., Any], X: Array,
                      target: Array, params: Params, h: float = 1e-5) -> Params:
    """Centred finite differences of averageCE(target, forward(X, params)["P"])."""
    numeric = {}
    for key in PARAM_KEYS:
        probe = {name: np.array(value, dtype=np.float64) for name, value in params.items()}

        def loss(value: Array, key: str = key, probe: Params = probe) -> float:
            probe[key] = value
            return float(averageCE(target.copy(), forward(X.copy(), probe)["P"]))

        numeric[key] = numerical_gradient(loss, probe[key].copy(), h)
    return numeric


def gradient_check(backprop: Callable[..., Any], forward: Callable[..., Any],
                   averageCE: Callable[..., Any], params: Params | None = None,
                   X: Array | None = None, target: Array | None = None,
                   seed: int = 0, threshold: float = GRADIENT_THRESHOLD,
                   verbose: bool = True) -> dict[str, float]:
    """Compare backprop's gradients with centred finite differences of the loss.

    The loss is averageCE(target, forward(X, params)["P"]), computed with the functions
    you pass (usually your own). Without params, a tiny float64 problem is made
    (N=4, D=5, H=3, K=3) whose hidden pre-activations all lie at least 0.1 from 0, so
    that the ReLU's kink does not spoil the finite differences.

    Inputs:
    - backprop, forward, averageCE: the functions to check and to take the loss with
    - params: optional {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
    - X: optional inputs (N, D); target: optional one-hot targets (N, K); both are
      drawn at random (N=4) when missing. They need params: passing X or target
      without params raises ValueError
    - seed: seed of the random problem
    - threshold: largest relative error that counts as OK
    - verbose: print one line per parameter (and the worst entries when it fails)

    Returns:
    - errors: {"W1": float, "b1": float, "W2": float, "b2": float}, the relative error
      ||analytic - numeric|| / (||analytic|| + ||numeric||) of each gradient (inf when a
      gradient is missing or has the wrong shape)

    Exceptions raised by the functions passed in are not caught (their traceback shows
    where the problem is); check("backprop") catches them.
    """
    if params is None:
        if X is not None or target is not None:
            raise ValueError("gradient_check: pass params together with X and target "
                             "(or none of them, for a small random problem)")
        X, target, params = tiny_problem(forward, seed)
    else:
        params = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
        rng = np.random.default_rng(seed)
        if X is None:
            X = rng.normal(size=(4, params["W1"].shape[0]))
        if target is None:
            K = params["W2"].shape[1]
            target = np.eye(K)[rng.integers(0, K, size=np.shape(X)[0])]
    X = np.asarray(X, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    cache = forward(X.copy(), copy.deepcopy(params))
    if verbose:
        z1 = np.asarray(cache["Z1"], dtype=np.float64)
        if np.abs(z1).min() < 1e-4:
            print("gradient_check: warning: a hidden pre-activation is within 1e-4 of 0,\n"
                  "  where ReLU has a kink; finite differences may be off there.")
    grads = backprop(X.copy(), target.copy(), copy.deepcopy(params), copy.deepcopy(cache))
    numeric = numeric_gradients(forward, averageCE, X, target, params)
    N, D = X.shape
    H, K = params["W2"].shape
    if verbose:
        print(f"gradient check (N={N}, D={D}, H={H}, K={K}, centred differences, "
              f"h=1e-05; OK below {threshold:.0e}):")
    errors = {}
    for key in PARAM_KEYS:
        analytic = grads.get(key) if isinstance(grads, dict) else None
        if analytic is None:
            errors[key] = float("inf")
            if verbose:
                print(f"  {key:<3} missing from what backprop returned  FAIL")
            continue
        analytic = np.asarray(analytic, dtype=np.float64)
        if analytic.shape != numeric[key].shape:
            errors[key] = float("inf")
            if verbose:
                print(f"  {key:<3} has shape {analytic.shape}, expected "
                      f"{numeric[key].shape}  FAIL")
            continue
        errors[key] = relative_error(analytic, numeric[key])
        ok = errors[key] < threshold
        if verbose:
            print(f"  {key:<3} relative error {errors[key]:.2e}  {'OK' if ok else 'FAIL'}")
            if not ok:
                print("      worst entries (index: backprop, finite differences):")
                difference = np.abs(analytic - numeric[key]).ravel()
                for flat in np.argsort(difference)[::-1][:3]:
                    index = tuple(int(i) for i in np.unravel_index(flat, analytic.shape))
                    print(f"      {key}{list(index)}: {analytic.ravel()[flat]:.6g}, "
                          f"{numeric[key].ravel()[flat]:.6g}")
    return errors
