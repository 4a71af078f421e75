"""The known mistakes of the deep_mlp assignment: what the grader charges for each
(tests/test_one_charge.py) and what check() says (tests/test_hints.py); see __init__.py.

train_mlp's mistakes have ``fails=None``: its graded tests train for a minute per student,
too slow for one run per mistake. tests/test_deep_mlp.py runs the one test that sees them
all, train_mlp_history_of_its_steps, on each.
"""

from itertools import chain

from course_under_test import DMLP
from known_mistakes import Mistake, check_unique, demo_source, from_reference


def dmlp(name: str, *pairs: str) -> str:
    """The reference's source of deep_mlp's ``name`` with ``pairs`` (old, new, ...) edited."""
    return from_reference(DMLP, name, *pairs)


def train_variant(*edits: tuple[str, str]) -> str:
    """The reference train_mlp's source with each (old, new) edit applied."""
    return dmlp("train_mlp", *chain(*edits))


EVALUATION = (
    '        for split, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):\n'
    '            scores, _ = mlp_forward(X, params, activations)\n'
    '            loss, _ = softmax_ce_loss(scores, Y)\n'
    '            history[f"{split}_loss"].append(float(loss))\n'
    '            history[f"{split}_acc"].append(float((scores.argmax(1) == Y.argmax(1)).mean()))\n')
SHUFFLE = "        order = rng.permutation(N)\n"
SEEN = (("norms, steps = np.zeros(L), 0", "norms, steps, seen = np.zeros(L), 0, []"),
        ("_, dscores = softmax_ce_loss(scores, Y_train[batch])",
         "seen_loss, dscores = softmax_ce_loss(scores, Y_train[batch])\n"
         "            seen.append(seen_loss)"))
ON_ALL = (("L, N = len(sizes) - 1, X_train.shape[0]",
           "L = len(sizes) - 1\n    X_all, Y_all = np.vstack([X_train, X_test]), "
           "np.vstack([Y_train, Y_test])\n    N = len(X_all)"),
          ("mlp_forward(X_train[batch]", "mlp_forward(X_all[batch]"),
          ("softmax_ce_loss(scores, Y_train[batch])", "softmax_ce_loss(scores, Y_all[batch])"))

MISTAKES = check_unique([
    Mistake("affine_forward_forgets_the_bias", "affine_forward",
            dmlp("affine_forward", "Z = X @ W + b", "Z = X @ W"),
            fails=("affine_forward_values_and_cache", "affine_forward_random"),
            hints=("affine_no_bias",)),
    Mistake("affine_backward_dW_averaged_over_N", "affine_backward",
            dmlp("affine_backward", 'dW = cache["X"].T @ dZ', 'dW = cache["X"].T @ dZ / len(dZ)'),
            fails=("affine_backward_finite_differences", "affine_backward_random"),
            hints=("affine_dW_mean",)),
    Mistake("affine_backward_dW_transposed", "affine_backward",
            dmlp("affine_backward", 'dW = cache["X"].T @ dZ', 'dW = dZ.T @ cache["X"]'),
            fails=("affine_backward_finite_differences", "affine_backward_random"),
            hints=("affine_dW_transposed",)),
    Mistake("affine_backward_db_summed_over_the_wrong_axis", "affine_backward",
            dmlp("affine_backward", "db = dZ.sum(axis=0)", "db = dZ.sum(axis=1)"),
            fails=("affine_backward_finite_differences", "affine_backward_random"),
            hints=("affine_db_axis",)),
    Mistake("affine_backward_dX_without_W", "affine_backward",
            dmlp("affine_backward", 'dX = dZ @ cache["W"].T',
                 'dX = dZ @ np.ones_like(cache["W"]).T'),
            fails=("affine_backward_finite_differences", "affine_backward_random"),
            hints=("affine_backward_values",)),
    Mistake("relu_forward_caches_its_activation", "relu_forward",
            dmlp("relu_forward", 'return np.maximum(Z, 0.0), {"Z": Z}',
                 'A = np.maximum(Z, 0.0)\n    return A, {"Z": A}'),
            fails=("relu_forward_values_and_cache",), hints=("cache_preactivation",)),
    Mistake("relu_forward_is_abs", "relu_forward",
            dmlp("relu_forward", "np.maximum(Z, 0.0)", "np.abs(Z)"),
            fails=("relu_forward_values_and_cache",), hints=("relu_forward_abs",)),
    Mistake("relu_backward_masks_the_gradient", "relu_backward",
            dmlp("relu_backward", 'dA * (cache["Z"] > 0)', "dA * (dA > 0)"),
            fails=("relu_backward_values", "relu_backward_random"),
            hints=("relu_backward_values",)),
    Mistake("sigmoid_forward_caches_its_activation", "sigmoid_forward",
            dmlp("sigmoid_forward", 'return A, {"Z": Z}', 'return A, {"Z": A}'),
            fails=("sigmoid_forward_values_and_cache",), hints=("cache_preactivation",)),
    Mistake("sigmoid_backward_at_the_activation", "sigmoid_backward",
            demo_source(DMLP, "ben_sigmoid_at_activation", "sigmoid_backward"),
            fails=("sigmoid_backward_handout", "sigmoid_backward_finite_differences"),
            hints=("sigmoid_at_activation",), student="ben_sigmoid_at_activation"),
    Mistake("softmax_ce_not_averaged", "softmax_ce_loss",
            dmlp("softmax_ce_loss", "N = scores.shape[0]", "N = 1"),
            fails=("softmax_ce_loss_values", "softmax_ce_loss_gradient_and_stability"),
            hints=("ce_not_mean",)),
    Mistake("init_mlp_variance_as_std", "init_mlp",
            demo_source(DMLP, "eli_init_variance_as_std", "init_mlp"),
            fails=("init_mlp_scales", "init_mlp_draws"), hints=("init_variance_as_std",),
            student="eli_init_variance_as_std"),
    Mistake("init_mlp_generator_per_layer", "init_mlp",
            dmlp("init_mlp", "    rng = np.random.default_rng(seed)\n", "",
                 "params[f\"W{l}\"] = rng.normal(",
                 "params[f\"W{l}\"] = np.random.default_rng(seed).normal("),
            fails=("init_mlp_draws",), hints=("init_draws",)),
    Mistake("init_mlp_seed_ignored", "init_mlp",
            dmlp("init_mlp", "np.random.default_rng(seed)", "np.random.default_rng(seed % 2)"),
            fails=("init_mlp_draws",), hints=("init_draws",)),
    Mistake("mlp_forward_caches_the_activation", "mlp_forward",
            demo_source(DMLP, "dan_cache_activation", "mlp_forward"),
            fails=("mlp_forward_two_hidden_layers", "mlp_forward_depths"),
            hints=("mlp_cache_activation",), student="dan_cache_activation"),
    Mistake("mlp_forward_activations_reversed", "mlp_forward",
            dmlp("mlp_forward", "activations[l - 1] ==", "activations[::-1][l - 1] =="),
            fails=("mlp_forward_two_hidden_layers", "mlp_forward_depths"),
            hints=("mlp_forward_values",)),
    Mistake("mlp_forward_skips_the_activation", "mlp_forward",
            dmlp("mlp_forward", 'A, _ = relu_forward(Z) if activations[l - 1] == "relu" '
                 "else sigmoid_forward(Z)", "A = Z"),
            fails=("mlp_forward_two_hidden_layers", "mlp_forward_depths"),
            hints=("mlp_forward_values",)),
    Mistake("mlp_backward_activations_reversed", "mlp_backward",
            dmlp("mlp_backward", "activations[l - 2] ==", "activations[::-1][l - 2] =="),
            fails=("mlp_backward_gradient_check", "mlp_backward_depths"),
            hints=("mlp_backward_values",)),
    Mistake("mlp_backward_skips_the_activation", "mlp_backward",
            dmlp("mlp_backward", "dZ = (relu_backward", "dZ = dA if True else (relu_backward"),
            fails=("mlp_backward_gradient_check", "mlp_backward_depths"),
            hints=("mlp_backward_values",)),
    Mistake("mlp_backward_hidden_bias_zero", "mlp_backward",
            demo_source(DMLP, "cat_hidden_bias", "mlp_backward"),
            fails=("mlp_backward_gradient_check", "mlp_backward_depths"),
            hints=("mlp_bias_hidden",), student="cat_hidden_bias"),
    Mistake("test_metrics_on_the_training_set", "train_mlp",
            train_variant(
        ('("test", X_test, Y_test)', '("test", X_train, Y_train)')),
            fails=None, hints=("train_history_data",)),
    Mistake("train_metrics_on_the_test_set", "train_mlp",
            train_variant(
        ('("train", X_train, Y_train)', '("train", X_test, Y_test)')),
            fails=None, hints=("train_history_data",)),
    Mistake("history_before_the_epochs_steps", "train_mlp",
            train_variant(
        (EVALUATION, ""), (SHUFFLE, EVALUATION + SHUFFLE)),
            fails=None, hints=("train_history_stale",)),
    Mistake("train_loss_averaged_over_the_mini_batches", "train_mlp",
            train_variant(*SEEN, (
        'append(float(loss))', 'append(float(np.mean(seen) if split == "train" else loss))')),
            fails=None, hints=("train_history_batches",)),
    Mistake("train_loss_of_the_last_mini_batch", "train_mlp",
            train_variant(*SEEN, (
        'append(float(loss))', 'append(float(seen[-1] if split == "train" else loss))')),
            fails=None, hints=("train_history_batches",)),
    Mistake("made_up_test_loss", "train_mlp",
            train_variant(
        ("append(float(loss))",
        "append(float(loss) if split == 'train' else 0.5 ** len(history['test_loss']))")),
            fails=None, hints=("train_history_values",)),
    Mistake("accuracy_in_percent", "train_mlp",
            train_variant(
        ("float((scores.argmax(1) == Y.argmax(1)).mean())",
        "100 * float((scores.argmax(1) == Y.argmax(1)).mean())")),
            fails=None, hints=("train_history_values",)),
    Mistake("grad_norms_of_the_last_mini_batch", "train_mlp",
            train_variant(
        ("[float(v) for v in norms / steps]",
        '[float(np.linalg.norm(grads[f"W{l}"])) for l in range(1, L + 1)]')),
            fails=None, hints=("train_grad_norms_last",)),
    Mistake("grad_norms_summed", "train_mlp",
            train_variant(
        ("for v in norms / steps]", "for v in norms]")),
            fails=None, hints=("train_grad_norms_values",)),
    Mistake("grad_norms_of_the_weights", "train_mlp",
            train_variant(
        ('np.linalg.norm(grads[f"W{l}"])', 'np.linalg.norm(params[f"W{l}"])')),
            fails=None, hints=("train_grad_norms_values",)),
    Mistake("trains_on_train_and_test", "train_mlp", train_variant(*ON_ALL),
            fails=None, hints=("train_on_test",)),
    Mistake("mini_batches_from_the_test_set", "train_mlp",
            train_variant(
        ("mlp_forward(X_train[batch]", "mlp_forward(X_test[batch]"),
        ("softmax_ce_loss(scores, Y_train[batch])", "softmax_ce_loss(scores, Y_test[batch])")),
            fails=None, hints=("train_on_test",)),
    Mistake("never_shuffles", "train_mlp",
            train_variant(
        ("order = rng.permutation(N)", "order = np.arange(N)")),
            fails=None, hints=("train_no_shuffle",)),
    Mistake("shuffles_once_before_the_epochs", "train_mlp",
            train_variant(
        (SHUFFLE, ""), ("    for _ in range(epochs):\n",
        "    order = rng.permutation(N)\n    for _ in range(epochs):\n")),
            fails=None, hints=("train_shuffle_once",)),
    Mistake("generator_re_created_every_epoch", "train_mlp",
            train_variant(
        ("order = rng.permutation(N)", "order = np.random.default_rng(seed).permutation(N)")),
            fails=None, hints=("train_shuffle_once",)),
    Mistake("shuffles_the_batches_not_the_examples", "train_mlp",
            train_variant(
        ("order = rng.permutation(N)",
        "order = np.concatenate([np.arange(b, min(b + batch_size, N)) "
        "for b in rng.permutation(np.arange(0, N, batch_size))])")),
            fails=None, hints=("train_same_batches",)),
    Mistake("draws_with_replacement", "train_mlp",
            train_variant(
        ("order = rng.permutation(N)", "order = rng.integers(0, N, N)")),
            fails=None, hints=("train_batches",)),
    Mistake("skips_the_last_mini_batch", "train_mlp",
            train_variant(
        ("range(0, N, batch_size)", "range(0, N - batch_size, batch_size)")),
            fails=None, hints=("train_batches",)),
    Mistake("targets_shuffled_apart_from_examples", "train_mlp",
            train_variant(
        ("softmax_ce_loss(scores, Y_train[batch])",
         "softmax_ce_loss(scores, Y_train[np.sort(batch)])")),
            fails=None, hints=("train_labels",)),
    Mistake("momentum_ignored", "train_mlp",
            train_variant(
        ("momentum * velocity[name] - lr * grads[name]", "- lr * grads[name]")),
            fails=None, hints=("train_update",)),
    Mistake("velocity_reset_every_epoch", "train_mlp",
            train_variant(
        ("        norms, steps = np.zeros(L), 0\n",
        "        norms, steps = np.zeros(L), 0\n"
        "        velocity = {name: np.zeros_like(value) for name, value in params.items()}\n")),
            fails=None, hints=("train_update",)),
    Mistake("plain_sgd_step_keeps_velocity_unused", "train_mlp",
            train_variant(
        ("params[name] + velocity[name]", "params[name] - lr * grads[name]")),
            fails=None, hints=("train_update",)),
    Mistake("returns_the_initial_params", "train_mlp",
            train_variant(
        ("    velocity = {", "    start = {name: value.copy() for name, value in params.items()}\n"
        "    velocity = {"),
        ("return params, history", "return start, history")),
            fails=None, hints=("train_returned_params",)),
    Mistake("no_gradient_step", "train_mlp",
            train_variant(
        ("grads = mlp_backward(dscores, caches, params, activations)",
        "grads = {name: 0 * value for name, value in params.items()}")),
            fails=None, hints=("train_no_progress",)),
    Mistake("returns_only_the_losses", "train_mlp",
            train_variant(
        ("return params, history", "return params, history['train_loss']")),
            fails=None, hints=("train_format",)),
    # issue 18 misses (tests/test_misses_18.py): overflow, an in-place layer, the last batch
    Mistake("sigmoid_forward_overflows", "sigmoid_forward",
            "def sigmoid_forward(Z):\n    return 1.0 / (1.0 + np.exp(-Z)), {'Z': Z}\n",
            fails=("sigmoid_forward_stable",), hints=("sigmoid_overflow",)),
    Mistake("relu_forward_in_place", "relu_forward",
            "def relu_forward(Z):\n    Z[Z < 0] = 0\n    return Z, {'Z': Z}\n",
            fails=("relu_forward_values_and_cache",), hints=("layer_inplace",)),
    Mistake("train_mlp_drops_the_last_partial_batch", "train_mlp",
            train_variant(("range(0, N, batch_size)", "range(0, N - batch_size + 1, batch_size)")),
            fails=None, hints=("train_batches",)),
    # held-out variants (benchmarks/variants): the seed ignored, the data shuffled in place
    Mistake("shuffles_with_an_unseeded_generator", "train_mlp",
            train_variant(("\n    rng = np.random.default_rng(seed)\n",
                           "\n    rng = np.random.default_rng()\n")),
            fails=None, hints=("train_seed",)),
    Mistake("shuffles_its_data_in_place", "train_mlp",
            train_variant(("order = rng.permutation(N)\n",
                           "order = rng.permutation(N)\n"
                           "        X_train[:], Y_train[:] = X_train[order], Y_train[order]\n")),
            fails=None, hints=("train_inputs_modified",)),
    # one record per layer hint (and the common hints a layer's mistake gives)
    Mistake("affine_forward_subtracts_the_bias", "affine_forward",
            dmlp("affine_forward", "Z = X @ W + b", "Z = X @ W - b"),
            fails=("affine_forward_values_and_cache", "affine_forward_random"), hints=("affine_forward_values",)),
    Mistake("affine_forward_caches_only_X", "affine_forward",
            dmlp("affine_forward", 'return Z, {"X": X, "W": W}', 'return Z, {"X": X}'),
            fails=("affine_forward_values_and_cache",), hints=("affine_cache",)),
    Mistake("affine_forward_returns_only_Z", "affine_forward",
            dmlp("affine_forward", 'return Z, {"X": X, "W": W}', "return Z"),
            fails=("affine_forward_values_and_cache", "affine_forward_random"), hints=("layer_pair",)),
    Mistake("affine_forward_bias_as_a_column", "affine_forward",
            dmlp("affine_forward", "Z = X @ W + b", "Z = X @ W + b.reshape(-1, 1)"),
            fails=("affine_forward_values_and_cache", "affine_forward_random"), hints=("shape_error",)),
    Mistake("affine_backward_returns_a_pair", "affine_backward",
            dmlp("affine_backward", "return dX, dW, db", "return dW, db"),
            fails=("affine_backward_finite_differences", "affine_backward_random"), hints=("affine_backward_triple",)),
    Mistake("affine_backward_db_averaged", "affine_backward",
            dmlp("affine_backward", "db = dZ.sum(axis=0)", "db = dZ.mean(axis=0)"),
            fails=("affine_backward_finite_differences", "affine_backward_random"), hints=("affine_db_mean",)),
    Mistake("relu_forward_leaky", "relu_forward",
            dmlp("relu_forward", "np.maximum(Z, 0.0)", "np.maximum(Z, 0.01 * Z)"),
            fails=("relu_forward_values_and_cache",), hints=("relu_forward_values",)),
    Mistake("relu_backward_without_return", "relu_backward",
            dmlp("relu_backward", 'return dA * (cache["Z"] > 0)', 'dZ = dA * (cache["Z"] > 0)'),
            fails=("relu_backward_values", "relu_backward_random"), hints=("no_return",)),
    Mistake("relu_backward_reads_an_undefined_Z", "relu_backward",
            dmlp("relu_backward", 'dA * (cache["Z"] > 0)', "dA * (Z > 0)"),
            fails=("relu_backward_values", "relu_backward_random"), hints=("name_error",)),
    Mistake("sigmoid_forward_branches_swapped", "sigmoid_forward",
            dmlp("sigmoid_forward", "np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))",
                 "np.where(Z >= 0, E / (1.0 + E), 1.0 / (1.0 + E))"),
            fails=("sigmoid_forward_values_and_cache", "sigmoid_forward_stable"),
            hints=("sigmoid_forward_values",)),
    Mistake("sigmoid_backward_forgets_dA", "sigmoid_backward",
            dmlp("sigmoid_backward", "return dA * S * (1.0 - S)", "return S * (1.0 - S)"),
            fails=("sigmoid_backward_finite_differences",), hints=("sigmoid_backward_values",)),
    Mistake("sigmoid_backward_Z_as_the_activation", "sigmoid_backward",
            dmlp("sigmoid_backward", 'S, _ = sigmoid_forward(cache["Z"])', 'S = cache["Z"]'),
            fails=("sigmoid_backward_handout", "sigmoid_backward_finite_differences"),
            hints=("sigmoid_z_as_a",)),
    Mistake("softmax_ce_without_the_max_shift", "softmax_ce_loss",
            dmlp("softmax_ce_loss", "shifted = scores - scores.max(axis=1, keepdims=True)",
                 "shifted = scores"),
            fails=("softmax_ce_loss_gradient_and_stability",), hints=("ce_overflow",)),
    Mistake("softmax_ce_returns_only_the_loss", "softmax_ce_loss",
            dmlp("softmax_ce_loss", "return loss, (np.exp(log_p) - Y) / N", "return loss"),
            fails=("softmax_ce_loss_values", "softmax_ce_loss_gradient_and_stability"), hints=("ce_pair",)),
    Mistake("softmax_ce_sums_every_class", "softmax_ce_loss",
            dmlp("softmax_ce_loss", "(Y * log_p).sum()", "log_p.sum()"),
            fails=("softmax_ce_loss_values", "softmax_ce_loss_gradient_and_stability"), hints=("ce_values",)),
    Mistake("init_mlp_small_positive_biases", "init_mlp",
            dmlp("init_mlp", "np.zeros(n_out)", "np.full(n_out, 0.01)"),
            fails=("init_mlp_shapes_and_seed",), hints=("init_bias",)),
    Mistake("init_mlp_keys_from_zero", "init_mlp",
            dmlp("init_mlp", 'params[f"W{l}"]', 'params[f"W{l - 1}"]', 'params[f"b{l}"]',
                 'params[f"b{l - 1}"]'),
            fails=("init_mlp_shapes_and_seed", "init_mlp_scales", "init_mlp_draws"),
            hints=("init_keys",)),
    Mistake("init_mlp_he_without_the_2", "init_mlp",
            dmlp("init_mlp", '"he": 2.0 / n_in', '"he": 1.0 / n_in'),
            fails=("init_mlp_scales", "init_mlp_draws"), hints=("init_scale",)),
    Mistake("init_mlp_unseeded", "init_mlp",
            dmlp("init_mlp", "np.random.default_rng(seed)", "np.random.default_rng()"),
            fails=("init_mlp_shapes_and_seed", "init_mlp_draws"), hints=("init_seed",)),
    Mistake("mlp_forward_returns_caches_first", "mlp_forward",
            dmlp("mlp_forward", "return Z, caches", "return caches, Z"),
            fails=("mlp_forward_two_hidden_layers", "mlp_forward_depths"), hints=("mlp_forward_pair",)),
    Mistake("mlp_forward_caches_after_the_activation", "mlp_forward",
            dmlp("mlp_forward", '        caches.append({"A_prev": A, "Z": Z})\n', "",
                 "sigmoid_forward(Z)\n",
                 'sigmoid_forward(Z)\n        caches.append({"A_prev": A, "Z": Z})\n'),
            fails=("mlp_forward_two_hidden_layers", "mlp_forward_depths"), hints=("mlp_cache_input",)),
    Mistake("mlp_forward_calls_affine_without_b", "mlp_forward",
            dmlp("mlp_forward", 'affine_forward(A, params[f"W{l}"], params[f"b{l}"])',
                 'affine_forward(A, params[f"W{l}"])'),
            fails=("mlp_forward_two_hidden_layers", "mlp_forward_depths"), hints=("type_error",)),
    Mistake("mlp_backward_keys_with_d", "mlp_backward",
            dmlp("mlp_backward", 'dA, grads[f"W{l}"], grads[f"b{l}"] = ',
                 'dA, grads[f"dW{l}"], grads[f"db{l}"] = '),
            fails=("mlp_backward_gradient_check", "mlp_backward_depths"), hints=("mlp_backward_keys",)),
    Mistake("mlp_backward_cache_key_A", "mlp_backward",
            dmlp("mlp_backward", 'cache["A_prev"]', 'cache["A"]'),
            fails=("mlp_backward_gradient_check", "mlp_backward_depths"), hints=("key_error",)),
    Mistake("mlp_backward_caches_indexed_from_one", "mlp_backward",
            dmlp("mlp_backward", "cache = caches[l - 1]", "cache = caches[l]"),
            fails=("mlp_backward_gradient_check", "mlp_backward_depths"), hints=("exception",)),
    # end of MISTAKES
])
# correct functions written otherwise: {name: source}; the grader takes each as right
CORRECT = {
    "init_mlp_transposed_draws": dmlp(
        "init_mlp", "rng.normal(0.0, np.sqrt(variance), size=(n_in, n_out))",
        "rng.normal(0.0, np.sqrt(variance), size=(n_out, n_in)).T"),
    "init_mlp_standard_normal": dmlp(
        "init_mlp", "rng.normal(0.0, np.sqrt(variance), size=(n_in, n_out))",
        "rng.standard_normal((n_in, n_out)) * variance ** 0.5"),
    "mlp_backward_inline_layers": dmlp(
        "mlp_backward",
        """dA, grads[f"W{l}"], grads[f"b{l}"] = affine_backward(
            dZ, {"X": cache["A_prev"], "W": params[f"W{l}"]})""",
        """dA = dZ @ params[f"W{l}"].T
        grads[f"W{l}"], grads[f"b{l}"] = cache["A_prev"].T @ dZ, dZ.sum(axis=0)"""),
}
