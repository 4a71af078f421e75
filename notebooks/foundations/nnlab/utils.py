"""Small helpers given to students: one-hot encoding, initialisation, accuracy."""

import numpy as np


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Encode integer class labels as one-hot rows.

    Inputs:
    - labels: integer array of shape (N,) with values in [0, num_classes)
    - num_classes: K, the number of classes

    Returns:
    - targets: float64 array of shape (N, K) with a single 1 per row
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D integer array, got shape {labels.shape} "
                         f"and dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got values "
                         f"from {labels.min()} to {labels.max()}")
    targets = np.zeros((labels.shape[0], num_classes))
    targets[np.arange(labels.shape[0]), labels] = 1.0
    return targets


def init_params(D: int, H: int, K: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-initialised weights and zero biases for a D -> H -> K network.

    Inputs:
    - D, H, K: input, hidden and output sizes
    - rng: a numpy.random.Generator (the caller picks the seed)

    Returns:
    - params: dict {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}, float64
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator, "
                        "e.g. np.random.default_rng(0)")
    return {
        "W1": rng.normal(0.0, np.sqrt(2.0 / D), size=(D, H)),
        "b1": np.zeros(H),
        "W2": rng.normal(0.0, np.sqrt(2.0 / H), size=(H, K)),
        "b2": np.zeros(K),
    }


def accuracy(targets: np.ndarray, probabilities: np.ndarray) -> float:
    """Fraction of rows whose most probable class is the target class.

    Inputs:
    - targets: one-hot array of shape (N, K)
    - probabilities: array of shape (N, K), e.g. softmax outputs

    Returns:
    - float in [0, 1]
    """
    return float(np.mean(np.argmax(probabilities, axis=1) == np.argmax(targets, axis=1)))
