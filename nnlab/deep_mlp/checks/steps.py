"""What check("train_mlp") reads from train_mlp's recorded calls (nnlab.recording): the
steps (each mlp_backward call with the mini-batch of the mlp_forward and softmax_ce_loss
calls before it), the training rows of each mini-batch, the parameters after every step
rebuilt from the recorded gradients, and the history entries compared with them.

Each ``check_*``/``compare_*`` raises ``Failure`` with the hint key of the mistake it
recognises (the hints are in ``checks.training``, whose ``audit`` runs them all on one
recording). Which rows each epoch must visit is ``nnlab.checking.epochs``' (shared with
two_layer_net's train).
"""

from collections.abc import Mapping
from typing import Any, Callable, TypedDict

import numpy as np

from nnlab.checking import Failure, as_numbers
from nnlab.checking.epochs import Rows, check_epochs
from nnlab.deep_mlp import Array, Params

# the expected history entries, {candidate: {key: one value per epoch}}
Histories = dict[str, dict[str, list[float]]]


class Step(TypedDict):
    """One recorded step (``steps_of``): its mini-batch, targets, params and gradients."""
    X: object
    Y: object
    params: Params
    grads: Params


_NAMES = {"mlp_forward": ("X", "params", "activations"),
          "softmax_ce_loss": ("scores", "Y"),
          "mlp_backward": ("dscores", "caches", "params", "activations")}


def _bound(call: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded call's arguments by parameter name, or {} if they do not fit."""
    names = _NAMES[call["name"]]
    args, kwargs = call["args"], call["kwargs"]
    if len(args) > len(names) or set(kwargs) - set(names[len(args):]):
        return {}
    return dict(zip(names, args), **kwargs)


def _weights(value: object) -> Params | None:
    """{key: float64 array} of a params or grads dict, or None if it is not one."""
    if not isinstance(value, dict) or not value or not all(
            isinstance(key, str) for key in value):
        return None
    try:
        out = {key: np.asarray(item, dtype=np.float64) for key, item in value.items()}
    except (TypeError, ValueError):
        return None
    return out


def _batch_input(caches: Any, dscores: Any) -> object:
    """The first layer's A_prev in mlp_backward's caches if it has one row per row of
    dscores, else None."""
    if not isinstance(caches, (list, tuple)) or not caches or not isinstance(caches[0], dict):
        return None
    first: Any = caches[0].get("A_prev")  # whatever the student cached
    if np.ndim(first) != 2 or np.ndim(dscores) != 2 or len(first) != len(dscores):
        return None
    return first


def steps_of(recording: Mapping[str, Any] | None) -> list[Step]:
    """[{"X", "Y", "params", "grads"}] for each recorded mlp_backward call, in order: X
    the first cache's A_prev (else the last mlp_forward call's X before it), Y the last
    softmax_ce_loss call's before it; [] if there is no readable step."""
    steps: list[Step] = []
    X, Y = None, None
    for call in (recording or {}).get("calls", []):
        given = _bound(call)
        if call["name"] == "mlp_forward":
            X = given.get("X")
        elif call["name"] == "softmax_ce_loss":
            Y = given.get("Y")
        elif call["name"] == "mlp_backward":
            params, grads = _weights(given.get("params")), _weights(call["result"])
            caches, dscores = given.get("caches"), given.get("dscores")
            first = _batch_input(caches, dscores)
            X = X if first is None else first  # the mini-batch, whatever was evaluated since
            if params is None or grads is None or X is None \
                    or set(params) != set(grads) or any(
                        params[key].shape != grads[key].shape for key in params):
                return []
            steps.append({"X": X, "Y": Y, "params": params, "grads": grads})
            X = Y = None
    return steps


def rows_of(X_batch: object, X_train: Array, X_test: Array) -> Rows | None:
    """The index of each row of a mini-batch in X_train (X_test's rows numbered after
    X_train's), to float32 rounding; None if some row is neither's."""
    try:
        batch = np.asarray(X_batch, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if batch.ndim != 2 or batch.shape[1] != X_train.shape[1] or not len(batch):
        return None
    both = np.vstack([X_train, X_test])
    distance = np.abs(batch[:, None, :] - both[None, :, :]).max(axis=2)
    index = distance.argmin(axis=1)
    close = distance[np.arange(len(batch)), index] <= 1e-5 * (1 + np.abs(batch).max(axis=1))
    return index if close.all() else None


def check_last_batch_kept(recording: dict, data: tuple, epochs: int, batch_size: int) -> None:
    """A recorded run whose batch_size does not divide N: every epoch's ceil(N / batch_size)
    mini-batches (the last one smaller, not dropped) hold each training row once, in a new
    order (``nnlab.checking.epochs.check_epochs``); nothing to say if no step is readable."""
    rows = [rows_of(step["X"], data[0], data[2]) for step in steps_of(recording)]
    if rows and all(index is not None for index in rows):
        check_epochs(rows, epochs, batch_size, len(data[0]), "train_batches")


def _close(first: Params, second: Params) -> bool:
    return all(first[key].shape == second[key].shape
               and np.allclose(first[key], second[key], rtol=1e-4, atol=1e-6)
               for key in first)


def replay(steps: list[Step], returned: object, lr: float, momentum: float) -> list[Params]:
    """The params before each step and after the last (len(steps) + 1 dicts), rebuilt from
    the first step's params and the recorded gradients; a Failure if a step's params or
    the returned ones differ from them."""
    params = dict(steps[0]["params"])
    velocity = {key: np.zeros_like(value) for key, value in params.items()}
    trail = [params]
    for number, step in enumerate(steps, start=1):
        if number > 1 and not _close(params, step["params"]):
            key = next(key for key in params if not np.allclose(
                params[key], step["params"][key], rtol=1e-4, atol=1e-6))
            raise Failure(f"the params at step {number} are not step {number - 1}'s moved "
                          f"by its velocity ({key} differs)", ("train_update",))
        velocity = {key: momentum * velocity[key] - lr * step["grads"][key] for key in params}
        params = {key: params[key] + velocity[key] for key in params}
        trail.append(params)
    final = _weights(returned)
    if final is None or set(final) != set(params) or not _close(params, final):
        start = final is not None and set(final) == set(params) and _close(trail[0], final)
        raise Failure("the returned params are not those after the last step"
                      + (" (they are the initial ones)" if start else ""),
                      ("train_returned_params",))
    return trail


_WRONG = (("other set", "train_history_data", "the same on the other set"),
          ("stale", "train_history_stale", "those of the params before the epoch's steps"),
          ("batch mean", "train_history_batches", "the mean over the epoch's mini-batches"),
          ("last batch", "train_history_batches", "the last mini-batch's"))


def _agrees(got: Array, expected: object, key: str) -> bool:
    expected = np.asarray(expected, dtype=np.float64)
    if key.endswith("acc"):
        return got.shape == expected.shape and np.allclose(got, expected, rtol=0, atol=1e-6)
    return got.shape == expected.shape and np.allclose(got, expected, rtol=1e-4, atol=1e-6)


def compare_history(history: Mapping[str, object], expected: Histories, epochs: int) -> None:
    """Each history list against the right values, then the usual wrong ones."""
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        got = as_numbers(history[key]).astype(np.float64).reshape(-1)
        if got.shape != (epochs,):
            raise Failure(f"history[{key!r}] holds {got.size} numbers for {epochs} epochs",
                          ("train_format",))
        right = expected["right"][key]
        if _agrees(got, right, key):
            continue
        shown = (f"history[{key!r}] is {np.round(got, 4).tolist()}, expected "
                 f"{np.round(right, 4).tolist()}")
        for candidate, hint, what in _WRONG:
            if _agrees(got, expected[candidate][key], key):
                raise Failure(f"{shown}: {what}", (hint,))
        raise Failure(shown, ("train_history_values",))


def compare_norms(norms: object, steps: list[Step], epochs: int, per_epoch: int,
                  layers: int) -> None:
    """history["grad_norms"] against the mean over each epoch's steps of ||dW_l||."""
    got = as_numbers(norms).astype(np.float64)
    each = np.array([[np.linalg.norm(step["grads"].get(f"W{l}", np.zeros(0)))
                      for l in range(1, layers + 1)] for step in steps])
    per = each.reshape(epochs, per_epoch, layers)
    right = per.mean(axis=1)
    if got.shape == right.shape and np.allclose(got, right, rtol=1e-4, atol=1e-8):
        return
    shown = (f"history['grad_norms'] is {np.round(got, 4).tolist()}, expected "
             f"{np.round(right, 4).tolist()}")
    if got.shape == right.shape and np.allclose(got, per[:, -1], rtol=1e-4, atol=1e-8):
        raise Failure(f"{shown}: the last mini-batch's norms", ("train_grad_norms_last",))
    if got.shape == right.shape and np.allclose(got, per.sum(axis=1), rtol=1e-4, atol=1e-8):
        shown += " (the sum over the steps, not their mean)"
    raise Failure(shown, ("train_grad_norms_values",))


def check_rows(rows: list[Rows], n_train: int) -> None:
    """No mini-batch holds a row of X_test (numbered from n_train on)."""
    for number, index in enumerate(rows, start=1):
        if (index >= n_train).any():
            raise Failure(f"step {number}'s mini-batch holds "
                          f"{int((index >= n_train).sum())} rows of X_test",
                          ("train_on_test",))


def check_labels(steps: list[Step], rows: list[Rows], Y_train: Array) -> None:
    """Each step's targets (the last softmax_ce_loss call's Y before it) are its rows'."""
    for number, (step, index) in enumerate(zip(steps, rows), start=1):
        if step["Y"] is None:
            continue
        try:
            right = np.allclose(np.asarray(step["Y"], dtype=np.float64), Y_train[index])
        except (TypeError, ValueError):
            right = False
        if not right:
            raise Failure(f"the targets of step {number}'s mini-batch are not the rows "
                          f"of Y_train of its examples", ("train_labels",))


def check_gradients(steps: list[Step], rows: list[Rows], data: tuple[Array, ...],
                    gradients: Callable[[Params, Array, Array], Params]) -> None:
    """Each recorded gradient is ``gradients`` at the step's params on its mini-batch of
    X_train and Y_train (to float32 rounding: relative Frobenius error under 1e-3)."""
    X_train, Y_train = data[0], data[1]
    for number, (step, index) in enumerate(zip(steps, rows), start=1):
        right = gradients(step["params"], X_train[index], Y_train[index])
        for key, value in right.items():
            got = step["grads"].get(key)
            if got is None or got.shape != np.shape(value) or not np.isfinite(got).all() \
                    or np.linalg.norm(got - value) > 1e-3 * np.linalg.norm(value) + 1e-7:
                raise Failure(f"the gradient {key} of step {number} is not the loss's "
                              f"gradient at its params on its mini-batch", ())

