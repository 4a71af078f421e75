"""Self-checks for the two-layer network's functions, with a hint for each common mistake.

In the notebook, once a function is written, run for example::

    from nnlab.two_layer_net.checks import check, gradient_check
    check("softmax")      # one function
    check()               # every function of the assignment

``check`` finds your functions in the notebook's globals and runs quick checks that
need no reference solution: the handout's worked numbers, properties (rows of a
softmax sum to 1, softmax(x + c) = softmax(x), nothing overflows at logits of
+-1000, no argument is modified), and finite differences of your own functions. It
prints one verdict per function; when a check fails it says what was checked, what
came out and, for the mistakes students often make, which mistake it is.

Passing these checks is a good sign, not a guarantee: the graded tests use other
inputs as well. Nothing here contains a solution.

Each student function's checker and hints are in the module of its name (``relu``,
``softmax``, ...); ``common`` holds what several share and ``gradient_check``. TABLE is
what the engine (``nnlab.checking``) runs; ``run_test`` runs a notebook test cell with
these hints.
"""


from nnlab.checking import ENGINE_HINTS, Table
from nnlab.checking.entry import entry_points
from nnlab.two_layer_net import FUNCTION_NAMES, USES
from nnlab.two_layer_net.checks import (averageCE, backprop, common, compute_layer, forward,
                                        gradCE, relu, sgd_momentum_step, softmax, train)

gradient_check = common.gradient_check

__all__ = ["check", "gradient_check", "run_test"]  # what the notebook imports

MODULES = {"relu": relu, "softmax": softmax, "compute_layer": compute_layer,
           "averageCE": averageCE, "gradCE": gradCE, "forward": forward, "backprop": backprop,
           "sgd_momentum_step": sgd_momentum_step, "train": train}
assert tuple(MODULES) == FUNCTION_NAMES, "one checks module per function, in notebook order"

# The hints of any function: the engine's, and these two about this assignment's arrays.
COMMON_HINTS = dict(
    ENGINE_HINTS,
    shape_error="the shapes of two arrays in that line do not fit together: print their "
                ".shape. Conventions: X (N, D), W1 (D, H), b1 (H,), W2 (H, K), b2 (K,), "
                "targets and probabilities (N, K).",
    key_error="a dict key is missing or misspelt: params use 'W1', 'b1', 'W2', 'b2' and "
              "forward's cache 'Z1', 'H', 'Z2', 'P' (case matters).",
)
HINTS = dict(COMMON_HINTS)
for _module in MODULES.values():  # each function's hints, from its module
    assert not set(_module.HINTS) & set(HINTS), f"{_module.__name__} repeats a hint key"
    HINTS.update(_module.HINTS)
del _module

_VALUES = {key for key in HINTS if key.endswith("_values")}
TABLE = Table(
    "two_layer_net", FUNCTION_NAMES,
    checkers={name: getattr(module, f"check_{name}") for name, module in MODULES.items()},
    hints=HINTS, uses=USES,
    generic=_VALUES | {"exception", "unexpected_output"} | forward.GENERIC | backprop.GENERIC,
    value_hints=_VALUES | backprop.VALUE_HINTS,
    exception_hints={name: module.exception_hints for name, module in MODULES.items()
                     if hasattr(module, "exception_hints")})


check, run_test = entry_points(TABLE)  # the notebook's check() and its test cells' run_test
