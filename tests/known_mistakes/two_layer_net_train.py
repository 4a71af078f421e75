"""The known mistakes of two_layer_net's train (part of two_layer_net.MISTAKES): edits of
ada's train (the demo's correct student). Its graded tests train small networks for a few
seconds per student: the grader runs them only for train's own mistakes."""

from course_under_test import TLN
from known_mistakes import Mistake, demo_source, edited

TRAIN = demo_source(TLN, "ada_correct", "train")

TRAIN_MISTAKES = [
    Mistake("train_without_seed_argument", "train",
            edited(TRAIN, "momentum=0.9, seed=0)", "momentum=0.9)"),
            fails=("train_history_format", "train_reaches_accuracy",
                   "train_steps_carry_momentum", "train_history_of_its_steps"),
            hints=("train_signature",)),
    Mistake("train_returns_only_params", "train",
            edited(TRAIN, "return params, history", "return params"),
            fails=("train_history_format", "train_reaches_accuracy",
                   "train_steps_carry_momentum", "train_history_of_its_steps"),
            hints=("train_return",)),
    Mistake("train_returns_transposed_params", "train",
            edited(TRAIN, "return params, history",
                   "return {k: v.T for k, v in params.items()}, history"),
            fails=("train_history_format", "train_reaches_accuracy",
                   "train_steps_carry_momentum", "train_history_of_its_steps"),
            hints=("train_params",)),
    Mistake("train_history_wrong_keys", "train",
            edited(TRAIN, 'history[name + "_acc"]',
                   'history.setdefault(name + "_accuracy", [])'),
            fails=("train_history_format",), hints=("train_history_keys",)),
    Mistake("train_history_per_batch", "train",
            edited(
        edited(TRAIN, "            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)\n",
        "            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)\n"
        "            for name, X, Y in ((\"train\", X_train, Y_train), (\"test\", X_test, Y_test)):\n"
        "                P = forward(X, params)[\"P\"]\n"
        "                history[name + \"_loss\"].append(averageCE(Y, P))\n"
        "                history[name + \"_acc\"].append(accuracy(Y, P))\n"),
        "        for name, X, Y in ((\"train\", X_train, Y_train), (\"test\", X_test, Y_test)):\n"
        "            P = forward(X, params)[\"P\"]\n"
        "            history[name + \"_loss\"].append(averageCE(Y, P))\n"
        "            history[name + \"_acc\"].append(accuracy(Y, P))\n", ""),
            fails=("train_history_format",), hints=("train_history_per_epoch",)),
    Mistake("train_accuracy_in_percent", "train",
            edited(TRAIN, "accuracy(Y, P))", "100 * accuracy(Y, P))"),
            fails=("train_history_format", "train_history_of_its_steps"),
            hints=("train_history_percent",)),
    Mistake("train_loss_log_of_zero", "train",
            edited(TRAIN, 'history[name + "_loss"].append(averageCE(Y, P))',
                   'history[name + "_loss"].append(-np.sum(Y * np.log(0 * P)))'),
            fails=("train_reaches_accuracy", "train_history_of_its_steps"),
            hints=("train_nonfinite",)),
    Mistake("train_shuffles_X_and_Y_apart", "train",
            edited(TRAIN, "cache = forward(X_train[batch], params)",
                   "cache = forward(X_train[rng.permutation(batch)], params)"),
            fails=("train_reaches_accuracy",), hints=("train_no_progress",)),
    Mistake("train_never_shuffles_sorted_data", "train",
            edited(TRAIN, "rng.permutation(len(X_train))", "np.arange(len(X_train))"),
            fails=("train_reaches_accuracy", "train_history_of_its_steps"),
            hints=("train_no_shuffle",)),
    Mistake("train_shuffles_once_before_the_epochs", "train",
            edited(edited(
        TRAIN, "    for epoch in range(epochs):\n",
        "    order = rng.permutation(len(X_train))\n    for epoch in range(epochs):\n"),
        "np.array_split(rng.permutation(len(X_train)), n_batches)", "np.array_split(order, n_batches)"),
            fails=("train_history_of_its_steps",), hints=("train_shuffle_once",)),
    Mistake("train_re_creates_the_generator_every_epoch", "train",
            edited(TRAIN, "rng.permutation(len(X_train))",
                   "np.random.default_rng(seed).permutation(len(X_train))"),
            fails=("train_history_of_its_steps",), hints=("train_shuffle_once",)),
    Mistake("train_shuffles_the_batches_not_the_examples", "train",
            edited(
        TRAIN, "for batch in np.array_split(rng.permutation(len(X_train)), n_batches):",
        "for batch in [np.array_split(np.arange(len(X_train)), n_batches)[b]\n"
        "                      for b in rng.permutation(n_batches)]:"),
            fails=("train_reaches_accuracy", "train_history_of_its_steps"),
            hints=("train_same_batches",)),
    Mistake("train_targets_apart_from_their_examples", "train",
            edited(TRAIN, "backprop(X_train[batch], Y_train[batch],",
                   "backprop(X_train[batch], Y_train[np.sort(batch)],"),
            fails=("train_reaches_accuracy", "train_steps_carry_momentum",
                   "train_history_of_its_steps"),
            hints=("train_labels",)),
    Mistake("train_trains_on_training_and_test_data", "train",
            edited(
        TRAIN, "    for epoch in range(epochs):\n",
        "    X_train, Y_train = np.vstack([X_train, X_test]), np.vstack([Y_train, Y_test])\n"
        "    for epoch in range(epochs):\n"),
            fails=("train_steps_carry_momentum", "train_history_of_its_steps"),
            hints=("train_on_test",)),
    Mistake("train_test_metrics_on_the_training_set", "train",
            edited(TRAIN, '("test", X_test, Y_test)', '("test", X_train, Y_train)'),
            fails=("train_history_of_its_steps",), hints=("train_history_data",)),
    Mistake("train_train_metrics_on_the_test_set", "train",
            edited(TRAIN, '("train", X_train, Y_train)', '("train", X_test, Y_test)'),
            fails=("train_history_of_its_steps",), hints=("train_history_data",)),
    Mistake("train_loss_averaged_over_the_mini_batches", "train",
            edited(edited(edited(
        TRAIN, "        for batch in np.array_split(", "        seen = []\n        for batch in np.array_split("),
        "            cache = forward(X_train[batch], params)\n",
        "            cache = forward(X_train[batch], params)\n"
        "            seen.append(averageCE(Y_train[batch], cache[\"P\"]))\n"),
        'history[name + "_loss"].append(averageCE(Y, P))',
        'history[name + "_loss"].append(np.mean(seen) if name == "train" else averageCE(Y, P))'),
            fails=("train_history_of_its_steps",), hints=("train_history_last_batch",)),
    Mistake("train_made_up_test_accuracy", "train",
            edited(TRAIN, 'history[name + "_acc"].append(accuracy(Y, P))',
                   'history[name + "_acc"].append(accuracy(Y, P) if name == "train" '
                   'else min(1.0, 0.5 + 0.1 * epoch))'),
            fails=("train_history_of_its_steps",), hints=("train_history_values",)),
    Mistake("train_returns_the_initial_params", "train",
            edited(edited(
        TRAIN, "    velocity = {key:", "    start = dict(params)\n    velocity = {key:"),
        "return params, history", "return start, history"),
            fails=("train_reaches_accuracy", "train_steps_carry_momentum"),
            hints=("train_returned_params",)),
    Mistake("train_loss_of_last_batch_only", "train",
            edited(TRAIN, 'history[name + "_loss"].append(averageCE(Y, P))',
                   'history[name + "_loss"].append(averageCE(Y, P) if name == '
                   '"test" else averageCE(Y_train[batch], cache["P"]))'),
            fails=("train_history_of_its_steps",), hints=("train_history_last_batch",)),
    Mistake("train_history_before_each_epoch", "train",
            edited(edited(
        TRAIN, "    for epoch in range(epochs):\n",
        "    for epoch in range(epochs):\n"
        "        for name, X, Y in ((\"train\", X_train, Y_train), (\"test\", X_test, Y_test)):\n"
        "            P = forward(X, params)[\"P\"]\n"
        "            history[name + \"_loss\"].append(averageCE(Y, P))\n"
        "            history[name + \"_acc\"].append(accuracy(Y, P))\n"),
        "        for name, X, Y in ((\"train\", X_train, Y_train), (\"test\", X_test, Y_test)):\n"
        "            P = forward(X, params)[\"P\"]\n"
        "            history[name + \"_loss\"].append(averageCE(Y, P))\n"
        "            history[name + \"_acc\"].append(accuracy(Y, P))\n    return", "    return"),
            fails=("train_history_of_its_steps",), hints=("train_history_stale",)),
    Mistake("train_shuffles_data_in_place", "train",
            edited(TRAIN, "    for epoch in range(epochs):\n",
                   "    for epoch in range(epochs):\n"
                   "        order = rng.permutation(len(X_train))\n"
                   "        X_train[:] = X_train[order]\n"
                   "        Y_train[:] = Y_train[order]\n"),
            fails=("train_history_format",), hints=("train_inputs_modified",)),
    Mistake("train_updates_without_sgd_momentum_step", "train",
            edited(TRAIN, "params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)",
                   "velocity = {k: momentum * velocity[k] - lr * grads[k] for k in params}\n"
                   "            params = {k: params[k] + velocity[k] for k in params}"),
            fails=("train_reaches_accuracy", "train_steps_carry_momentum"),
            hints=("train_no_sgd_step",)),
    Mistake("train_skips_the_last_mini_batch", "train",
            edited(TRAIN, "np.array_split(rng.permutation(len(X_train)), n_batches)",
                   "np.array_split(rng.permutation(len(X_train)), n_batches)[:-1]"),
            fails=("train_reaches_accuracy", "train_steps_carry_momentum",
                   "train_history_of_its_steps"),
            hints=("train_steps_per_batch",)),
    Mistake("train_swaps_lr_and_momentum", "train",
            edited(TRAIN, "sgd_momentum_step(params, grads, velocity, lr, momentum)",
                   "sgd_momentum_step(params, grads, velocity, momentum, lr)"),
            fails=("train_steps_carry_momentum",), hints=("train_step_arguments",)),
    Mistake("train_ignores_what_the_step_returns", "train",
            edited(TRAIN, "params, velocity = sgd_momentum_step(",
                   "sgd_momentum_step("),
            fails=("train_reaches_accuracy", "train_steps_carry_momentum"),
            hints=("train_step_result_ignored",)),
    Mistake("train_resets_velocity_before_every_step", "train",
            edited(TRAIN, "            params, velocity = sgd_momentum_step(",
                   "            velocity = {key: np.zeros_like(value) for key, "
                   "value in params.items()}\n"
                   "            params, velocity = sgd_momentum_step("),
            fails=("train_reaches_accuracy", "train_steps_carry_momentum"),
            hints=("train_velocity_reset",)),
    Mistake("train_velocity_starts_as_params", "train",
            edited(TRAIN, "velocity = {key: np.zeros_like(value) for key, value in params.items()}",
                   "velocity = {key: value.copy() for key, value in params.items()}"),
            fails=("train_reaches_accuracy", "train_steps_carry_momentum"),
            hints=("train_velocity_start",)),
    Mistake("train_gradients_at_the_epochs_first_params", "train",
            edited(edited(
        TRAIN, "    for epoch in range(epochs):\n",
        "    for epoch in range(epochs):\n        first = params\n"),
        "grads = backprop(X_train[batch], Y_train[batch], params, cache)",
        "grads = backprop(X_train[batch], Y_train[batch], first, forward(X_train[batch], first))"),
            fails=("train_reaches_accuracy", "train_steps_carry_momentum"),
            hints=("train_grads",)),
    Mistake("train_does_not_learn", "train",
            """
        def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64,
                  lr=0.05, momentum=0.9, seed=0):
            params = init_params(X_train.shape[1], hidden, Y_train.shape[1],
                                 np.random.default_rng(seed))
            history = {k: [0.1] * epochs for k in ("train_loss", "train_acc", "test_loss",
                                                    "test_acc")}
            return params, history
        """,
            fails=("train_reaches_accuracy", "train_steps_carry_momentum"),
            hints=("train_no_sgd_step",)),
]
