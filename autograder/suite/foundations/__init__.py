"""The foundations assignment's graded tests, one module per student function.

The same conventions as the two-layer network's suite (see ``autograder.suite``): every
test is a plain function ``test(student)`` marked with ``@graded``; its grade_id starts
with the student function it tests; test bodies use only the names that
``NOTEBOOK_TEST_IMPORTS`` provides, and hidden tests may import the reference from
``solutions.foundations`` inside their body.
"""

from autograder.graded import collect
from autograder.suite.foundations import (
    box_network, conv_output_size, count_parameters, fit_l1, graph_backward, graph_forward,
    l1_loss, l1_subgradient, softmax_jacobian, staircase_network,
)
from solutions.foundations import STUDENT_FUNCTIONS  # noqa: F401 (the registry reads it)

# Order matters only for display: it follows the notebook.
TESTS = collect([graph_forward, graph_backward, count_parameters, conv_output_size,
                 softmax_jacobian, l1_loss, l1_subgradient, fit_l1, box_network,
                 staircase_network])

# What the notebook's test-setup cell imports; test bodies (and the annotations of their
# signatures, such as ``student: Student``) use nothing else.
NOTEBOOK_TEST_IMPORTS = """\
import numpy as np
from nnlab.foundations import handout
from nnlab.foundations.composition import (assert_fit_l1, fit_of_own_functions, fit_pair,
                                           staircase_is_own_boxes)
from nnlab.foundations.checks import run_test
from nnlab.foundations.networks import one_hidden_layer
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.testing import (Student, assert_close, assert_params, assert_shape,
                           assert_unchanged, describe, numerical_gradient)"""

# The whole setup cell of this assignment's notebook (build.py's SETUP_CODE for it).
SETUP_CODE = NOTEBOOK_TEST_IMPORTS + """
import matplotlib.pyplot as plt
from nnlab.foundations.checks import check
from nnlab.foundations.demos import line_with_outliers, plot_line_fits, plot_staircases
"""
