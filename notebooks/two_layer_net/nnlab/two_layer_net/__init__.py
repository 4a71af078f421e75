"""Student-side helpers of the two-layer network assignment (shipped with its release).

- ``handout``: the handout's worked examples, as numbers;
- ``composition``: what forward and backprop are graded on (their own work, whatever the
  functions they call do);
- ``checks``: ``check("name")`` and ``gradient_check``, the self-checks with a hint for each
  common mistake (one module per student function), and ``run_test`` for the test cells.

The assignment's facts, stated once here (the checks, the graded tests and the reference
import them):

- ``FUNCTION_NAMES``: the student functions, in notebook order;
- ``PARAM_KEYS``, ``CACHE_KEYS``, ``HISTORY_KEYS``: the keys of params (and of grads and
  velocities), of forward's cache and of train's history;
- ``USES``: the call graph: the student functions each function calls (directly or
  through another one).

Conventions (N examples, D input features, H hidden units, K classes)::

  X       (N, D) float, one example per row     targets, P   (N, K), one-hot / rows sum to 1
  params  {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
  cache   {"Z1": (N, H), "H": (N, H), "Z2": (N, K), "P": (N, K)}

Nothing here contains a solution or a hidden test.
"""

import numpy as np
import numpy.typing as npt

# The types of those conventions, for annotations: a float64 array; params (and grads,
# velocities, forward's cache) as {key: array}.
Array = npt.NDArray[np.float64]
Params = dict[str, Array]

FUNCTION_NAMES = ("relu", "softmax", "compute_layer", "averageCE", "gradCE", "forward",
                  "backprop", "sgd_momentum_step", "train")
PARAM_KEYS = ("W1", "b1", "W2", "b2")
CACHE_KEYS = ("Z1", "H", "Z2", "P")
HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc")

# The student functions each function calls, directly or through another (the others call
# none). When a function fails its check and one of these fails its own, check() says to
# fix that one first.
USES = {
    "forward": ("compute_layer", "relu", "softmax"),
    "backprop": ("gradCE",),
    "train": ("forward", "backprop", "sgd_momentum_step", "averageCE", "compute_layer",
              "relu", "softmax", "gradCE"),
}
