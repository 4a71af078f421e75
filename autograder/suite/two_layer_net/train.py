"""Tests of train(X_train, Y_train, X_test, Y_test, ...).

The hidden tests record train's calls of the notebook's own ``sgd_momentum_step`` (and
``backprop``): training earns points only with parameters made by those steps, and the
accuracy is measured on digits train never received. train is graded on its own work:
the accuracy it must reach (and a history without NaN) is waived when the student's
forward, backprop, sgd_momentum_step or averageCE (which train runs) give wrong values,
since those lose points in their own tests; the steps must still be made as section 9 asks.
train_history_of_its_steps grades, on a small recorded run with a test set of other digits,
that train never trains on its test set, reshuffles every epoch, and reports the history its
own steps give (read by the same nnlab.two_layer_net.checks.train_steps.audit as check()). The layer functions forward and backprop call (compute_layer,
relu, softmax, gradCE) are stood in by their formulas when they raise, return a wrong shape
or modify their input (nnlab.stand_ins): train's code can then run past them.
"""

import numpy as np

from autograder.graded import graded
from nnlab.data import load_mnist
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.two_layer_net.composition import agrees, same_as
from nnlab.testing import (Student, assert_params, assert_public, assert_shape, assert_unchanged,
                           recorded_arguments)


@graded(points=1, timeout=60.0)
def train_history_format(student: Student) -> None:
    """train returns params of the right shapes and one history entry per epoch, and leaves its data unchanged."""
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    data = (X_train[::8], Y_train[::8], X_test[::5], Y_test[::5])
    returned, after = track_on_own_work(student, "train", *data, hidden=16, epochs=3,
                                        batch_size=50, lr=0.05, momentum=0.9, seed=0,
                                        helpers=("compute_layer", "relu", "softmax", "gradCE"))
    for name, before, now in zip(("X_train", "Y_train", "X_test", "Y_test"), data, after or ()):
        assert_unchanged(before, now, name)  # (unknown when a layer function was stood in)
    assert isinstance(returned, (tuple, list)) and len(returned) == 2, (
        f"train should return the pair (params, history), got {type(returned).__name__}")
    params, history = returned
    assert isinstance(params, dict), f"params should be a dict, got {type(params).__name__}"
    for key, shape in (("W1", (784, 16)), ("b1", (16,)), ("W2", (16, 10)), ("b2", (10,))):
        assert key in params, f"the params returned by train lack the key {key!r}"
        assert_shape(params[key], shape, f'params["{key}"]')
    assert isinstance(history, dict), f"history should be a dict, got {type(history).__name__}"
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert key in history, f"history lacks the key {key!r}"
        values = history[key]
        count = len(values) if isinstance(values, (list, tuple)) else np.size(values)
        assert count == 3, f'history["{key}"] should hold one number per epoch (3), got {count}'
        values = np.asarray(values, dtype=float)
        assert values.shape == (3,), (
            f'history["{key}"] should hold one number per epoch, got shape {values.shape}')
    for key in ("train_acc", "test_acc"):
        assert ((0 <= np.asarray(history[key])) & (np.asarray(history[key]) <= 1)).all(), (
            f'history["{key}"] should be fractions in [0, 1], got {history[key]}')


@graded(points=1, hidden=True, timeout=60.0)
def train_reaches_accuracy(student: Student) -> None:
    """train (H=30, 8 epochs) on 3,500 real digits reaches the calibrated bar on 1,000 digits it never saw, with the params of its own momentum steps."""
    from solutions.two_layer_net import averageCE, backprop, forward, sgd_momentum_step
    # The run and its accuracy bar: autograder/suite/calibration.py (measured over many
    # seeds by benchmarks/training_bars.py; the bar sits below every correct run).
    from autograder.suite.calibration import TWO_LAYER_BAR as bar, TWO_LAYER_RUN as run, calibrated_seed
    seed = calibrated_seed()
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    # train gets 3,500 digits to learn from and 500 others to report in its history;
    # the 1,000 test digits that are scored never reach it.
    held_out = np.arange(len(X_train)) % run["held_out_every"] == 0
    epochs, batch_size = run["epochs"], run["batch_size"]
    returned, recording = call_on_own_work(
        student, "train", X_train[~held_out], Y_train[~held_out], X_train[held_out],
        Y_train[held_out], hidden=run["hidden"], epochs=epochs, batch_size=batch_size,
        lr=run["lr"], momentum=run["momentum"], seed=seed,
        helpers=("compute_layer", "relu", "softmax", "gradCE"), watch={"sgd_momentum_step": 2})
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                  f"train should return the pair (params, history), got "
                  f"{type(returned).__name__}")
    hidden = run["hidden"]
    shapes = {"W1": (784, hidden), "b1": (hidden,), "W2": (hidden, 10), "b2": (10,)}
    params = assert_params(returned[0], shapes, "the params returned by train")
    steps = recording["counts"]["sgd_momentum_step"]
    assert_public(steps > 0, (
        "train never called sgd_momentum_step: section 9 asks train to run forward, backprop "
        "and sgd_momentum_step on each mini-batch, and training earns points only with the "
        "parameters those steps make"))
    expected = epochs * int(np.ceil(int((~held_out).sum()) / batch_size))
    assert_public(steps == expected, (
        f"train called sgd_momentum_step {steps} times; one step per mini-batch of every "
        f"epoch makes {expected} ({epochs} epochs of {expected // epochs} mini-batches)"))
    assert_public(not recording["truncated"] and len(recording["calls"]) == 2,
                  "the arguments train passed to sgd_momentum_step are far larger than the "
                  "parameters")
    states = []
    for call in recording["calls"]:
        step = call["index"] + 1
        given = recorded_arguments(call, ("params", "grads", "velocity", "lr", "momentum"))
        result = call["result"]
        assert_public(isinstance(result, (tuple, list)) and len(result) == 2,
                      f"sgd_momentum_step should return the pair (params, velocity) "
                      f"(step {step})")
        states.append({
            "params": assert_params(given["params"], shapes, f"the params given to step {step}"),
            "velocity": assert_params(given["velocity"], shapes,
                                      f"the velocity given to step {step}"),
            "new_params": assert_params(result[0], shapes, f"the params step {step} returned"),
            "new_velocity": assert_params(result[1], shapes,
                                          f"the velocity step {step} returned")})
    before, last = states
    for key in shapes:
        assert_public(np.allclose(last["params"][key], before["new_params"][key], rtol=1e-5,
                                  atol=1e-8, equal_nan=True),
                      f'the params given to step {steps} are not the ones step {steps - 1} '
                      f'returned (params["{key}"]): pass each step the params the previous '
                      f'step returned')
        carried = np.allclose(last["velocity"][key], before["new_velocity"][key],
                              rtol=1e-5, atol=1e-8, equal_nan=True)
        assert_public(carried, (
            f'the velocity given to step {steps} is not the one step {steps - 1} returned '
            f'(velocity["{key}"]'
            + (", all zeros: is it reset to zero inside the loop?)"
               if not last["velocity"][key].any() else ")")
            + ": momentum needs the velocity carried from step to step"))
        assert_public(np.allclose(params[key], last["new_params"][key], rtol=1e-5, atol=1e-8,
                                  equal_nan=True),
                      f'the params returned by train are not the ones its last '
                      f'sgd_momentum_step returned (params["{key}"])')
    # train runs the student's forward, backprop, sgd_momentum_step and averageCE: when one
    # gives wrong values, its own tests lose the points, and the accuracy is not graded here.
    rng = np.random.default_rng(404)
    X, T = X_train[1::50], Y_train[1::50]
    probe = {key: rng.normal(scale=0.1, size=shape) for key, shape in shapes.items()}
    cache = forward(X, probe)
    grads = backprop(X, T, probe, cache)
    step = sgd_momentum_step({k: v.copy() for k, v in probe.items()}, grads,
                             {k: 0.5 * v for k, v in grads.items()}, 0.05, 0.9)
    own_work = same_as(student, "forward", (X, probe), cache) \
        and same_as(student, "backprop", (X, T, probe, cache), grads) \
        and same_as(student, "sgd_momentum_step",
                    (probe, grads, {k: 0.5 * v for k, v in grads.items()}, 0.05, 0.9), step) \
        and same_as(student, "averageCE", (T, cache["P"]), averageCE(T, cache["P"]))
    if not own_work:
        return
    history, keys = returned[1], ("train_loss", "train_acc", "test_loss", "test_acc")
    assert_public(isinstance(history, dict) and all(key in history for key in keys),
                  f"history should be a dict with the keys {', '.join(keys)}")
    for key in keys:
        assert_public(np.isfinite(np.asarray(history[key], dtype=float)).all(),
                      f'history["{key}"] holds NaN or infinite values')
    predicted = np.argmax(forward(X_test, params)["P"], axis=1)
    accuracy = float(np.mean(predicted == np.argmax(Y_test, axis=1)))
    assert_public(accuracy >= bar, (
        f"the trained network classifies {accuracy:.1%} of 1,000 digits it never saw "
        f"correctly; at least {bar:.0%} is expected (the reference reaches about 92%)"))
    # The history itself is graded by train_history_of_its_steps, against the recorded steps.


@graded(points=1, hidden=True, timeout=60.0)
def train_steps_carry_momentum(student: Student) -> None:
    """train runs sgd_momentum_step once per mini-batch on backprop's gradients, carrying params and velocity from step to step."""
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    X, Y = X_train[7::80], Y_train[7::80]  # 50 digits, 5 of each class
    hidden, epochs, batch_size, lr, momentum = 8, 3, 16, 0.07, 0.85
    returned, recording = call_on_own_work(
        student, "train", X, Y, X_test[::100], Y_test[::100], hidden=hidden, epochs=epochs,
        batch_size=batch_size, lr=lr, momentum=momentum, seed=3,
        helpers=("compute_layer", "relu", "softmax", "gradCE"),
        watch={"sgd_momentum_step": "all", "backprop": "all"})
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                  f"train should return the pair (params, history), got "
                  f"{type(returned).__name__}")
    shapes = {"W1": (784, hidden), "b1": (hidden,), "W2": (hidden, 10), "b2": (10,)}
    params = assert_params(returned[0], shapes, "the params returned by train")
    steps = recording["counts"]["sgd_momentum_step"]
    assert_public(steps > 0, (
        "train never called sgd_momentum_step: section 9 asks train to run forward, backprop "
        "and sgd_momentum_step on each mini-batch"))
    expected = epochs * int(np.ceil(len(X) / batch_size))
    assert_public(steps == expected, (
        f"train called sgd_momentum_step {steps} times for {epochs} epochs of "
        f"{expected // epochs} mini-batches: one step per mini-batch (the last one may be "
        f"smaller) makes {expected}"))
    assert_public(not recording["truncated"], (
        "the arguments train passed to sgd_momentum_step and backprop are far larger than "
        "the parameters and a mini-batch"))
    previous, gradients = None, []
    for call in recording["calls"]:
        if call["name"] == "backprop":
            gradients.append(call)  # the backprop calls made since the previous step
            continue
        step = call["index"] + 1
        given = recorded_arguments(call, ("params", "grads", "velocity", "lr", "momentum"))
        result = call["result"]
        assert_public(isinstance(result, (tuple, list)) and len(result) == 2,
                      f"sgd_momentum_step should return the pair (params, velocity) "
                      f"(step {step})")
        state = {"params": assert_params(given["params"], shapes,
                                         f"the params given to step {step}"),
                 "grads": assert_params(given["grads"], shapes,
                                        f"the grads given to step {step}"),
                 "velocity": assert_params(given["velocity"], shapes,
                                           f"the velocity given to step {step}"),
                 "new_params": assert_params(result[0], shapes,
                                             f"the params step {step} returned"),
                 "new_velocity": assert_params(result[1], shapes,
                                               f"the velocity step {step} returned")}
        numbers = [given[key] for key in ("lr", "momentum")]
        assert_public(all(isinstance(value, (int, float, np.number)) for value in numbers)
                      and np.allclose(numbers, [lr, momentum], rtol=1e-12, atol=0),
                      f"step {step} was not given train's lr and momentum: call "
                      f"sgd_momentum_step(params, grads, velocity, lr, momentum)")
        for key in shapes:  # NaN, from a wrong function train calls, is carried as a value
            if previous is None:
                assert_public(not state["velocity"][key].any(), (
                    f'the velocity given to the first step is not zero (velocity["{key}"]): '
                    f"create the velocities as zeros before the first step"))
                continue
            assert_public(np.allclose(state["params"][key], previous["new_params"][key],
                                      rtol=1e-5, atol=1e-8, equal_nan=True), (
                f'the params given to step {step} are not the ones step {step - 1} returned '
                f'(params["{key}"]): pass each step the params the previous step returned'))
            carried = np.allclose(state["velocity"][key], previous["new_velocity"][key],
                                  rtol=1e-5, atol=1e-8, equal_nan=True)
            assert_public(carried, (
                f'the velocity given to step {step} is not the one step {step - 1} returned '
                f'(velocity["{key}"]'
                + (", all zeros: is it reset to zero inside the loop?)"
                   if not state["velocity"][key].any() else ")")
                + ": momentum needs the velocity carried from step to step"))
        assert_public(gradients, (
            f"train did not call backprop before step {step}: section 9 asks for forward, "
            f"backprop and sgd_momentum_step on each mini-batch"))
        problems = []
        for found in reversed(gradients):  # the backprop call whose result was handed over
            inputs = recorded_arguments(found, ("X", "target", "params", "cache"))
            rows = inputs["X"]
            if not (isinstance(rows, np.ndarray) and rows.dtype.kind in "fiub"
                    and rows.ndim == 2 and rows.shape[1] == 784
                    and 1 <= rows.shape[0] <= batch_size):
                problems.append(f"backprop was not given a mini-batch of at most {batch_size} "
                                f"training examples before step {step}")
                continue
            distance = np.abs(rows[:, None, :].astype(float) - X[None, :, :]).max(axis=2)
            index = np.argmin(distance, axis=1)
            target = inputs["target"]
            if not (distance[np.arange(len(index)), index] < 1e-6).all() or not (
                    isinstance(target, np.ndarray) and target.dtype.kind in "fiub"
                    and target.shape == (len(index), 10) and np.allclose(target, Y[index])):
                problems.append(f"backprop was given examples that are not training examples "
                                f"with their targets before step {step}: the gradients must "
                                f"come from a mini-batch of X_train and Y_train")
                continue
            used = assert_params(inputs["params"], shapes, f"the params given to backprop "
                                 f"before step {step}")
            grads = found["result"]
            if not all(np.allclose(used[key], state["params"][key], rtol=1e-5, atol=1e-8,
                                   equal_nan=True) for key in shapes):
                problems.append(f"backprop was called before step {step} with params other "
                                f"than the ones step {step} updates")
                continue
            if isinstance(grads, dict) and all(
                    key in grads and np.shape(grads[key]) == shapes[key]
                    and np.allclose(grads[key], state["grads"][key], rtol=1e-5, atol=1e-8,
                                    equal_nan=True)
                    for key in shapes):
                problems = []
                break
            problems.append(f"step {step} was not given the gradients backprop returned "
                            f"for its mini-batch")
        # what the last backprop call before the step got wrong
        assert_public(not problems, problems[0] if problems else "")
        previous, gradients = state, []
    assert previous is not None  # steps > 0 (above): the loop went through a step
    for key in shapes:
        assert_public(np.allclose(params[key], previous["new_params"][key], rtol=1e-5,
                                  atol=1e-8, equal_nan=True),
                      f'the params returned by train are not the ones its last '
                      f'sgd_momentum_step returned (params["{key}"])')


@graded(points=1, hidden=True, timeout=60.0)
def train_history_of_its_steps(student: Student) -> None:
    """Recorded on digits sorted by class: train trains only on its training set, in a new order every epoch drawn from its seed (the same seed gives the same mini-batches, another seed other ones), and its history is what its own steps give."""
    # One source of truth with check("train"): nnlab.two_layer_net.checks.train_steps.audit
    # reads the recording; here each recorded gradient and step is first confirmed with the
    # reference. The steps themselves (and the returned params) are graded by
    # train_steps_carry_momentum: a broken chain of steps is not charged again here.
    from solutions.two_layer_net import averageCE, backprop, forward, sgd_momentum_step
    from nnlab.checking import Failure
    from nnlab.checking.epochs import check_seeded
    from nnlab.testing import PublicFailure
    from nnlab.two_layer_net.checks import train as checked
    from nnlab.two_layer_net.checks import train_steps
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    # 250 training digits sorted by class, and 100 test digits it must never train on
    data = (X_train[5::16], Y_train[5::16], X_test[3::10], Y_test[3::10])
    pristine = tuple(array.copy() for array in data)  # (a notebook's train gets data itself)
    hidden, epochs, batch_size, lr, momentum = 8, 3, 25, 0.05, 0.9
    layers = ("compute_layer", "relu", "softmax", "gradCE")
    returned, recording = call_on_own_work(
        student, "train", *data, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr,
        momentum=momentum, seed=4, helpers=layers,
        watch={"sgd_momentum_step": "all", "backprop": "all"})
    assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2
                  and isinstance(returned[1], dict),
                  "train should return the pair (params, history), history a dict")
    shapes = {"W1": (784, hidden), "b1": (hidden,), "W2": (hidden, 10), "b2": (10,)}
    params = assert_params(returned[0], shapes, "the params returned by train")
    values = {}
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert_public(key in returned[1], f"history lacks the key {key!r}")
        values[key] = np.asarray(returned[1][key], dtype=float).reshape(-1)
        if values[key].shape != (epochs,):
            return  # one entry per epoch: graded by train_history_format
    assert_public(not recording["truncated"], (
        "the arguments train passed to sgd_momentum_step and backprop are far larger than "
        "the parameters and a mini-batch"))
    # train is charged for a history that differs only when the functions it runs give
    # the reference's values (else their own tests charge the mistake)
    rng = np.random.default_rng(405)
    X, T = data[0][::25], data[1][::25]
    probe = {key: rng.normal(scale=0.1, size=shape) for key, shape in shapes.items()}
    cache = forward(X, probe)
    grads = backprop(X, T, probe, cache)
    velocity = {k: 0.5 * v for k, v in grads.items()}
    stepped = student.attempt("sgd_momentum_step", probe, grads, velocity, lr, momentum)
    own = same_as(student, "forward", (X, probe), cache) \
        and same_as(student, "backprop", (X, T, probe, cache), grads) \
        and isinstance(stepped, (tuple, list)) and len(stepped) == 2 and all(
            agrees(mine, right) for mine, right in zip(stepped, sgd_momentum_step(
                probe, grads, velocity, lr, momentum))) \
        and same_as(student, "averageCE", (T, cache["P"]), averageCE(T, cache["P"]))

    def gradients(at: dict[str, np.ndarray], X: np.ndarray,
                  Y: np.ndarray) -> dict[str, np.ndarray]:
        return backprop(X, Y, at, forward(X, at))

    found = train_steps.audit(
        recording, params, values, data, epochs, batch_size, lr, momentum, forward,
        averageCE, gradients=gradients, step=sgd_momentum_step,
        stages=train_steps.STAGES if own else ("rows", "epochs"))
    messages = {"rows": "train trains on its test set",
                "epochs": "train's mini-batches are not a new permutation of the training "
                          "set every epoch",
                "history": "train's history is not what its own steps give"}

    def charged(stage: str, failure: Failure) -> PublicFailure:
        hints = [checked.HINTS[key] for key in failure.hints if key in checked.HINTS]
        return PublicFailure(messages[stage] + (f": {hints[0]}" if hints else ""))

    # the first stage that failed; the steps' own (gradients, steps) are graded by
    # train_steps_carry_momentum and the other tests of train, not here
    failed = next(((stage, failure) for stage, failure in found["findings"]
                   if failure is not None), None)
    if failed is not None and failed[0] in ("rows", "epochs"):
        raise charged(*failed)
    # the mini-batches (a new permutation every epoch: the epochs stage passed) come from the
    # seed: called again with the same seed, train trains on the same mini-batches; with
    # another seed, on others (not np.random's global generator, not a fixed seed)
    finder = train_steps.RowFinder(pristine[0], pristine[2])
    runs = [train_steps.batch_rows(recording, finder)]
    for again in (4, 5) if ("epochs", None) in found["findings"] else ():
        runs.append(train_steps.batch_rows(call_on_own_work(
            student, "train", *(array.copy() for array in pristine), hidden=hidden,
            epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum, seed=again,
            helpers=layers, watch={"backprop": "all"})[1], finder))
    if len(runs) == 3 and all(index is not None for rows in runs for index in rows):
        try:
            check_seeded(*runs)
        except Failure:
            raise PublicFailure(checked.HINTS["train_seed"]) from None
    if failed is not None and failed[0] == "history":
        raise charged(*failed)
