"""Self-check of train_mlp: a short run on toy data ordered by class (as real digits often
are), with its calls of mlp_forward, softmax_ce_loss and mlp_backward recorded.

From the recording the check rebuilds what the notebook defines: which training rows each
mini-batch holds (never a test row; every row once per epoch; a new order every epoch),
the parameters after every step (v = momentum v - lr g, theta = theta + v, from the
recorded gradients), and from them every history entry (loss and accuracy of the
end-of-epoch parameters on the whole training and test sets, the epoch's mean gradient
norm per layer). A history that differs is compared with the usual wrong ones (the other
set, the parameters before the epoch's steps, the mini-batches' values) to name the
mistake.
"""

import numpy as np

from nnlab.checking import Failure, as_numbers
from nnlab.deep_mlp import check_steps as record
from nnlab.deep_mlp.composition import layer_values, mean_cross_entropy
from nnlab.recording import CallRecorder
from nnlab.testing import describe

HINTS = {
    "train_format": "train_mlp returns (params, history), history with the lists "
                    "\"train_loss\", \"train_acc\", \"test_loss\", \"test_acc\" (one float per "
                    "epoch) and \"grad_norms\" (one list of L floats per epoch).",
    "train_no_progress": "the training loss did not go down: each step should move every "
                         "parameter by v = momentum v - lr g, then theta = theta + v.",
    "train_on_test": "train_mlp trains on the test set: only rows of X_train (with Y_train) "
                     "go into the mini-batches; X_test and Y_test are only evaluated, after "
                     "each epoch, to measure how well the network generalises.",
    "train_batches": "each epoch goes once through the whole training set in mini-batches "
                     "of batch_size rows: ceil(N / batch_size) steps per epoch (the last "
                     "may be smaller), every training example in exactly one of them. Take "
                     "the batches as consecutive slices of one permutation of the indices.",
    "train_no_shuffle": "train_mlp does not shuffle: the data may come ordered by class (as "
                        "here), so each mini-batch holds one class. At the start of every "
                        "epoch draw a new order, order = rng.permutation(N) with rng = "
                        "np.random.default_rng(seed), and slice the batches from it.",
    "train_shuffle_once": "every epoch visits the examples in the same order: draw a new "
                          "permutation at the start of each epoch (order = "
                          "rng.permutation(N) inside the epoch loop) from one generator made "
                          "once before the loop, not one permutation before the loop or a "
                          "generator re-created every epoch.",
    "train_same_batches": "every epoch uses the same mini-batches, only in another order: "
                          "shuffle the examples themselves (order = rng.permutation(N), then "
                          "consecutive slices of order), not the list of batches.",
    "train_labels": "a mini-batch's targets are not its examples' ones: index X_train and "
                    "Y_train with the same indices (X_train[batch], Y_train[batch]).",
    "train_update": "each step moves every parameter with its velocity: v = momentum * v - "
                    "lr * grads[key], then params[key] = params[key] + v, for W and b of every "
                    "layer. The velocities start at zero once, before the first epoch, and "
                    "carry over from step to step (and from epoch to epoch).",
    "train_returned_params": "return the params after the last step (the trained ones), not "
                             "the initial ones or a copy made earlier.",
    "train_history_data": "a history entry is computed on the wrong set: \"train_loss\" and "
                          "\"train_acc\" on the whole training set (X_train, Y_train), "
                          "\"test_loss\" and \"test_acc\" on the whole test set (X_test, "
                          "Y_test).",
    "train_history_stale": "the history is computed before the epoch's steps: record each "
                           "epoch's entries after its last mini-batch, with the params as "
                           "they are at the end of the epoch.",
    "train_history_batches": "the history holds the mini-batches' losses or accuracies "
                             "(their mean, or the last one's) seen during the epoch: the "
                             "notebook defines each entry as the loss (accuracy) of the "
                             "end-of-epoch params on the whole set, so after the epoch's "
                             "steps run mlp_forward on all of X_train, then on X_test.",
    "train_history_values": "each epoch's history entries are the mean cross-entropy "
                            "(softmax_ce_loss) and the accuracy (argmax of the scores equal "
                            "to argmax of Y) of the params at the end of that epoch, on the "
                            "whole training set and on the whole test set.",
    "train_grad_norms_last": "history[\"grad_norms\"] holds the last mini-batch's norms: the "
                             "notebook defines each epoch's entry as the mean over that "
                             "epoch's steps of each layer's norm ||dW_l||: add up the norms "
                             "of every step and divide by the number of steps.",
    "train_grad_norms_values": "history[\"grad_norms\"][e][l - 1] is the mean, over epoch e's "
                               "steps, of np.linalg.norm(grads[f\"W{l}\"]), the Frobenius "
                               "norm of the weight gradient mlp_backward returned at each "
                               "step (weights only, not the biases, the params or the "
                               "velocities).",
}

SIZES, ACTIVATIONS = [6, 8, 3], ["relu"]
EPOCHS, BATCH, LR, MOMENTUM = 4, 10, 0.1, 0.9
_DATA = {}


def _toy_data():
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


def _check_train_mlp(run, train_mlp):
    data = _toy_data()
    X_train, Y_train, X_test, Y_test = data
    value, recording = None, None
    with run.check(f"train_mlp on 60 points ordered by class, 6-8-3 network, {EPOCHS} "
                   f"epochs of batch_size {BATCH}"):
        value, recording = _train_call(run, train_mlp, data)
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


def _check_steps(run, recording, params, history, data):
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


def audit(recording, returned, history, data, epochs, batch_size, lr, momentum, activations,
          gradients=None, stages=STAGES):
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
    out = {"steps": record.steps_of(recording), "rows": None, "findings": []}
    if not out["steps"]:
        return dict(out, unread="no readable mlp_backward call")
    steps = out["steps"]
    rows = out["rows"] = [record.rows_of(step["X"], data[0], data[2]) for step in steps]
    if any(index is None for index in rows):
        return dict(out, unread="a mini-batch holds rows that are neither X_train's nor "
                                "X_test's")
    per_epoch, trail = -(-len(data[0]) // batch_size), []

    def run(stage, action):
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
    if not (run("rows", lambda: record.check_rows(rows, len(X_train)))
            and run("epochs", lambda: (
                record.check_epochs(rows, epochs, per_epoch, len(X_train)),
                record.check_labels(steps, rows, Y_train)))
            and run("gradients", lambda: record.check_gradients(steps, rows, data, gradients))
            and run("steps", lambda: trail.extend(
                record.replay(steps, returned, lr, momentum)))):
        return out
    run("history", lambda: record.compare_history(history, expected_history(
        trail, rows, data, epochs, per_epoch, activations), epochs))
    run("norms", lambda: record.compare_norms(history["grad_norms"], steps, epochs,
                                              per_epoch, len(activations) + 1))
    return out


def _metrics(params, X, Y, activations):
    scores = layer_values(X, params, activations)[-1][1]
    return (mean_cross_entropy(scores, Y),
            float(np.mean(scores.argmax(axis=1) == Y.argmax(axis=1))))


def expected_history(trail, rows, data, epochs, per_epoch, activations):
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
    out = {name: {} for name in ("right", "other set", "stale", "batch mean", "last batch")}
    epoch_batches = [batch[e * per_epoch:(e + 1) * per_epoch] for e in range(epochs)]
    for split, other in (("train", "test"), ("test", "train")):
        for which, position in (("loss", 0), ("acc", 1)):
            key = f"{split}_{which}"
            out["right"][key] = [value[position] for value in on[split, "end"]]
            out["other set"][key] = [value[position] for value in on[other, "end"]]
            out["stale"][key] = [value[position] for value in on[split, "start"]]
            out["batch mean"][key] = [np.mean([b[position] for b in e]) for e in epoch_batches]
            out["last batch"][key] = [e[-1][position] for e in epoch_batches]
    return out


def _failing_helpers(run, names):
    return [name for name in names
            if run.context.lookup(name) is not None and not run.context.passes(name)]


def _train_call(run, train_mlp, data):
    """(what train_mlp returned, the record of its calls of the network's functions)."""
    settings = dict(scheme="he", epochs=EPOCHS, batch_size=BATCH, lr=LR, momentum=MOMENTUM,
                    seed=0)
    arguments = tuple(array.copy() for array in data) + (list(SIZES), list(ACTIVATIONS))
    watch = {"mlp_forward": "all", "softmax_ce_loss": "all", "mlp_backward": "all"}
    scope = getattr(train_mlp, "__globals__", None)  # where train_mlp looks its helpers up
    if not isinstance(scope, dict) and callable(getattr(train_mlp, "record", None)):
        return run.call(lambda: train_mlp.record(watch, *arguments, **settings))
    recorder = CallRecorder(scope if isinstance(scope, dict) else run.context.namespace,
                            {"record": watch})
    with recorder:
        returned = run.call(lambda: train_mlp(*arguments, **settings))
    return returned, recorder.recording()


CHECKERS = {"train_mlp": _check_train_mlp}
