"""Data and plots for the foundations notebook's demo cells (matplotlib, works with Agg)."""

import numpy as np

from nnlab.foundations.networks import one_hidden_layer


def _pyplot():
    import matplotlib.pyplot as plt
    return plt


def line_with_outliers(n=40, outliers=6, seed=0):
    """Points near the line y = 1 + 2 x, a few of them pushed far above it.

    Inputs:
    - n: number of points; outliers: how many of them are moved up by 15 to 30
    - seed: int or numpy.random.Generator

    Returns:
    - (X, y): X of shape (n, 2), a column of ones then x in [0, 10]; y of shape (n,)
    """
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 10.0, size=n))
    y = 1.0 + 2.0 * x + rng.normal(scale=0.5, size=n)
    moved = rng.choice(n, size=outliers, replace=False)
    y[moved] += rng.uniform(15.0, 30.0, size=outliers)
    return np.column_stack([np.ones(n), x]), y


def plot_line_fits(X, y, fits):
    """Scatter the points (x = X[:, 1]) and draw each fitted line w0 + w1 x.

    Inputs:
    - X: (N, 2), a column of ones then x; y: (N,)
    - fits: {label: w of shape (2,)}

    Returns:
    - the matplotlib Figure
    """
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.scatter(X[:, 1], y, s=14, color="gray", label="data")
    grid = np.linspace(X[:, 1].min(), X[:, 1].max(), 2)
    for label, w in fits.items():
        axis.plot(grid, w[0] + w[1] * grid, linewidth=2,
                  label=f"{label}: y = {w[0]:.2f} + {w[1]:.2f} x")
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.legend()
    figure.tight_layout()
    return figure


def plot_staircases(x, target, networks, steepness=None):
    """Plot a target function and the outputs of several one-hidden-layer networks.

    Inputs:
    - x: grid of shape (M,); target: the function's values on it, shape (M,)
    - networks: {label: params}, params as nnlab.foundations.networks expects
    - steepness: None for step units, or a float for sigmoid(steepness * t) units

    Returns:
    - the matplotlib Figure
    """
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(x, target, color="black", linewidth=2.5, label="target")
    for label, params in networks.items():
        output = one_hidden_layer(x, params, steepness)
        error = np.max(np.abs(output - target))
        axis.plot(x, output, linewidth=1.2, label=f"{label} (max error {error:.3f})")
    axis.set_xlabel("x")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure
