"""Student-side helpers for the foundations assignment (shipped with its release).

- ``handout``: the worked values quoted in the notebook, as numbers;
- ``networks``: evaluate a one-hidden-layer network of step (or steep sigmoid) units;
- ``demos``: the data and plots of the notebook's demo cells;
- ``checks``: ``check("name")``, the self-checks with a hint for each common mistake (the
  checkers themselves are in ``checks.graph``, ``checks.sizes``, ``checks.calculus`` and
  ``checks.universal``).

Nothing here contains a solution or a hidden test.
"""
