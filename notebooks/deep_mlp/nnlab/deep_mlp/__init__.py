"""Student-side helpers for the deep_mlp assignment (shipped with its release).

- ``handout``: the worked values quoted in the notebook, as numbers;
- ``checks``: ``check("name")``, the self-checks with a hint for each common mistake (the
  checkers themselves are in ``check_layers`` and ``check_network``);
- ``plots``: the demo cells' plots (curves of two trainings, per-layer gradient norms).

Nothing here contains a solution or a hidden test.
"""
