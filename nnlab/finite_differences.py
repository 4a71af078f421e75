"""Finite differences: the numerical gradient a backward pass is checked against, and the
relative error that compares the two (``nnlab.testing.assert_gradient`` uses both)."""

from typing import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       h: float = 1e-5) -> np.ndarray:
    """Centred finite differences of a scalar function f at x (float64).

    Inputs:
    - f: function of one array returning a float
    - x: float64 array; it is perturbed in place and restored

    Returns:
    - array of x's shape: (f(x + h e_i) - f(x - h e_i)) / (2 h) for every entry i
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        upper = f(x)
        x[index] = saved - h
        lower = f(x)
        x[index] = saved
        grad[index] = (upper - lower) / (2 * h)
    return grad


def relative_error(analytic: object, numeric: object) -> float:
    """||a - n|| / max(||a|| + ||n||, 1e-12); ``nnlab.testing.GRADIENT_THRESHOLD`` is the pass mark.

    In float64 with centred differences a correct gradient gives about 1e-8 or less;
    a wrong one usually gives 1e-2 or more.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    denominator = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12)
    return float(np.linalg.norm(analytic - numeric) / denominator)  # type: ignore[operator]  # a number
