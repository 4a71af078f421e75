"""Plots for the training notebook (matplotlib; they work headless with Agg)."""

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _pyplot() -> Any:
    import matplotlib.pyplot as plt
    return plt


def show_digits(images: np.ndarray, labels: np.ndarray | None = None,
                probabilities: np.ndarray | None = None, columns: int = 10) -> "Figure":
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


def plot_history(history: dict[str, list[float]]) -> "Figure":
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


def show_predictions(images: np.ndarray, targets: np.ndarray, probabilities: np.ndarray,
                     count: int = 20, columns: int = 10) -> "Figure":
    """A grid of images titled with the predicted class and its probability.

    Wrong predictions are titled in red with the true class in brackets.

    Inputs:
    - images: array (M, 784); targets: one-hot (M, K); probabilities: (M, K)
    - count: how many images to show (the first ``count``)

    Returns:
    - the matplotlib Figure
    """
    plt = _pyplot()
    predicted = np.argmax(probabilities, axis=1)
    truth = np.argmax(targets, axis=1)
    count = min(count, len(images))
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.6 * rows), squeeze=False)
    for i, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if i >= count:
            continue
        axis.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray_r")
        right = predicted[i] == truth[i]
        title = f"{predicted[i]} ({probabilities[i, predicted[i]]:.2f})"
        axis.set_title(title if right else f"{title} [{truth[i]}]", fontsize=8,
                       color="black" if right else "red")
    figure.tight_layout()
    return figure


def confusion_matrix(targets: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Counts (K, K): row = true class, column = predicted class.

    Inputs:
    - targets: one-hot (M, K); probabilities: (M, K)

    Returns:
    - int array (K, K)
    """
    K = targets.shape[1]
    counts = np.zeros((K, K), dtype=np.int64)
    np.add.at(counts, (np.argmax(targets, axis=1), np.argmax(probabilities, axis=1)), 1)
    return counts


def plot_confusion(targets: np.ndarray, probabilities: np.ndarray,
                   class_names: Sequence[str] | None = None) -> "Figure":
    """Show the confusion matrix with its counts.

    Inputs:
    - targets: one-hot (M, K); probabilities: (M, K)
    - class_names: optional K labels (default 0..K-1)

    Returns:
    - the matplotlib Figure
    """
    plt = _pyplot()
    counts = confusion_matrix(targets, probabilities)
    K = counts.shape[0]
    names = list(class_names) if class_names is not None else [str(k) for k in range(K)]
    figure, axis = plt.subplots(figsize=(6, 5))
    image = axis.imshow(counts, cmap="Blues")
    for (i, j), value in np.ndenumerate(counts):
        axis.text(j, i, str(value), ha="center", va="center", fontsize=7,
                  color="white" if value > counts.max() / 2 else "black")
    axis.set(xticks=range(K), yticks=range(K), xlabel="predicted", ylabel="true",
             title=f"Confusion matrix (accuracy {np.trace(counts) / counts.sum():.3f})")
    axis.set_xticklabels(names, rotation=45, ha="right")
    axis.set_yticklabels(names)
    figure.colorbar(image, ax=axis)
    figure.tight_layout()
    return figure
