"""Tests of mlp_forward(X, params, activations): each cache array from the previous one, by the
notebook's formula or by the student's own layer forward (nnlab/deep_mlp/composition.py), so
that a wrong layer function costs its own tests only; a layer forward that raises, returns a
wrong shape or modifies its input is stood in by its formula (nnlab.stand_ins)."""

import numpy as np

from autograder.graded import graded
from nnlab.deep_mlp.composition import assert_mlp_forward, caches_of, small_network
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.testing import Student, assert_unchanged


@graded(points=1)
def mlp_forward_two_hidden_layers(student: Student) -> None:
    """mlp_forward on a 5-4-3-2 network (relu, sigmoid): scores and every layer's cache {"A_prev", "Z"}."""
    X, params = small_network(np.random.default_rng(41), [5, 4, 3, 2],
                              activations=["relu", "sigmoid"])
    value, after = track_on_own_work(student, "mlp_forward", X, params, ["relu", "sigmoid"],
                                     helpers=("affine_forward", "relu_forward", "sigmoid_forward"))
    assert_mlp_forward(value, X, params, ["relu", "sigmoid"], student=student)
    if after is not None:  # (unknown when a layer was stood in)
        assert_unchanged(params, after[1], "params")


@graded(points=1, hidden=True)
def mlp_forward_depths(student: Student) -> None:
    """mlp_forward is right with 0 hidden layers (6-3) and with 3 (6-5-5-4-3, relu/sigmoid/sigmoid)."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    for sizes, activations in (([6, 3], []), ([6, 5, 5, 4, 3], ["relu", "sigmoid", "sigmoid"])):
        # no pre-activation near 0 (a relative tolerance there would judge rounding)
        X, params = small_network(rng, sizes, N=5, activations=activations)
        while min(np.abs(cache["Z"]).min() for cache in caches_of(X, params, activations)) < 1e-3:
            X, params = small_network(rng, sizes, N=5, activations=activations)
        value = call_on_own_work(student, "mlp_forward", X, params, activations,
                                 helpers=("affine_forward", "relu_forward", "sigmoid_forward"))
        assert_mlp_forward(value, X, params, activations, hide_values=True, student=student)
