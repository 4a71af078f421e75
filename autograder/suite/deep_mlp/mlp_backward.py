"""Tests of mlp_backward(dscores, caches, params, activations): gradients against finite
differences of sum(G * scores), given the correct caches (never the student's forward), or
what the student's own layer backwards compose to (nnlab/deep_mlp/composition.py), so that a
wrong layer function costs its own tests only; a layer backward that raises, returns a wrong
shape or modifies its input is stood in by its formula (nnlab.stand_ins)."""

import numpy as np

from autograder.graded import graded
from nnlab.deep_mlp.composition import assert_mlp_gradients, caches_of, small_network
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.testing import Student, assert_unchanged


@graded(points=2)
def mlp_backward_gradient_check(student: Student) -> None:
    """mlp_backward's gradients match finite differences on a 5-4-3-2 network (sigmoid, relu)."""
    rng = np.random.default_rng(42)
    activations = ["sigmoid", "relu"]
    X, params = small_network(rng, [5, 4, 3, 2], activations=activations)
    G = rng.normal(size=(4, 2))
    caches = caches_of(X, params, activations)
    grads, after = track_on_own_work(student, "mlp_backward", G, caches, params, activations,
                                     helpers=("affine_backward", "relu_backward", "sigmoid_backward"))
    assert_mlp_gradients(grads, X, params, activations, G, student=student)
    for l, (before, now) in enumerate(zip(caches, after[1] if after else ())):
        assert_unchanged(before, now, f"caches[{l}]")


@graded(points=2, hidden=True)
def mlp_backward_depths(student: Student) -> None:
    """mlp_backward matches finite differences with 0, 2 and 3 hidden layers (relu and sigmoid)."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    for sizes, activations in (([6, 3], []), ([6, 5, 4, 3], ["relu", "sigmoid"]),
                               ([7, 6, 5, 4, 3], ["sigmoid", "sigmoid", "relu"])):
        # no ReLU's pre-activation near 0, where its kink spoils finite differences
        while True:
            X, params = small_network(rng, sizes, N=5, activations=activations)
            caches = caches_of(X, params, activations)
            if all(np.abs(caches[l]["Z"]).min() >= 1e-3
                   for l, kind in enumerate(activations) if kind == "relu"):
                break
        G = rng.normal(size=(5, sizes[-1]))
        grads = call_on_own_work(student, "mlp_backward", G, caches, params, activations,
                                 helpers=("affine_backward", "relu_backward", "sigmoid_backward"))
        assert_mlp_gradients(grads, X, params, activations, G, hide_values=True,
                             student=student)
