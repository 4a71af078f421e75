"""Student-side helpers for the deep_mlp assignment (shipped with its release).

- ``handout``: the worked values quoted in the notebook, as numbers;
- ``checks``: ``check("name")``, the self-checks with a hint for each common mistake (the
  checkers themselves are in ``checks.layers``, ``checks.network`` and ``checks.training``,
  with ``checks.steps`` rebuilding a training from its recorded calls);
- ``plots``: the demo cells' plots (curves of two trainings, per-layer gradient norms).

Nothing here contains a solution or a hidden test.
"""

import numpy as np
import numpy.typing as npt

# Types for annotations: a float64 array; params and grads as {"W1": ..., "b1": ..., ...,
# "WL": ..., "bL": ...}.
Array = npt.NDArray[np.float64]
Params = dict[str, Array]
