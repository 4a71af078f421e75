"""Student-side helpers, shipped with each assignment's release.

This package never contains reference solutions or hidden tests. What every assignment
shares is here:

- ``data``: loading MNIST; ``utils``: accuracy, init_params, one_hot; ``plots``: figures;
- ``testing``: the helpers the course's tests are written with, and ``run_test``;
- ``recording``: recording the calls a function makes (``CallRecorder``), for the tests of
  train in the notebook and in the grader's student process alike;
- ``checking``: the self-check engine behind each assignment's ``check(name)``;
- ``progress``: ``training_progress``, the bar the training cells show (steps, time left,
  each epoch's loss and accuracy), watching the notebook's own functions.

What is one assignment's is in ``nnlab/<assignment>/``: its handout numbers, its checks
and hints (``nnlab.<assignment>.checks``: ``check``, ``run_test``), e.g.
``nnlab.two_layer_net`` and ``nnlab.foundations``.
"""

from nnlab.utils import accuracy, init_params, one_hot

__all__ = ["accuracy", "init_params", "one_hot"]
