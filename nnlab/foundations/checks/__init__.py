"""Self-checks for the foundations notebook, with a hint for each common mistake.

In the notebook, once a function is written, run for example::

    from nnlab.foundations.checks import check
    check("graph_backward")   # one function
    check()                   # every function of the assignment

``check`` finds your functions in the notebook's globals and runs quick checks that need
no reference solution: the notebook's worked values, properties (each row of a softmax
Jacobian sums to 0, the subgradient is 0 at a perfect fit), finite differences of your
own functions, and that no argument is modified. It prints one verdict per function;
when a check fails it says what was checked, what came out and, for the mistakes
students often make, which mistake it is. Passing is a good sign, not a guarantee: the
graded tests use other inputs as well.

The checks run on the shared engine (``nnlab.checking``) with this assignment's TABLE:
FUNCTION_NAMES, CHECKERS, HINTS, USES and GENERIC. ``run_test`` runs a notebook test cell
with these hints.
"""


from nnlab.checking import ENGINE_HINTS, Table
from nnlab.checking.entry import entry_points
from nnlab.foundations.checks import (calculus as check_calculus, graph as check_graph,
                                     sizes as check_sizes, universal as check_universal)

__all__ = ["check", "run_test"]  # what the notebook imports

FUNCTION_NAMES = ("graph_forward", "graph_backward", "count_parameters", "conv_output_size",
                  "softmax_jacobian", "l1_loss", "l1_subgradient", "fit_l1", "box_network",
                  "staircase_network")

# Student functions that a function usually calls: when it fails, a failing one of these
# is pointed out ("fix that first").
USES = {
    "graph_backward": ("graph_forward",),
    "fit_l1": ("l1_loss", "l1_subgradient"),
    "staircase_network": ("box_network",),
}

CHECKERS = dict(check_graph.CHECKERS, **check_sizes.CHECKERS, **check_calculus.CHECKERS,
                **check_universal.CHECKERS)

# Hints about any function: the engine's, and these two about this assignment's arrays.
COMMON_HINTS = dict(ENGINE_HINTS, **{
    "shape_error": "the shapes of two arrays in that line do not fit together: print their "
                   ".shape. Conventions: X (N, D), y (N,), w (D,); a batch of softmax "
                   "outputs is (N, K); the step networks' W1 (1, H), b1 (H,), W2 (H, 1), "
                   "b2 (1,).",
    "key_error": "a dict key is missing or misspelt: the graph uses 'x0', 'w0', 'b0', 'w1', "
                 "'b1' and the cache 'p0', 's0', 'x1', 'p1', 's1', 'y', 'z'; the networks "
                 "'W1', 'b1', 'W2', 'b2' (case matters).",
})

HINTS = dict(COMMON_HINTS, **check_graph.HINTS, **check_sizes.HINTS, **check_calculus.HINTS,
             **check_universal.HINTS)

# Hints that name no particular mistake: after a specific one, they are not repeated.
GENERIC = {key for key in HINTS if key.endswith("_values")} | {
    "exception", "unexpected_output", "graph_backward_fd"}

TABLE = Table("foundations", FUNCTION_NAMES, CHECKERS, HINTS, uses=USES, generic=GENERIC)


check, run_test = entry_points(TABLE)  # the notebook's check() and its test cells' run_test
