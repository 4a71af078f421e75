"""What a training loop's mini-batches must be, read from the rows each step trained on: one
reading for every assignment's train (two_layer_net's ``train``, deep_mlp's ``train_mlp``)
and for the grader's hidden tests of them.

- ``check_epochs``: ceil(N / batch_size) steps per epoch (the last mini-batch may be smaller,
  never dropped), every training row once per epoch, in a new random order every epoch;
- ``check_seeded``: the order comes from the ``seed`` argument: the same seed gives the same
  mini-batches, another seed other ones (not NumPy's global generator, not a fixed seed);
- ``all_found``: whether every step's rows were found in the data (None for a step whose
  rows were not), before the rows are checked.

Each check raises ``Failure`` with the hint key of the mistake it recognises; an assignment
that uses ``check_epochs`` has hints under ``train_no_shuffle``, ``train_shuffle_once`` and
``train_same_batches`` (and its own key for a wrong number of steps or rows, a dropped last
mini-batch included, given as ``count_hint``), one that uses ``check_seeded`` under
``train_seed``.
"""

from typing import TypeGuard

import numpy as np
import numpy.typing as npt

from nnlab.checking.engine import Failure

Rows = npt.NDArray[np.intp]  # the indices of the training rows one step used


def all_found(rows: list[Rows | None]) -> TypeGuard[list[Rows]]:
    """True if the rows of every step were found (none is None): then ``rows`` can be checked."""
    return all(index is not None for index in rows)


def check_epochs(rows: list, epochs: int, batch_size: int, N: int, count_hint: str) -> None:
    """Each epoch: ceil(N / batch_size) mini-batches holding each of the N training rows
    once, in a new random order (not the given one, not the last epoch's, not the same
    batches again).

    Inputs:
    - rows: for each step, in order, the indices (int arrays) of the training rows it used
    - epochs, batch_size, N: the run's settings and the number of training rows
    - count_hint: the hint key for a wrong number of steps or rows per epoch
    """
    per_epoch = -(-N // batch_size)
    if len(rows) != epochs * per_epoch:
        dropped = N % batch_size and len(rows) == epochs * (N // batch_size)
        raise Failure(f"{len(rows)} steps for {epochs} epochs, expected {epochs * per_epoch} "
                      f"({per_epoch} mini-batches of at most {batch_size} of the {N} "
                      f"examples per epoch)"
                      + (": the last, smaller mini-batch of each epoch is missing"
                         if dropped else ""), (count_hint,))
    batches = [rows[e * per_epoch:(e + 1) * per_epoch] for e in range(epochs)]
    orders = [np.concatenate(epoch) for epoch in batches]
    for number, order in enumerate(orders, start=1):
        if len(order) != N or len(set(order.tolist())) != N:
            raise Failure(f"the mini-batches of epoch {number} hold {len(order)} rows, "
                          f"{len(set(order.tolist()))} distinct, of the {N} training "
                          f"examples", (count_hint,))
        if np.array_equal(order, np.arange(N)):
            raise Failure(f"epoch {number} visits the examples in their given order (sorted "
                          f"by class): every mini-batch holds one or two classes",
                          ("train_no_shuffle",))
    for number in range(1, epochs):
        if np.array_equal(orders[number], orders[number - 1]):
            raise Failure(f"epochs {number} and {number + 1} visit the examples in the same "
                          f"order", ("train_shuffle_once",))
        if _parts(batches[number]) == _parts(batches[number - 1]):
            raise Failure(f"epochs {number} and {number + 1} use the same mini-batches",
                          ("train_same_batches",))


def check_seeded(first: list, again: list, other: list) -> None:
    """The mini-batches come from the seed: ``again`` (the same call, the same seed) holds
    the same rows in the same order as ``first``; ``other`` (another seed) does not.

    Inputs: for each of three runs, the rows of each step (as in ``check_epochs``)
    """
    if not _same(first, again):
        raise Failure("two calls with the same seed trained on different mini-batches",
                      ("train_seed",))
    if _same(first, other):
        raise Failure("calls with two different seeds trained on the same mini-batches",
                      ("train_seed",))


def _same(first: list, second: list) -> bool:
    return len(first) == len(second) and all(
        np.array_equal(a, b) for a, b in zip(first, second))


def _parts(epoch: list) -> list:
    return sorted(sorted(batch.tolist()) for batch in epoch)
