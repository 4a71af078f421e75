"""Reference solution of the two-layer network assignment (instructors only).

This package is the single source of truth: the instructor's source notebook's
``### BEGIN SOLUTION`` regions are generated from these functions by
``python -m autograder build``. Shapes follow the conventions in ``nnlab``.
"""

from solutions.two_layer_net.layers import compute_layer, relu, softmax
from solutions.two_layer_net.loss import averageCE, gradCE
from solutions.two_layer_net.network import backprop, forward
from solutions.two_layer_net.training import sgd_momentum_step, train

# The student-facing API, in the order the notebook introduces it.
STUDENT_FUNCTIONS = (relu, softmax, compute_layer, averageCE, gradCE, forward, backprop,
                     sgd_momentum_step, train)

__all__ = [function.__name__ for function in STUDENT_FUNCTIONS]
