"""Reference solution of the foundations assignment (instructors only).

The single source of truth for the instructor's notebook: ``python -m autograder build``
copies each function's body into its ``### BEGIN SOLUTION`` region. Every function is
self-contained (it uses only NumPy and the other student functions), because that is all
a notebook cell has.
"""

from solutions.foundations.graph import graph_backward, graph_forward
from solutions.foundations.jacobian import softmax_jacobian
from solutions.foundations.l1 import fit_l1, l1_loss, l1_subgradient
from solutions.foundations.sizes import conv_output_size, count_parameters
from solutions.foundations.universal import box_network, staircase_network

# The student-facing API, in the order the notebook introduces it.
STUDENT_FUNCTIONS = (graph_forward, graph_backward, count_parameters, conv_output_size,
                     softmax_jacobian, l1_loss, l1_subgradient, fit_l1, box_network,
                     staircase_network)

__all__ = [function.__name__ for function in STUDENT_FUNCTIONS]
