"""Reference solution of the deep_mlp assignment (instructors only).

The single source of truth for the instructor's notebook: ``python -m autograder build``
copies each function's body into its ``### BEGIN SOLUTION`` region. Every function is
self-contained (it uses only NumPy and the other student functions), because that is all
a notebook cell has.
"""

from solutions.deep_mlp.layers import (affine_backward, affine_forward, relu_backward,
                                       relu_forward, sigmoid_backward, sigmoid_forward,
                                       softmax_ce_loss)
from solutions.deep_mlp.network import init_mlp, mlp_backward, mlp_forward
from solutions.deep_mlp.training import train_mlp

# The student-facing API, in the order the notebook introduces it.
STUDENT_FUNCTIONS = (affine_forward, affine_backward, relu_forward, relu_backward,
                     sigmoid_forward, sigmoid_backward, softmax_ce_loss, init_mlp,
                     mlp_forward, mlp_backward, train_mlp)

__all__ = [function.__name__ for function in STUDENT_FUNCTIONS]
