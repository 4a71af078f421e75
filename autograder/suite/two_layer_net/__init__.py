"""two_layer_net: its graded tests, one module per student function, and its registry entry.

Every test is written once here. ``python -m autograder build`` pastes visible
tests into the student notebook and hidden ones into the instructor's source
notebook; ``python -m autograder grade`` runs them in the trusted grader process.
Test bodies may only use the names that ``NOTEBOOK_TEST_IMPORTS`` provides (and
hidden tests may import from ``solutions`` inside their body).
"""

from autograder.graded import collect
from autograder.suite.two_layer_net import (
    averageCE, backprop, compute_layer, forward, gradCE, relu, sgd_momentum_step, softmax,
    train,
)
from solutions.two_layer_net import STUDENT_FUNCTIONS  # noqa: F401 (the registry reads it)

# Order matters only for display: it follows the notebook.
TESTS = collect([relu, softmax, compute_layer, averageCE, gradCE, forward, backprop,
                 sgd_momentum_step, train])

# What the notebook's test-setup cell imports; test bodies (and the annotations of their
# signatures, such as ``student: Student``) use nothing else.
NOTEBOOK_TEST_IMPORTS = """\
import numpy as np
from nnlab.data import load_mnist
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.testing import (Student, as_float_array, assert_close, assert_gradient,
                           assert_params, assert_public, assert_shape, assert_unchanged,
                           numerical_gradient, recorded_arguments)
from nnlab.two_layer_net import handout
from nnlab.two_layer_net.checks import run_test
from nnlab.two_layer_net.composition import (agrees, assert_backprop_gradients,
                                             assert_forward_cache, same_as, small_network)"""

# The notebook's setup cell (locked): what students' code and the test cells use.
SETUP_CODE = NOTEBOOK_TEST_IMPORTS + """
import matplotlib.pyplot as plt
from nnlab import accuracy, init_params, one_hot
from nnlab.plots import plot_confusion, plot_history, show_digits, show_predictions
from nnlab.two_layer_net.checks import check, gradient_check
from tqdm.auto import tqdm
"""
