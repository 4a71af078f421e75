"""Plots of the deep_mlp notebook's demo cells (matplotlib; they work headless with Agg)."""

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# a training's history as train_mlp returns it: {"train_loss": [...], ..., "grad_norms": [...]}
History = Mapping[str, Sequence[Any]]


def _pyplot() -> ModuleType:
    import matplotlib.pyplot as plt
    return plt


def plot_trainings(histories: Mapping[str, History]) -> "Figure":
    """Loss and test accuracy per epoch of several trainings, on shared axes.

    Inputs:
    - histories: {label: history}, each history as train_mlp returns it

    Returns:
    - the matplotlib Figure
    """
    plt = _pyplot()
    figure, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(10, 3.5))
    for label, history in histories.items():
        epochs = np.arange(1, len(history["train_loss"]) + 1)
        line, = loss_axis.plot(epochs, history["train_loss"], "-o", label=f"{label} train")
        loss_axis.plot(epochs, history["test_loss"], "--s", color=line.get_color(),
                       label=f"{label} test")
        acc_axis.plot(epochs, history["test_acc"], "-o", color=line.get_color(), label=label)
    loss_axis.set(xlabel="epoch", ylabel="average cross-entropy", title="Loss")
    acc_axis.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy")
    for axis in (loss_axis, acc_axis):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def plot_gradient_norms(histories: Mapping[str, History],
                        sizes: Mapping[str, Sequence[int]]) -> "Figure":
    """Each layer's per-weight RMS of its weight gradient per epoch, one panel per training,
    log scale.

    A layer's mean Frobenius norm ||dW|| grows with its number of weights (784 x 32 in the
    first layer against 32 x 10 in the last), so it is divided by sqrt(n_in * n_out): what is
    left, the typical size of one weight's gradient, is what says whether a layer learns
    slowly.

    Inputs:
    - histories: {label: history}, each with "grad_norms": one list of L floats per epoch
    - sizes: {label: [D, H1, ..., K]}, the layer sizes of each training

    Returns:
    - the matplotlib Figure
    """
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(histories), figsize=(5 * len(histories), 3.5),
                                squeeze=False)
    for axis, (label, history) in zip(axes[0], histories.items()):
        norms = np.asarray(history["grad_norms"], dtype=float)
        widths = np.asarray(sizes[label], dtype=float)
        weights = widths[:-1] * widths[1:]
        if norms.ndim != 2 or norms.shape[1] != weights.size:
            raise ValueError(f"{label}: grad_norms has shape {norms.shape}, expected "
                             f"(epochs, {weights.size}) for sizes {list(sizes[label])}")
        rms = norms / np.sqrt(weights)
        epochs = np.arange(1, norms.shape[0] + 1)
        for layer in range(rms.shape[1]):
            axis.semilogy(epochs, rms[:, layer], "-o", label=f"layer {layer + 1}")
        axis.set(xlabel="epoch", ylabel="per-weight RMS of dW", title=label)
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure
