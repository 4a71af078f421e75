"""The known mistakes of the two_layer_net assignment: what the grader charges for each
(tests/test_one_charge.py) and what check() says (tests/test_hints.py); see __init__.py.

Most are edits of correct functions written out as students write them. The mistakes of
forward, backprop and sgd_momentum_step are in two_layer_net_network.py, train's in
two_layer_net_train.py; MISTAKES holds them all.
"""

from course_under_test import TLN
from known_mistakes import Mistake, check_unique, demo_source, edited
from known_mistakes.two_layer_net_network import NETWORK_MISTAKES
from known_mistakes.two_layer_net_train import TRAIN_MISTAKES

SOFTMAX = """
def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
"""
AVERAGE_CE = """
def averageCE(target, prediction):
    return -np.sum(target * np.log(prediction)) / target.shape[0]
"""

MISTAKES = check_unique([
    Mistake("relu_modifies_input_in_place", "relu",
            """
        def relu(x):
            x[x < 0] = 0
            return x
        """,
            fails=("relu_properties",), hints=("relu_inplace",)),
    Mistake("relu_returns_boolean_mask", "relu", "def relu(x):\n    return x > 0\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("relu_mask",)),
    Mistake("relu_returns_integer_mask", "relu", "def relu(x):\n    return (x > 0).astype(int)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("relu_mask",)),
    Mistake("relu_returns_int_dtype", "relu",
            "def relu(x):\n    return np.maximum(x, 0).astype(int)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("relu_int",)),
    Mistake("relu_returns_float32", "relu",
            "def relu(x):\n    return np.maximum(x, 0).astype(np.float32)\n",
            fails=("relu_properties",), hints=("relu_dtype",)),
    Mistake("relu_keeps_negatives", "relu", "def relu(x):\n    return np.array(x)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("relu_negatives_kept",)),
    Mistake("relu_min_instead_of_max", "relu", "def relu(x):\n    return np.minimum(x, 0)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("relu_wrong_side",)),
    Mistake("relu_only_for_2d", "relu",
            """
        def relu(x):
            out = np.zeros_like(x)
            for i in range(x.shape[0]):
                for j in range(x.shape[1]):
                    out[i, j] = max(x[i, j], 0.0)
            return out
        """,
            fails=("relu_properties", "relu_random_inputs"), hints=("relu_shape",)),
    Mistake("relu_wrong_values", "relu", "def relu(x):\n    return np.maximum(x, 0.1)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("relu_values",)),
    Mistake("relu_forgets_return", "relu", "def relu(x):\n    np.maximum(x, 0)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("no_return",)),
    Mistake("relu_undefined_name", "relu", "def relu(x):\n    return np.maximum(x, zero)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("name_error",)),
    Mistake("relu_divides_by_zero", "relu",
            "def relu(x):\n    return np.maximum(x, 0) / (x.size - x.size)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("runtime_warning",)),
    Mistake("relu_raises_zero_division", "relu", "def relu(x):\n    return [1 / 0]\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("exception",)),
    Mistake("relu_returns_string", "relu", "def relu(x):\n    return 'max(0, x)'\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("not_numbers",)),
    Mistake("relu_is_abs", "relu", "def relu(x):\n    return np.abs(x)\n",
            fails=("relu_handout_table", "relu_properties", "relu_random_inputs"),
            hints=("relu_values",)),
    Mistake("softmax_epsilon_in_denominator", "softmax",
            edited(SOFTMAX, "np.sum(e, axis=-1, keepdims=True)",
                   "(np.sum(e, axis=-1, keepdims=True) + 1e-5)"),
            fails=("softmax_handout_vector", "softmax_handout_batch", "softmax_stability",
                   "softmax_random_inputs"),
            hints=("softmax_epsilon",)),
    Mistake("softmax_one_global_max", "softmax",
            edited(SOFTMAX, "np.max(x, axis=-1, keepdims=True)", "np.max(x)"),
            fails=("softmax_stability",), hints=("softmax_global_max",)),
    Mistake("softmax_seed_001_both", "softmax",
            """
        def softmax(x):
            x = x - np.max(x)
            exp_x = np.exp(x)
            return exp_x / (np.sum(exp_x, axis=-1, keepdims=True) + 0.00001)
        """,
            fails=("softmax_handout_vector", "softmax_handout_batch", "softmax_stability",
                   "softmax_random_inputs"),
            hints=("softmax_epsilon", "softmax_global_max"), student="ben_softmax_epsilon"),
    Mistake("softmax_not_stabilised", "softmax",
            edited(SOFTMAX, "x - np.max(x, axis=-1, keepdims=True)", "x"),
            fails=("softmax_stability",), hints=("softmax_unstable",)),
    Mistake("softmax_subtracts_min", "softmax",
            edited(SOFTMAX, "x - np.max(x, axis=-1, keepdims=True)",
                   "x - np.min(x, axis=-1, keepdims=True)"),
            fails=("softmax_stability",), hints=("softmax_unstable",)),
    Mistake("softmax_normalises_columns", "softmax",
            """
        def softmax(x):
            e = np.exp(x - np.max(x, axis=0, keepdims=True))
            return e / np.sum(e, axis=0, keepdims=True)
        """,
            fails=("softmax_handout_batch", "softmax_stability", "softmax_random_inputs"),
            hints=("softmax_axis",)),
    Mistake("softmax_normalises_whole_batch", "softmax",
            """
        def softmax(x):
            e = np.exp(x - np.max(x))
            return e / np.sum(e)
        """,
            fails=("softmax_handout_batch", "softmax_stability", "softmax_random_inputs"),
            hints=("softmax_whole",)),
    Mistake("softmax_without_keepdims", "softmax",
            """
        def softmax(x):
            e = np.exp(x - np.max(x, axis=-1))
            return e / np.sum(e, axis=-1)
        """,
            fails=("softmax_handout_batch", "softmax_stability", "softmax_random_inputs"),
            hints=("softmax_keepdims",)),
    Mistake("softmax_axis_1_fails_on_vectors", "softmax",
            """
        def softmax(x):
            e = np.exp(x - np.max(x, axis=1, keepdims=True))
            return e / np.sum(e, axis=1, keepdims=True)
        """,
            fails=("softmax_handout_vector", "softmax_random_inputs"), hints=("softmax_vector",)),
    Mistake("softmax_modifies_input_in_place", "softmax",
            """
        def softmax(x):
            x -= np.max(x, axis=-1, keepdims=True)
            np.exp(x, out=x)
            x /= np.sum(x, axis=-1, keepdims=True)
            return x
        """,
            fails=("softmax_handout_batch", "softmax_random_inputs"), hints=("softmax_inplace",)),
    Mistake("softmax_returns_row_values", "softmax",
            """
        def softmax(x):
            return np.log(np.sum(np.exp(x), axis=-1))
        """,
            fails=("softmax_handout_vector", "softmax_handout_batch", "softmax_stability",
                   "softmax_random_inputs"),
            hints=("softmax_shape",)),
    Mistake("softmax_divides_by_max", "softmax",
            edited(SOFTMAX, "np.sum(e, axis=-1, keepdims=True)",
                   "np.max(e, axis=-1, keepdims=True)"),
            fails=("softmax_handout_vector", "softmax_handout_batch", "softmax_stability",
                   "softmax_random_inputs"),
            hints=("softmax_values",)),
    Mistake("softmax_warns_but_is_right", "softmax",
            edited(SOFTMAX, "    e = ", "    unused = np.log(x)\n    e = "),
            fails=(), hints=("runtime_warning",)),
    Mistake("compute_layer_W_at_X", "compute_layer",
            "def compute_layer(X, W, b):\n    return W @ X + b\n",
            fails=("compute_layer_small_example", "compute_layer_random_inputs"),
            hints=("compute_layer_order",)),
    Mistake("compute_layer_dot_W_X", "compute_layer",
            "def compute_layer(X, W, b):\n    return np.dot(W, X) + b\n",
            fails=("compute_layer_small_example", "compute_layer_random_inputs"),
            hints=("compute_layer_order",)),
    Mistake("compute_layer_forgets_bias", "compute_layer",
            "def compute_layer(X, W, b):\n    return X @ W\n",
            fails=("compute_layer_small_example", "compute_layer_random_inputs"),
            hints=("compute_layer_bias",)),
    Mistake("compute_layer_transposed", "compute_layer",
            "def compute_layer(X, W, b):\n    return W.T @ X.T + b[:, None]\n",
            fails=("compute_layer_small_example", "compute_layer_random_inputs"),
            hints=("compute_layer_transposed",)),
    Mistake("compute_layer_reshapes_b_in_place", "compute_layer",
            """
        def compute_layer(X, W, b):
            b.shape = (1, b.size)
            return X @ W + b
        """,
            fails=("compute_layer_small_example",), hints=("compute_layer_inplace",)),
    Mistake("compute_layer_subtracts_bias", "compute_layer",
            "def compute_layer(X, W, b):\n    return X @ W - b\n",
            fails=("compute_layer_small_example", "compute_layer_random_inputs"),
            hints=("compute_layer_values",)),
    Mistake("compute_layer_transposed_bias_reversed", "compute_layer",
            "def compute_layer(X, W, b):\n    return (W.T @ X.T).T + b[::-1]\n",
            fails=("compute_layer_small_example", "compute_layer_random_inputs"),
            hints=("compute_layer_values",)),
    Mistake("averageCE_mean_over_N_times_K", "averageCE",
            """
        def averageCE(target, prediction):
            return -np.mean(target * np.log(prediction))
        """,
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_mean_over_NK",), student="cat_loss_over_nk"),
    Mistake("averageCE_missing_minus", "averageCE",
            edited(AVERAGE_CE, "return -np.sum", "return np.sum"),
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_sign",)),
    Mistake("averageCE_epsilon_in_log", "averageCE",
            edited(AVERAGE_CE, "np.log(prediction)",
                   "np.log(prediction + 1e-5)"),
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_epsilon",)),
    Mistake("averageCE_clips_at_1e-5", "averageCE",
            edited(AVERAGE_CE, "np.log(prediction)",
                   "np.log(np.clip(prediction, 1e-5, 1.0))"),
            fails=("averageCE_handout_batch", "averageCE_random_inputs"),
            hints=("averageCE_epsilon",)),
    Mistake("averageCE_seed_001_both", "averageCE",
            """
        def averageCE(target, prediction):
            return -np.mean(target * np.log(prediction + 0.00001))
        """,
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_epsilon", "averageCE_mean_over_NK")),
    Mistake("averageCE_mean_and_no_minus", "averageCE",
            """
        def averageCE(target, prediction):
            return np.mean(target * np.log(prediction))
        """,
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_sign", "averageCE_mean_over_NK")),
    Mistake("averageCE_not_averaged", "averageCE", edited(AVERAGE_CE, " / target.shape[0]", ""),
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_sum",)),
    Mistake("averageCE_divides_by_K", "averageCE",
            edited(AVERAGE_CE, "target.shape[0]", "prediction.shape[1]"),
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_divide_by_K",)),
    Mistake("averageCE_log10", "averageCE", edited(AVERAGE_CE, "np.log(", "np.log10("),
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_log_base",)),
    Mistake("averageCE_ignores_target", "averageCE",
            edited(AVERAGE_CE, "target * np.log(prediction)",
                   "np.log(prediction)"),
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_ignores_target",)),
    Mistake("averageCE_binary_cross_entropy", "averageCE",
            edited(
        AVERAGE_CE, "target * np.log(prediction)",
        "target * np.log(prediction) + (1 - target) * np.log(1 - prediction)"),
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_binary",)),
    Mistake("averageCE_per_example", "averageCE",
            """
        def averageCE(target, prediction):
            return -np.sum(target * np.log(prediction), axis=1)
        """,
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_not_scalar",)),
    Mistake("averageCE_log_in_place", "averageCE",
            """
        def averageCE(target, prediction):
            np.log(prediction, out=prediction)
            return -np.sum(target * prediction) / target.shape[0]
        """,
            fails=("averageCE_mean_over_examples", "averageCE_random_inputs"),
            hints=("averageCE_inplace",)),
    Mistake("averageCE_wrong_value", "averageCE",
            edited(AVERAGE_CE, "target.shape[0]", "(target.shape[0] + 1)"),
            fails=("averageCE_handout_batch", "averageCE_mean_over_examples",
                   "averageCE_random_inputs"),
            hints=("averageCE_values",)),
    Mistake("gradCE_not_divided_by_N", "gradCE",
            "def gradCE(target, prediction):\n    return prediction - target\n",
            fails=("gradCE_handout_matrix", "gradCE_finite_differences", "gradCE_random_inputs"),
            hints=("gradCE_no_N",)),
    Mistake("gradCE_sign_flipped", "gradCE",
            "def gradCE(target, prediction):\n"
            "    return (target - prediction) / len(target)\n",
            fails=("gradCE_handout_matrix", "gradCE_finite_differences", "gradCE_random_inputs"),
            hints=("gradCE_sign",)),
    Mistake("gradCE_sign_and_no_N", "gradCE",
            "def gradCE(target, prediction):\n    return target - prediction\n",
            fails=("gradCE_handout_matrix", "gradCE_finite_differences", "gradCE_random_inputs"),
            hints=("gradCE_sign", "gradCE_no_N")),
    Mistake("gradCE_divided_by_N_times_K", "gradCE",
            "def gradCE(target, prediction):\n"
            "    return (prediction - target) / target.size\n",
            fails=("gradCE_handout_matrix", "gradCE_finite_differences", "gradCE_random_inputs"),
            hints=("gradCE_NK",)),
    Mistake("gradCE_divided_by_K", "gradCE",
            "def gradCE(target, prediction):\n"
            "    return (prediction - target) / target.shape[1]\n",
            fails=("gradCE_handout_matrix", "gradCE_finite_differences", "gradCE_random_inputs"),
            hints=("gradCE_K",)),
    Mistake("gradCE_derivative_wrt_probabilities", "gradCE",
            "def gradCE(target, prediction):\n"
            "    return -target / prediction / len(target)\n",
            fails=("gradCE_handout_matrix", "gradCE_finite_differences", "gradCE_random_inputs"),
            hints=("gradCE_dp",)),
    Mistake("gradCE_transposed", "gradCE",
            "def gradCE(target, prediction):\n"
            "    return ((prediction - target) / len(target)).T\n",
            fails=("gradCE_handout_matrix", "gradCE_finite_differences", "gradCE_random_inputs"),
            hints=("gradCE_transposed",)),
    Mistake("gradCE_modifies_prediction", "gradCE",
            """
        def gradCE(target, prediction):
            prediction -= target
            prediction /= len(target)
            return prediction
        """,
            fails=("gradCE_handout_matrix", "gradCE_random_inputs"), hints=("gradCE_inplace",)),
    Mistake("gradCE_wrong_values", "gradCE",
            "def gradCE(target, prediction):\n"
            "    return 0.5 * (prediction - target) / len(target)\n",
            fails=("gradCE_handout_matrix", "gradCE_finite_differences", "gradCE_random_inputs"),
            hints=("gradCE_values",)),
    Mistake("gradCE_type_error", "gradCE",
            "def gradCE(target, prediction):\n"
            "    return (prediction - target) / len(target.shape[0])\n",
            fails=("gradCE_handout_matrix", "gradCE_finite_differences", "gradCE_random_inputs"),
            hints=("type_error",)),
    *NETWORK_MISTAKES,
    *TRAIN_MISTAKES,
    # issue 18 misses (tests/test_misses_18.py): 0 * log 0, the seed, a column bias
    Mistake("averageCE_nan_where_a_probability_is_zero", "averageCE",
            "def averageCE(target, prediction):\n"
            "    return -np.sum(target * np.log(prediction)) / len(target)\n",
            fails=("averageCE_mean_over_examples", "averageCE_random_inputs"),
            hints=("averageCE_zero_probability",)),
    Mistake("compute_layer_column_bias", "compute_layer",
            "def compute_layer(X, W, b):\n    return X @ W + b.reshape(-1, 1)\n",
            fails=("compute_layer_small_example", "compute_layer_random_inputs"),
            hints=("compute_layer_column_bias",)),
    Mistake("train_shuffles_with_the_global_generator", "train",
            edited(demo_source(TLN, "ada_correct", "train"), "np.array_split(rng.permutation(",
                   "np.array_split(np.random.permutation("),
            fails=("train_history_of_its_steps",), hints=("train_seed",)),
    Mistake("train_shuffles_with_a_fixed_generator", "train",
            edited(demo_source(TLN, "ada_correct", "train"),
                   "    rng = np.random.default_rng(seed)\n",
                   "    rng = np.random.default_rng(seed)\n"
                   "    shuffler = np.random.default_rng(1234)\n",
                   "np.array_split(rng.permutation(", "np.array_split(shuffler.permutation("),
            fails=("train_history_of_its_steps",), hints=("train_seed",)),
    Mistake("train_drops_the_last_partial_batch", "train",
            edited(demo_source(TLN, "ada_correct", "train"),
                   "np.array_split(rng.permutation(len(X_train)), n_batches)",
                   "np.array_split(rng.permutation(len(X_train))[:len(X_train) // batch_size "
                   "* batch_size], len(X_train) // batch_size)"),
            fails=("train_reaches_accuracy", "train_steps_carry_momentum"),
            hints=("train_steps_per_batch",)),
    # end of MISTAKES
])
CORRECT: dict[str, str] = {}
