"""deep_mlp: its graded tests, one module per student function, and its registry entry.

The same conventions as the other suites (see ``autograder.suite``): every test is a plain
function ``test(student)`` marked with ``@graded``; its grade_id starts with the student
function it tests; test bodies use only the names ``NOTEBOOK_TEST_IMPORTS`` provides, and
hidden tests may import the reference from ``solutions.deep_mlp`` inside their body.
"""

from autograder.graded import collect
from autograder.suite.deep_mlp import (
    affine_backward, affine_forward, init_mlp, mlp_backward, mlp_forward, relu_backward,
    relu_forward, sigmoid_backward, sigmoid_forward, softmax_ce_loss, train_mlp,
)
from solutions.deep_mlp import STUDENT_FUNCTIONS  # noqa: F401 (the registry reads it)

# Order matters only for display: it follows the notebook.
TESTS = collect([affine_forward, affine_backward, relu_forward, relu_backward,
                 sigmoid_forward, sigmoid_backward, softmax_ce_loss, init_mlp, mlp_forward,
                 mlp_backward, train_mlp])

# What the notebook's test-setup cell imports; test bodies (and the annotations of their
# signatures, such as ``student: Student``) use nothing else.
NOTEBOOK_TEST_IMPORTS = """\
import numpy as np
from nnlab.data import load_mnist
from nnlab.deep_mlp import handout
from nnlab.deep_mlp.checks import run_test
from nnlab.deep_mlp.composition import (assert_mlp_forward, assert_mlp_gradients, caches_of,
                                        layer_values, mean_cross_entropy, param_shapes,
                                        small_network)
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.testing import (Student, assert_close, assert_gradient, assert_params,
                           assert_public, assert_shape, assert_unchanged, numerical_gradient)"""

# The whole setup cell of this assignment's notebook.
SETUP_CODE = NOTEBOOK_TEST_IMPORTS + """
import matplotlib.pyplot as plt
from nnlab.plots import plot_confusion, plot_history
from nnlab.deep_mlp.checks import check
from nnlab.deep_mlp.plots import plot_gradient_norms, plot_trainings
"""
