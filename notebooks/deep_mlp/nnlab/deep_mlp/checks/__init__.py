"""Self-checks for the deep_mlp notebook, with a hint for each common mistake.

In the notebook, once a function is written, run for example::

    from nnlab.deep_mlp.checks import check
    check("sigmoid_backward")   # one function
    check()                     # every function of the assignment

``check`` finds your functions in the notebook's globals and runs quick checks that need
no reference solution: the handout's values, finite differences, stability at +-1000,
unchanged inputs. Passing is a good sign, not a guarantee: the graded tests use other
inputs as well. ``run_test`` runs a notebook test cell with these hints.
"""


from nnlab.checking import ENGINE_HINTS, Table
from nnlab.checking.entry import entry_points
from nnlab.deep_mlp.checks import (layers as check_layers, network as check_network,
                                  training as check_training)

__all__ = ["check", "run_test"]  # what the notebook imports

FUNCTION_NAMES = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                  "sigmoid_forward", "sigmoid_backward", "softmax_ce_loss", "init_mlp",
                  "mlp_forward", "mlp_backward", "train_mlp")

# Student functions that a function usually calls: when it fails, a failing one of these
# is pointed out ("fix that first").
USES = {
    "sigmoid_backward": ("sigmoid_forward",),
    "mlp_forward": ("affine_forward", "relu_forward", "sigmoid_forward"),
    "mlp_backward": ("affine_backward", "relu_backward", "sigmoid_backward"),
    "train_mlp": ("init_mlp", "mlp_forward", "mlp_backward", "softmax_ce_loss"),
}

CHECKERS = dict(check_layers.CHECKERS, **check_network.CHECKERS,
                **check_training.CHECKERS)

COMMON_HINTS = dict(ENGINE_HINTS, **{
    "shape_error": "the shapes of two arrays in that line do not fit together: print their "
                   ".shape. Conventions: X (N, D), W (D, H), b (H,), scores and Y (N, K); "
                   "layer l's W is (sizes[l-1], sizes[l]).",
    "key_error": "a dict key is missing or misspelt: params and grads use 'W1', 'b1', ..., "
                 "'WL', 'bL'; the caches 'X', 'W' (affine), 'Z' (activations), 'A_prev' "
                 "and 'Z' (mlp_forward) (case matters).",
})

HINTS = dict(COMMON_HINTS, **check_layers.HINTS, **check_network.HINTS,
             **check_training.HINTS)

# Hints that name no particular mistake: after a specific one, they are not repeated.
GENERIC = {key for key in HINTS if key.endswith("_values")} | {
    "exception", "unexpected_output"}

TABLE = Table("deep_mlp", FUNCTION_NAMES, CHECKERS, HINTS, uses=USES, generic=GENERIC)


check, run_test = entry_points(TABLE)  # the notebook's check() and its test cells' run_test
