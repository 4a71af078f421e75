"""What check("train") reads from train's recorded calls of backprop and sgd_momentum_step:
the rows of each mini-batch (training rows only, each once per epoch, a new order every
epoch, targets that belong to them) and every history entry, recomputed from the params
each epoch's last step returned.

Each function raises ``Failure`` with the hint key of the mistake it recognises (the hints
are in ``train``).
"""

import numpy as np

from nnlab.checking import Failure, as_numbers
from nnlab.utils import accuracy


class RowFinder:
    """Finds rows of X_train (then X_test, numbered after them) by value, to float32
    rounding: a random projection narrows each row down to a few candidates."""

    def __init__(self, X_train, X_test):
        self.both = np.vstack([X_train, X_test]).astype(np.float64)
        self.direction = np.random.default_rng(3).normal(size=self.both.shape[1])
        keys = self.both @ self.direction
        self.order = np.argsort(keys)
        self.keys = keys[self.order]

    def rows(self, X_batch):
        """The index of each row of X_batch, or None if one is no row of either set."""
        try:
            batch = np.asarray(X_batch, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        if batch.ndim != 2 or batch.shape[1] != self.both.shape[1] or not len(batch):
            return None
        keys = batch @ self.direction
        tolerance = 1e-5 * (1 + np.abs(batch).sum(axis=1) * np.abs(self.direction).max())
        found = []
        for row, key, slack in zip(batch, keys, tolerance):
            low, high = np.searchsorted(self.keys, [key - slack, key + slack])
            near = [i for i in self.order[low:high]
                    if np.abs(self.both[i] - row).max() <= 1e-5 * (1 + np.abs(row).max())]
            if not near:
                return None
            found.append(near[0])
        return np.array(found)


def check_rows(rows, n_train):
    """No mini-batch holds a test row."""
    for number, index in enumerate(rows, start=1):
        if (index >= n_train).any():
            raise Failure(f"the mini-batch of step {number} holds "
                          f"{int((index >= n_train).sum())} rows of X_test", ("train_on_test",))


def check_epochs(rows, targets, Y_train, epochs, batches):
    """Each epoch's mini-batches hold every training row once, in a new random order (not
    the given one, not the last epoch's, not the same batches again), with their targets."""
    N = len(Y_train)
    per_epoch = [rows[e * batches:(e + 1) * batches] for e in range(epochs)]
    orders = [np.concatenate(epoch) for epoch in per_epoch]
    for number, order in enumerate(orders, start=1):
        if len(order) != N or len(set(order.tolist())) != N:
            raise Failure(f"the mini-batches of epoch {number} hold {len(order)} rows, "
                          f"{len(set(order.tolist()))} distinct, of the {N} training "
                          f"examples", ("train_steps_per_batch",))
        if np.array_equal(order, np.arange(N)):
            raise Failure(f"epoch {number} visits the examples in their given order (sorted "
                          f"by class): every mini-batch holds one or two digits",
                          ("train_no_shuffle",))
    for number in range(1, epochs):
        if np.array_equal(orders[number], orders[number - 1]):
            raise Failure(f"epochs {number} and {number + 1} visit the examples in the same "
                          f"order", ("train_shuffle_once",))
        if _parts(per_epoch[number]) == _parts(per_epoch[number - 1]):
            raise Failure(f"epochs {number} and {number + 1} use the same mini-batches",
                          ("train_same_batches",))
    for number, (index, target) in enumerate(zip(rows, targets), start=1):
        try:
            right = np.allclose(np.asarray(target, dtype=np.float64), Y_train[index])
        except (TypeError, ValueError):
            right = False
        if not right:
            raise Failure(f"the targets given to backprop at step {number} are not the rows "
                          f"of Y_train of its examples", ("train_labels",))


def _parts(epoch):
    return sorted(sorted(batch.tolist()) for batch in epoch)


def _metrics(forward, average, params, X, Y):
    P = forward(X.copy(), params)["P"]
    return float(average(Y.copy(), P)), float(accuracy(Y, P))


def expected_history(steps, rows, data, epochs, batches, forward, average):
    """{candidate: {key: values per epoch}}: "right" (the params each epoch's last step
    returned, on the whole set) and the usual wrong ones."""
    X_train, Y_train, X_test, Y_test = data
    sets = {"train": (X_train, Y_train), "test": (X_test, Y_test)}

    def floats(params):
        return {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}

    ends = [floats(steps[(e + 1) * batches - 1][1][0]) for e in range(epochs)]
    starts = [floats(steps[e * batches][0]["params"]) for e in range(epochs)]
    seen = [_metrics(forward, average, floats(given["params"]), X_train[index], Y_train[index])
            for (given, _, _), index in zip(steps, rows)]
    on = {(split, kind): [_metrics(forward, average, P, *sets[split]) for P in params]
          for split in sets for kind, params in (("end", ends), ("start", starts))}
    out = {name: {} for name in ("right", "other set", "stale", "batch mean", "last batch")}
    epoch = [seen[e * batches:(e + 1) * batches] for e in range(epochs)]
    for split, other in (("train", "test"), ("test", "train")):
        for which, position in (("loss", 0), ("acc", 1)):
            key = f"{split}_{which}"
            out["right"][key] = [value[position] for value in on[split, "end"]]
            out["other set"][key] = [value[position] for value in on[other, "end"]]
            out["stale"][key] = [value[position] for value in on[split, "start"]]
            out["batch mean"][key] = [np.mean([s[position] for s in e]) for e in epoch]
            out["last batch"][key] = [e[-1][position] for e in epoch]
    return out


_WRONG = (("other set", "train_history_data", "the same on the other set"),
          ("stale", "train_history_stale", "those of the params before the epoch's steps"),
          ("batch mean", "train_history_last_batch", "the mean over the epoch's mini-batches"),
          ("last batch", "train_history_last_batch", "the last mini-batch's"))


def _agrees(got, expected, key):
    expected = np.asarray(expected, dtype=np.float64)
    rtol, atol = (0, 1e-6) if key.endswith("acc") else (1e-4, 1e-6)
    return got.shape == expected.shape and np.allclose(got, expected, rtol=rtol, atol=atol)


def compare_history(values, expected):
    """Each history list against the right values, then the usual wrong ones."""
    for key, got in values.items():
        right = expected["right"][key]
        if _agrees(got, right, key):
            continue
        shown = (f"history[{key!r}] is {np.round(got, 4).tolist()}, expected "
                 f"{np.round(right, 4).tolist()}")
        for candidate, hint, what in _WRONG:
            if _agrees(got, expected[candidate][key], key):
                raise Failure(f"{shown}: {what}", (hint,))
        raise Failure(shown, ("train_history_values",))


def check_returned(params, steps, shapes):
    """The returned params are those the last step returned."""
    last = steps[-1][1][0]
    if not all(np.allclose(as_numbers(params[key]).astype(np.float64),
                           np.asarray(last[key], dtype=np.float64), rtol=1e-6, atol=1e-9)
               for key in shapes):
        raise Failure("the returned params are not those the last sgd_momentum_step "
                      "returned", ("train_returned_params",))
