"""What calling train_mlp again shows (part of its self-check and of its graded history
test): its data is left as it was given, and its mini-batches come from its ``seed``
(the same seed gives the same mini-batches, another seed other ones).
"""

from typing import Any, Callable

import numpy as np

from nnlab.checking import check_unchanged
from nnlab.checking.epochs import check_seeded
from nnlab.deep_mlp.checks import steps as check_steps

DATA_NAMES = ("X_train", "Y_train", "X_test", "Y_test")

# call(seed) -> (what train_mlp returned, the record of its calls of mlp_backward)
TrainCall = Callable[[int], tuple[Any, dict[str, Any]]]


def check_data_unchanged(given: tuple[np.ndarray, ...], after: tuple[np.ndarray, ...]) -> None:
    """Raise Failure (``train_inputs_modified``) if train_mlp changed an array it was given.

    Inputs:
    - given: (X_train, Y_train, X_test, Y_test) as they were before the call
    - after: the same arrays, as the call left them
    """
    check_unchanged(DATA_NAMES, given, after, "train_inputs_modified")


def check_seed_used(first: dict[str, Any], call: TrainCall, seed: int,
                    data: tuple[np.ndarray, ...]) -> None:
    """Raise Failure (``train_seed``) unless train_mlp called again with ``seed`` trains on
    the mini-batches of ``first`` (its recording with that seed) and with ``seed + 1`` on
    other ones. Nothing is said when a run records no step or a mini-batch that is not rows
    of the data (the epochs' own check reports those).

    Inputs:
    - first: the recording of a call with ``seed``
    - call: call(seed) runs train_mlp as ``first`` was made, on fresh copies of ``data``
    - data: (X_train, Y_train, X_test, Y_test)
    """
    runs = [_rows(first, data), _rows(call(seed)[1], data), _rows(call(seed + 1)[1], data)]
    if any(not rows or any(index is None for index in rows) for rows in runs):
        return
    check_seeded(*runs)


def _rows(recording: dict[str, Any], data: tuple[np.ndarray, ...]) -> list[Any]:
    """For each recorded step, the training rows it used (None for a step that is not rows
    of X_train)."""
    return [check_steps.rows_of(step["X"], data[0], data[2])
            for step in check_steps.steps_of(recording)]
