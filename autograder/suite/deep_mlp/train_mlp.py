"""Tests of train_mlp(X_train, Y_train, X_test, Y_test, sizes, activations, scheme, epochs,
batch_size, lr, momentum, seed) on the embedded digits (no Fashion-MNIST needed).

The hidden training tests give train_mlp the 4,000 training digits and, as its test set, the
1,000 test digits, on which they then measure the accuracy of the returned params (that no
test digit is ever trained on is graded apart, on a recorded run). The seed is drawn per
grading run among the calibrated ones (autograder/suite/calibration.py). The layer functions
mlp_forward and mlp_backward call are stood in by their formulas when they raise, return a
wrong shape or modify their input (nnlab.stand_ins): train_mlp's code can then run past them."""

import numpy as np

from autograder.graded import graded
from nnlab.data import load_mnist
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.deep_mlp.composition import layer_values, param_shapes
from nnlab.testing import Student, assert_params, assert_public, assert_shape, assert_unchanged


@graded(points=1, timeout=60.0)
def train_mlp_history_format(student: Student) -> None:
    """train_mlp returns params of the right shapes and one history entry per epoch, and leaves its data unchanged."""
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    data = (X_train[::10], Y_train[::10], X_test[::5], Y_test[::5])
    returned, after = track_on_own_work(
        student, "train_mlp", *data, [784, 16, 10], ["relu"], "he", 2, 50, 0.05, 0.9, 0,
        helpers=("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                 "sigmoid_forward", "sigmoid_backward"))
    for name, before, now in zip(("X_train", "Y_train", "X_test", "Y_test"), data, after or ()):
        assert_unchanged(before, now, name)  # (unknown when a layer was stood in)
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                  "train_mlp should return the pair (params, history)")
    assert_params(returned[0], param_shapes([784, 16, 10]), "the params returned by train_mlp")
    history = returned[1]
    assert_public(isinstance(history, dict), "history should be a dict")
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert_public(key in history, f"history lacks the key {key!r}")
        assert_shape(np.asarray(history[key], dtype=float), (2,), f'history["{key}"]')
    assert_public("grad_norms" in history, "history lacks the key 'grad_norms'")
    assert_shape(np.asarray(history["grad_norms"], dtype=float), (2, 2),
                 'history["grad_norms"] (one list of L=2 norms per epoch)')


@graded(points=2, hidden=True, timeout=60.0)
def train_mlp_sigmoid_one_sample(student: Student) -> None:
    """The seed's 784-32-32-10 sigmoid net, one sample at a time (lr 0.2, 2 epochs, 4,000 digits), reaches the calibrated bar on 1,000 unseen digits."""
    # The run and its bar: autograder/suite/calibration.py (measured over many seeds by
    # benchmarks/training_bars.py; the bar sits below every correct run with a margin).
    from autograder.suite.calibration import SIGMOID_ONE_SAMPLE_BAR as bar, SIGMOID_ONE_SAMPLE_RUN as run, calibrated_seed
    from nnlab.deep_mlp.composition import own_network_right
    from solutions.deep_mlp import init_mlp, mlp_backward, mlp_forward, softmax_ce_loss
    seed = calibrated_seed()
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    X_train, Y_train = X_train[::run["train_every"]], Y_train[::run["train_every"]]
    sizes, activations = run["sizes"], run["activations"]
    returned = call_on_own_work(
        student, "train_mlp", X_train, Y_train, X_test, Y_test, sizes, activations,
        run["scheme"], run["epochs"], run["batch_size"], run["lr"], run["momentum"], seed,
        helpers=("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                 "sigmoid_forward", "sigmoid_backward"))
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                  "train_mlp should return the pair (params, history)")
    params = assert_params(returned[0], param_shapes(sizes), "the params returned by train_mlp")
    # The accuracy is graded only when the functions train_mlp runs are right: a wrong layer
    # (the sigmoid's derivative at the activation, a transposed dW) loses its own tests'
    # points, not this test's too (one charge per mistake).
    if not own_network_right(student, X_test[:8], Y_test[:8], init_mlp(sizes, run["scheme"], 11),
                             activations, mlp_forward, softmax_ce_loss, mlp_backward):
        return
    # init_mlp's scale is graded by init_mlp_scales: with a wrong one (e.g. the variance used
    # as the standard deviation, which lands on both sides of the bar by seed) the accuracy
    # is not graded here, so that mistake is charged once and never by chance.
    initial = student.attempt("init_mlp", sizes, run["scheme"], seed)
    # (np.shape(None) is (); numpy's stubs leave None out)
    if not (isinstance(initial, dict) and all(
            np.shape(initial.get(f"W{l}")) == (sizes[l - 1], sizes[l])  # type: ignore[arg-type]
            and abs(float(np.std(initial[f"W{l}"])) * np.sqrt(max(sizes[l - 1], sizes[l]))
                    - 1) < 0.2 for l in range(1, len(sizes)))):
        return
    scores = layer_values(X_test, params, activations)[-1][1]
    accuracy = float((scores.argmax(axis=1) == Y_test.argmax(axis=1)).mean())
    assert_public(accuracy >= bar, (
        f"test accuracy {accuracy:.3f}, expected >= {bar:.2f}: the layers train_mlp runs are "
        f"right, so look at its loop (each epoch's shuffle of X and Y together, the momentum "
        f"step, the params it returns)"))


@graded(points=1, hidden=True, timeout=60.0)
def train_mlp_relu_momentum(student: Student) -> None:
    """A 784-64-32-10 ReLU net (he init, batches of 32, lr 0.05, momentum 0.9, 4 epochs, 4,000 digits) reaches the calibrated bar."""
    # The run and its bar: autograder/suite/calibration.py (benchmarks/training_bars.py).
    from autograder.suite.calibration import RELU_MOMENTUM_BAR as bar, RELU_MOMENTUM_RUN as run, calibrated_seed
    from nnlab.deep_mlp.composition import own_network_right
    from solutions.deep_mlp import init_mlp, mlp_backward, mlp_forward, softmax_ce_loss
    seed = calibrated_seed()
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    X_train, Y_train = X_train[::run["train_every"]], Y_train[::run["train_every"]]
    sizes, activations = run["sizes"], run["activations"]
    returned = call_on_own_work(
        student, "train_mlp", X_train, Y_train, X_test, Y_test, sizes, activations,
        run["scheme"], run["epochs"], run["batch_size"], run["lr"], run["momentum"], seed,
        helpers=("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                 "sigmoid_forward", "sigmoid_backward"))
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                  "train_mlp should return the pair (params, history)")
    params = assert_params(returned[0], param_shapes(sizes), "the params returned by train_mlp")
    # The accuracy is graded only when the functions train_mlp runs are right: a wrong layer
    # (the sigmoid's derivative at the activation, a transposed dW) loses its own tests'
    # points, not this test's too (one charge per mistake).
    if not own_network_right(student, X_test[:8], Y_test[:8], init_mlp(sizes, run["scheme"], 11),
                             activations, mlp_forward, softmax_ce_loss, mlp_backward):
        return
    scores = layer_values(X_test, params, activations)[-1][1]
    accuracy = float((scores.argmax(axis=1) == Y_test.argmax(axis=1)).mean())
    assert_public(accuracy >= bar, f"test accuracy {accuracy:.3f}, expected >= {bar:.2f}")


@graded(points=1, hidden=True, timeout=60.0)
def train_mlp_history_of_its_steps(student: Student) -> None:
    """Recorded on digits sorted by class: train_mlp trains only on its training set, in a new order every epoch drawn from its seed (the last, smaller mini-batch kept), returns its last step's params, and its history (losses, accuracies, grad norms) is what its own steps give."""
    # One source of truth with check("train_mlp"): nnlab.deep_mlp.checks.training.audit reads
    # the recording; here every recorded gradient is first confirmed with the reference.
    from solutions.deep_mlp import init_mlp, mlp_backward, mlp_forward, softmax_ce_loss
    from nnlab.checking import Failure
    from nnlab.deep_mlp.checks import (repeat as check_repeat, steps as check_steps,
                                      training as check_training)
    from nnlab.deep_mlp.composition import own_network_right
    from nnlab.testing import PublicFailure
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    # 200 training digits sorted by class, and 100 test digits it must never train on
    data = (X_train[3::20], Y_train[3::20], X_test[1::10], Y_test[1::10])
    sizes, activations = [784, 16, 10], ["relu"]
    epochs, batch_size, lr, momentum = 3, 20, 0.05, 0.9
    layers = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
              "sigmoid_forward", "sigmoid_backward")
    returned, recording = call_on_own_work(
        student, "train_mlp", *data, sizes, activations, "he", epochs, batch_size, lr, momentum,
        5, helpers=layers, watch={"mlp_backward": "all", "softmax_ce_loss": "all"})
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2
                  and isinstance(returned[1], dict),
                  "train_mlp should return the pair (params, history), history a dict")
    params = assert_params(returned[0], param_shapes(sizes), "the params returned by train_mlp")
    history = returned[1]
    for key in ("train_loss", "train_acc", "test_loss", "test_acc", "grad_norms"):
        assert_public(key in history, f"history lacks the key {key!r}")
    assert_public(not recording["truncated"], "the arguments train_mlp passed to mlp_backward "
                  "are far larger than the params and a mini-batch")
    assert_public(recording["counts"]["mlp_backward"] > 0, (
        "train_mlp never called mlp_backward: section 6 asks it to run mlp_forward, "
        "softmax_ce_loss and mlp_backward on each mini-batch, and its history is graded "
        "against those steps"))

    # train_mlp is charged for a history or gradient that differs only when the functions it
    # runs give the reference's values (else their own tests charge the mistake)
    own = own_network_right(student, data[0][::40], data[1][::40], init_mlp(sizes, "he", 11),
                            activations, mlp_forward, softmax_ce_loss, mlp_backward)

    def gradients(at: dict[str, np.ndarray], X: np.ndarray,
                  Y: np.ndarray) -> dict[str, np.ndarray]:
        scores, caches = mlp_forward(X, at, activations)
        return mlp_backward(softmax_ce_loss(scores, Y)[1], caches, at, activations)

    stages = check_training.STAGES if own else ("rows", "epochs", "steps", "norms")
    found = check_training.audit(recording, params, history, data, epochs, batch_size, lr,
                                 momentum, activations, gradients=gradients, stages=stages)
    if "unread" in found:  # the mini-batches are read from mlp_backward's caches
        assert_public(not own, (
            "the mini-batches train_mlp gave mlp_backward (its caches' A_prev) are not rows "
            "of X_train: run mlp_forward on X_train[batch] and hand its caches to "
            "mlp_backward"))
        return
    for stage, failure in found["findings"]:
        if failure is None:
            continue
        if not own and not all(np.isfinite(step["grads"][key]).all()
                               for step in found["steps"] for key in step["grads"]):
            return  # NaN from a wrong function train_mlp calls: charged in its own tests
        hints = [check_training.HINTS[key] for key in failure.hints
                 if key in check_training.HINTS]
        raise PublicFailure(check_training.GRADED[stage] + (f": {hints[0]}" if hints else ""))
    # again with mini-batches of 24 (200 = 8 * 24 + 8): the last, smaller one is kept
    _, partial = call_on_own_work(
        student, "train_mlp", *data, sizes, activations, "he", 2, 24, lr, momentum, 5,
        helpers=layers, watch={"mlp_backward": "all"})
    try:
        check_steps.check_last_batch_kept(partial, data, 2, 24)
    except Failure as failure:
        raise PublicFailure(check_training.GRADED["epochs"] + ": "
                            + check_training.HINTS[failure.hints[0]]) from None
    # again with the same seed: the same mini-batches; with another seed: others (the order
    # comes from the seed, not from np.random's global generator or an unseeded one)
    def again(seed: int) -> tuple[object, dict]:
        return call_on_own_work(
            student, "train_mlp", *(array.copy() for array in data), sizes, activations, "he",
            epochs, batch_size, lr, momentum, seed, helpers=layers, watch={"mlp_backward": "all"})
    try:
        check_repeat.check_seed_used(recording, again, 5, data)
    except Failure:
        raise PublicFailure(check_training.HINTS["train_seed"]) from None
