"""The assignment's graded tests, one module per student function.

Every test is written once here. ``python -m autograder build`` pastes visible
tests into the student notebook and hidden ones into the instructor's source
notebook; ``python -m autograder grade`` runs them in the trusted grader process.
Test bodies may only use the names that ``NOTEBOOK_TEST_IMPORTS`` provides (and
hidden tests may import from ``solutions`` inside their body).
"""

from autograder.registry import collect
from solutions import STUDENT_FUNCTIONS
from autograder.suite import (
    averageCE, backprop, compute_layer, forward, gradCE, relu, sgd_momentum_step, softmax,
    train,
)

# Order matters only for display: it follows the notebook.
TESTS = collect([relu, softmax, compute_layer, averageCE, gradCE, forward, backprop,
                 sgd_momentum_step, train])
BY_ID = {test.grade_id: test for test in TESTS}
FUNCTION_NAMES = tuple(function.__name__ for function in STUDENT_FUNCTIONS)


def target_of(test):
    """The student function a test is about: the longest name its grade_id starts with."""
    names = [name for name in FUNCTION_NAMES if test.grade_id.startswith(name + "_")]
    if not names:
        raise ValueError(f"grade_id {test.grade_id} does not start with a student function name")
    return max(names, key=len)

# What the notebook's test-setup cell imports; test bodies use nothing else.
NOTEBOOK_TEST_IMPORTS = """\
import numpy as np
from nnlab import handout
from nnlab.data import load_mnist
from nnlab.composition import (agrees, assert_backprop_gradients, assert_forward_cache, same_as,
                               small_network)
from nnlab.testing import (as_float_array, assert_close, assert_gradient, assert_params,
                           assert_public, assert_shape, assert_unchanged, numerical_gradient,
                           recorded_arguments, run_test)"""
