"""Self-check of train_mlp: a short run on toy data ordered by class (as real digits often
are), with its calls of mlp_forward, softmax_ce_loss and mlp_backward recorded (then a
shorter one whose last mini-batch of each epoch is smaller: it must not be dropped).

From the recording the check rebuilds what the notebook defines: which training rows each
mini-batch holds (never a test row; every row once per epoch; a new order every epoch),
the parameters after every step (v = momentum v - lr g, theta = theta + v, from the
recorded gradients), and from them every history entry (loss and accuracy of the
end-of-epoch parameters on the whole training and test sets, the epoch's mean gradient
norm per layer). A history that differs is compared with the usual wrong ones (the other
set, the parameters before the epoch's steps, the mini-batches' values) to name the
mistake.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Callable

import numpy as np

from nnlab.checking import Failure, as_numbers
from nnlab.checking.engine import Run
from nnlab.checking.epochs import Rows, all_found
from nnlab.deep_mlp import Array, Params
from nnlab.deep_mlp.checks import repeat as check_repeat, steps as record
from nnlab.deep_mlp.checks.steps import Histories
from nnlab.deep_mlp.composition import layer_values, mean_cross_entropy
from nnlab.recording import CallRecorder
from nnlab.deep_mlp.checks.train_hints import HINTS
from nnlab.testing import describe

SIZES, ACTIVATIONS = [6, 8, 3], ["relu"]
EPOCHS, BATCH, LR, MOMENTUM = 4, 10, 0.1, 0.9
PARTIAL_BATCH = 8  # a second, shorter run: 60 = 7 * 8 + 4, the last mini-batch kept
_DATA: dict[str, tuple[Array, Array, Array, Array]] = {}


def _toy_data() -> tuple[Array, Array, Array, Array]:
    """60 training and 60 test points, each sorted by class (as real digits often are)."""
    if "data" not in _DATA:
        rng = np.random.default_rng(11)
        X = rng.normal(size=(120, 6))
        labels = np.argmax(X[:, :3] @ np.array([[2.0, -1, -1], [-1, 2, -1], [0, 0, 0.5]]), 1)
        train = np.argsort(labels[:60], kind="stable")
        test = 60 + np.argsort(labels[60:], kind="stable")
        Y = np.eye(3)[labels]
        _DATA["data"] = (X[train], Y[train], X[test], Y[test])
    return _DATA["data"]


def _check_train_mlp(run: Run, train_mlp: Callable[..., Any]) -> None:
    data = _toy_data()
    X_train, Y_train, X_test, Y_test = data
    value, recording = None, None
    given: list[Array]
    with run.check(f"train_mlp on 60 points ordered by class, 6-8-3 network, {EPOCHS} "
                   f"epochs of batch_size {BATCH}"):
        value, recording = _train_call(run, train_mlp, data, given=(given := []))
        if not isinstance(value, (tuple, list)) or len(value) != 2 \
                or not isinstance(value[1], dict):
            raise Failure(f"returned {describe(value)}", ("train_format",))
        history = value[1]
        for key in ("train_loss", "train_acc", "test_loss", "test_acc", "grad_norms"):
            if key not in history or len(history[key]) != EPOCHS:
                raise Failure(f"history[{key!r}] is {describe(history.get(key))}",
                              ("train_format",))
        if not np.shape(history["grad_norms"]) == (EPOCHS, len(SIZES) - 1):
            raise Failure(f"grad_norms has shape {np.shape(history['grad_norms'])}",
                          ("train_format",))
    if run.failures:
        return
    params, history = value
    failures = len(run.failures)
    _check_steps(run, recording, params, history, data)
    if len(run.failures) == failures:  # (a last mini-batch smaller: kept, not dropped)
        with run.check(f"with batch_size {PARTIAL_BATCH}, each epoch visits every example once "
                       f"({-(-60 // PARTIAL_BATCH)} mini-batches, the last one smaller)"):
            _, partial = _train_call(run, train_mlp, data, batch_size=PARTIAL_BATCH, epochs=2)
            record.check_last_batch_kept(partial, data, 2, PARTIAL_BATCH)
    with run.check("X_train, Y_train, X_test and Y_test unchanged by train_mlp"):
        check_repeat.check_data_unchanged(data, tuple(given))
    if len(run.failures) == failures:
        with run.check("called again with its seed, train_mlp trains on the same mini-batches; "
                       "with another seed, on others"):
            check_repeat.check_seed_used(recording, lambda seed: _train_call(
                run, train_mlp, data, seed=seed), 0, data)
    if len(run.failures) == failures:
        with run.check("the training loss goes down"):
            losses = as_numbers(history["train_loss"]).astype(np.float64)
            if not losses[-1] < 0.8 * losses[0]:
                broken = _failing_helpers(run, ("mlp_forward", "mlp_backward",
                                                "softmax_ce_loss"))
                if broken:
                    run.notes.append(f"the training loss does not go down, but train_mlp "
                                     f"runs your {', '.join(broken)}, which fail(s) its own "
                                     f"check: fix that first")
                else:
                    raise Failure(f"train_loss went {losses[0]:.4g} -> {losses[-1]:.4g}",
                                  ("train_no_progress",))


_TITLES = {"rows": "the mini-batches hold training examples only",
           "epochs": f"each epoch visits every training example once "
                     f"({-(-60 // BATCH)} mini-batches of {BATCH}) in a new random order",
           "steps": "each step moves the params by v = momentum v - lr g, theta = theta + v, "
                    "and train_mlp returns the last step's params",
           "history": "every history entry is the loss or accuracy of the end-of-epoch params "
                      "on the whole training or test set",
           "norms": "history['grad_norms'] is each layer's mean ||dW|| over the epoch's steps"}


def _check_steps(run: Run, recording: dict[str, Any], params: object,
                 history: Mapping[str, Any], data: tuple[Array, ...]) -> None:
    found = audit(recording, params, history, data, EPOCHS, BATCH, LR, MOMENTUM, ACTIVATIONS)
    if "unread" in found:
        run.notes.append("train_mlp makes no recorded call of mlp_backward: its mini-batches "
                         "and history were not checked" if not found["steps"] else
                         "a mini-batch holds rows that are neither X_train's nor X_test's: "
                         "its rows and the history were not checked")
        return
    for stage, failure in found["findings"]:
        failures = len(run.failures)
        with run.check(_TITLES[stage]):
            if failure is not None:
                raise failure
        if stage == "history" and len(run.failures) > failures and (
                broken := _failing_helpers(run, ("mlp_forward", "softmax_ce_loss"))):
            # the entries may come from the student's broken helper: no charge
            run.failures = run.failures[:failures]
            run.notes.append(f"the history differs from the check's own computation, and "
                             f"train_mlp runs your {', '.join(broken)}, which fail(s) its "
                             f"own check: fix that first")


# the grader's public message for a failed stage (its hint follows)
GRADED = {"rows": "train_mlp trains on its test set",
          "epochs": "train_mlp's mini-batches are not a new permutation of the training set "
                    "every epoch",
          "gradients": "the gradients of train_mlp's steps are not the loss's gradients at "
                       "the step's params on its mini-batch of X_train and Y_train",
          "steps": "train_mlp's steps or returned params are not v = momentum v - lr g, "
                   "theta = theta + v from one step to the next",
          "history": "train_mlp's history is not what its own steps give",
          "norms": "history[\"grad_norms\"] is not what train_mlp's own steps give"}
STAGES = ("rows", "epochs", "gradients", "steps", "history", "norms")


def audit(recording: dict[str, Any] | None, returned: object, history: Mapping[str, Any],
          data: tuple[Array, ...], epochs: int, batch_size: int, lr: float, momentum: float,
          activations: Sequence[str],
          gradients: Callable[[Params, Array, Array], Params] | None = None,
          stages: tuple[str, ...] = STAGES) -> dict[str, Any]:
    """What a recorded train_mlp run (its calls of mlp_forward or mlp_backward's caches,
    softmax_ce_loss and mlp_backward) shows, stage by stage.

    Inputs:
    - recording: nnlab.recording's record of the run; returned, history: what it returned
    - data: (X_train, Y_train, X_test, Y_test) it was given; the other settings its own
    - gradients: optional ``gradients(params, X, Y) -> grads`` (the reference's): each
      recorded gradient is then confirmed with it at the step's params and mini-batch
    - stages: which of STAGES to run ("gradients" runs only with ``gradients``)

    Returns:
    - {"steps", "rows", "findings": [(stage, Failure or None), ...]}: the stages run, in
      order, up to the first failure among rows, epochs, gradients and steps (history and
      norms both run once the params are rebuilt); "unread" says why nothing could be
      checked (then "findings" is empty)
    """
    out: dict[str, Any] = {"steps": record.steps_of(recording), "rows": None, "findings": []}
    if not out["steps"]:
        return dict(out, unread="no readable mlp_backward call")
    steps: list[record.Step] = out["steps"]
    rows = out["rows"] = [record.rows_of(step["X"], data[0], data[2]) for step in steps]
    if not all_found(rows):
        return dict(out, unread="a mini-batch holds rows that are neither X_train's nor "
                                "X_test's")
    per_epoch, trail = -(-len(data[0]) // batch_size), []

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

    X_train, Y_train = data[0], data[1]

    def epochs_of() -> None:
        record.check_epochs(rows, epochs, batch_size, len(X_train), "train_batches")
        record.check_labels(steps, rows, Y_train)

    def gradients_of() -> None:
        if gradients is not None:  # (else run() skips this stage)
            record.check_gradients(steps, rows, data, gradients)

    if not (run("rows", lambda: record.check_rows(rows, len(X_train)))
            and run("epochs", epochs_of)
            and run("gradients", gradients_of)
            and run("steps", lambda: trail.extend(
                record.replay(steps, returned, lr, momentum)))):
        return out
    run("history", lambda: record.compare_history(history, expected_history(
        trail, rows, data, epochs, per_epoch, activations), epochs))
    run("norms", lambda: record.compare_norms(history["grad_norms"], steps, epochs,
                                              per_epoch, len(activations) + 1))
    return out


def _metrics(params: Params, X: Array, Y: Array,
             activations: Sequence[str]) -> tuple[float, float]:
    scores = layer_values(X, params, activations)[-1][1]
    return (mean_cross_entropy(scores, Y),
            float(np.mean(scores.argmax(axis=1) == Y.argmax(axis=1))))


def expected_history(trail: list[Params], rows: list[Rows], data: tuple[Array, ...], epochs: int,
                     per_epoch: int, activations: Sequence[str]) -> Histories:
    """{candidate: {key: values per epoch}}: "right" as the notebook defines it (the
    end-of-epoch params of ``trail``, the params before each step and after the last, on
    the whole set), and the usual wrong ones ("other set", "stale", "batch mean", "last
    batch")."""
    X_train, Y_train, X_test, Y_test = data
    sets = {"train": (X_train, Y_train), "test": (X_test, Y_test)}
    ends = [trail[(epoch + 1) * per_epoch] for epoch in range(epochs)]
    starts = [trail[epoch * per_epoch] for epoch in range(epochs)]
    on = {(split, kind): [_metrics(P, *sets[split], activations) for P in params]
          for split in sets for kind, params in (("end", ends), ("start", starts))}
    batch = [_metrics(trail[k], X_train[index], Y_train[index], activations)
             for k, index in enumerate(rows)]
    out: Histories = {
        name: {} for name in ("right", "other set", "stale", "batch mean", "last batch")}
    epoch_batches = [batch[e * per_epoch:(e + 1) * per_epoch] for e in range(epochs)]
    for split, other in (("train", "test"), ("test", "train")):
        for which, position in (("loss", 0), ("acc", 1)):
            key = f"{split}_{which}"
            out["right"][key] = [value[position] for value in on[split, "end"]]
            out["other set"][key] = [value[position] for value in on[other, "end"]]
            out["stale"][key] = [value[position] for value in on[split, "start"]]
            out["batch mean"][key] = [float(np.mean([b[position] for b in e]))
                                      for e in epoch_batches]
            out["last batch"][key] = [e[-1][position] for e in epoch_batches]
    return out


def _failing_helpers(run: Run, names: Sequence[str]) -> list[str]:
    return [name for name in names
            if run.context.lookup(name) is not None and not run.context.passes(name)]


def _train_call(run: Run, train_mlp: Callable[..., Any], data: tuple[Array, ...],
                batch_size: int = BATCH, epochs: int = EPOCHS, seed: int = 0,
                given: list[Array] | None = None) -> tuple[Any, dict[str, Any]]:
    """(what train_mlp returned, the record of its calls of the network's functions); the
    data arrays it was given are appended to the list ``given``, if any."""
    settings = dict(scheme="he", epochs=epochs, batch_size=batch_size, lr=LR,
                    momentum=MOMENTUM, seed=seed)
    arguments: tuple[Any, ...] = (tuple(array.copy() for array in data)
                                  + (list(SIZES), list(ACTIVATIONS)))
    if given is not None:
        given.extend(arguments[:4])
    watch = {"mlp_forward": "all", "softmax_ce_loss": "all", "mlp_backward": "all"}
    scope = getattr(train_mlp, "__globals__", None)  # where train_mlp looks its helpers up
    if not isinstance(scope, dict) and callable(getattr(train_mlp, "record", None)):
        # (train_mlp.record: found callable above)
        return run.call(lambda: train_mlp.record(  # type: ignore[attr-defined]
            watch, *arguments, **settings))
    recorder = CallRecorder(scope if isinstance(scope, dict) else run.context.namespace,
                            {"record": watch})
    with recorder:
        returned = run.call(lambda: train_mlp(*arguments, **settings))
    return returned, recorder.recording()


CHECKERS = {"train_mlp": _check_train_mlp}
