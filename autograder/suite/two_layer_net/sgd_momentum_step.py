"""Tests of sgd_momentum_step(params, grads, velocity, lr, momentum)."""

import numpy as np

from autograder.graded import graded
from nnlab.testing import Student, assert_close, assert_params, assert_public, assert_unchanged


@graded(points=2)
def sgd_momentum_step_two_steps(student: Student) -> None:
    """Two momentum steps (lr=0.1, momentum=0.9) from zero velocity give hand-computed values; grads stay unchanged."""
    params = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([0.0, 0.5]),
              "W2": np.array([[3.0], [1.0]]), "b2": np.array([-1.0])}
    g1 = {"W1": np.array([[0.5, -1.0]]), "b1": np.array([1.0, 0.0]),
          "W2": np.array([[-2.0], [0.0]]), "b2": np.array([0.1])}
    g2 = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([0.0, -1.0]),
          "W2": np.array([[1.0], [0.5]]), "b2": np.array([0.0])}
    velocity = {key: np.zeros_like(value) for key, value in params.items()}
    # v1 = -0.1 g1, theta1 = theta0 + v1; v2 = 0.9 v1 - 0.1 g2, theta2 = theta1 + v2
    expected_v1: dict[str, list] = {"W1": [[-0.05, 0.1]], "b1": [-0.1, 0.0],
                                    "W2": [[0.2], [0.0]], "b2": [-0.01]}
    expected_p1: dict[str, list] = {"W1": [[0.95, -1.9]], "b1": [-0.1, 0.5],
                                    "W2": [[3.2], [1.0]], "b2": [-1.01]}
    expected_v2: dict[str, list] = {"W1": [[-0.145, -0.11]], "b1": [-0.09, 0.1],
                                    "W2": [[0.08], [-0.05]], "b2": [-0.009]}
    expected_p2: dict[str, list] = {"W1": [[0.805, -2.01]], "b1": [-0.19, 0.6],
                                    "W2": [[3.28], [0.95]], "b2": [-1.019]}
    for step, grads, want_p, want_v in ((1, g1, expected_p1, expected_v1),
                                        (2, g2, expected_p2, expected_v2)):
        returned, after = student.track("sgd_momentum_step", params, grads, velocity, 0.1, 0.9)
        assert isinstance(returned, (tuple, list)) and len(returned) == 2, (
            f"sgd_momentum_step should return the pair (params, velocity), got "
            f"{type(returned).__name__}")
        # only params and velocity may be updated in place
        assert_unchanged(grads, after[1], f"grads (step {step})")
        shapes = {key: np.shape(value) for key, value in want_p.items()}
        # shapes first; only these four arrays go on to the next step
        params = assert_params(returned[0], shapes, f"the params returned by step {step}")
        velocity = assert_params(returned[1], shapes, f"the velocity returned by step {step}")
        for key in ("W1", "b1", "W2", "b2"):
            assert_close(velocity[key], want_v[key], f'velocity["{key}"] after step {step}',
                         atol=1e-12)
            assert_close(params[key], want_p[key], f'params["{key}"] after step {step}',
                         atol=1e-12)


@graded(points=1, hidden=True)
def sgd_momentum_step_random_inputs(student: Student) -> None:
    """Three momentum steps with lr=0.03, momentum=0.8 match the reference (params and velocity); grads stay unchanged."""
    from solutions.two_layer_net import sgd_momentum_step as reference_step
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    shapes = {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}
    params = {key: rng.normal(size=shape) for key, shape in shapes.items()}
    velocity = {key: np.zeros(shape) for key, shape in shapes.items()}
    # separate copies: the reference may update its dicts in place (the student's get copies)
    mine = {key: value.copy() for key, value in params.items()}
    my_velocity = {key: value.copy() for key, value in velocity.items()}
    for step in range(1, 4):
        grads = {key: rng.normal(size=shape) for key, shape in shapes.items()}
        params, velocity = reference_step(params, grads, velocity, 0.03, 0.8)
        returned, after = student.track("sgd_momentum_step", mine, grads, my_velocity, 0.03, 0.8)
        assert_public(isinstance(returned, (tuple, list)) and len(returned) == 2,
                      "sgd_momentum_step should return the pair (params, velocity)")
        assert_unchanged(grads, after[1], f"grads (step {step})")
        mine = assert_params(returned[0], shapes, f"the params returned by step {step}")
        my_velocity = assert_params(returned[1], shapes, f"the velocity returned by step {step}")
        for key in shapes:
            assert_close(mine[key], params[key], f'params["{key}"] after step {step}',
                         hide_values=True)
            assert_close(my_velocity[key], velocity[key], f'velocity["{key}"] after step {step}',
                         hide_values=True)
