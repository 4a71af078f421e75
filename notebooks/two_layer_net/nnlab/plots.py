"""Plots for the training notebook (matplotlib; they work headless with Agg)."""

import numpy as np


def _pyplot():
    import matplotlib.pyplot as plt
    return plt


def show_digits(images, labels=None, probabilities=None, columns=10):
    """Show images of shape (n, 784) in a grid, titled with labels (and probabilities).

    Inputs:
    - images: array (n, 784) with values in [0, 1]
    - labels: optional int array (n,), e.g. true or predicted classes
    - probabilities: optional array (n,), shown next to the labels

    Returns:
    - the matplotlib Figure
    """
    plt = _pyplot()
    images = np.asarray(images)
    rows = int(np.ceil(len(images) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(1.2 * columns, 1.4 * rows), squeeze=False)
    for i, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if i >= len(images):
            continue
        axis.imshow(images[i].reshape(28, 28), cmap="gray_r")
        if labels is not None:
            title = str(labels[i])
            if probabilities is not None:
                title += f" ({probabilities[i]:.2f})"
            axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure


def plot_history(history):
    """Loss and accuracy per epoch, train and test, side by side.

    Inputs:
    - history: dict of per-epoch lists "train_loss", "train_acc", "test_loss", "test_acc"

    Returns:
    - the matplotlib Figure
    """
    plt = _pyplot()
    figure, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(10, 3.5))
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    for split, style in (("train", "-o"), ("test", "--s")):
        loss_axis.plot(epochs, history[f"{split}_loss"], style, label=split)
        acc_axis.plot(epochs, history[f"{split}_acc"], style, label=split)
    loss_axis.set(xlabel="epoch", ylabel="average cross-entropy", title="Loss")
    acc_axis.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for axis in (loss_axis, acc_axis):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return figure
