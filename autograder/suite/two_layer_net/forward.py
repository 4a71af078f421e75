"""Tests of forward(X, params).

forward is graded on its own work: each array of its cache is compared with the correct
value of the cache's previous array, or with what the student's own compute_layer, relu or
softmax gives for it (nnlab.two_layer_net.composition), so a mistake in those costs their tests only;
one of them that raises, returns a wrong shape or modifies its input is stood in by its formula
(nnlab.stand_ins).
"""

import numpy as np

from autograder.graded import graded
from nnlab.two_layer_net.composition import assert_forward_cache
from nnlab.stand_ins import call_on_own_work, track_on_own_work
from nnlab.testing import Student, as_float_array, assert_unchanged


@graded(points=1)
def forward_returns_cache(student: Student) -> None:
    """forward returns a dict of arrays Z1, H, Z2, P and does not modify X or params."""
    rng = np.random.default_rng(11)
    N, D, H, K = 5, 7, 4, 3
    X = rng.normal(size=(N, D))
    params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
              "W2": rng.normal(size=(H, K)), "b2": rng.normal(size=K)}
    # a compute_layer, relu or softmax that breaks (raises, a wrong shape, modifies its input)
    # is stood in by its formula: forward is graded on its own work (nnlab.stand_ins)
    cache, after = track_on_own_work(student, "forward", X, params, helpers=("compute_layer", "relu", "softmax"))
    assert isinstance(cache, dict), f"forward should return a dict, got {type(cache).__name__}"
    missing = sorted({"Z1", "H", "Z2", "P"} - set(cache))
    assert not missing, f"the cache returned by forward lacks the key(s) {missing}"
    for key in ("Z1", "H", "Z2", "P"):
        as_float_array(cache[key], f'cache["{key}"]')
    if after is not None:  # (unknown when a helper was stood in)
        assert_unchanged(X, after[0], "X")
        assert_unchanged(params, after[1], "params")


@graded(points=1)
def forward_layers(student: Student) -> None:
    """forward's cache is Z1 = X W1 + b1, H = relu(Z1), Z2 = H W2 + b2, P = softmax(Z2), each from the one before."""
    rng = np.random.default_rng(19)
    N, D, H, K = 5, 7, 4, 3
    X = rng.normal(size=(N, D))
    params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
              "W2": rng.normal(size=(H, K)), "b2": rng.normal(size=K)}
    # Each array is compared with the correct value of the one before it in your cache,
    # or with what your own compute_layer, relu or softmax gives for it.
    assert_forward_cache(student, X, params, call_on_own_work(student, "forward", X, params,
                                                              helpers=("compute_layer", "relu", "softmax")))


@graded(points=1, hidden=True)
def forward_random_inputs(student: Student) -> None:
    """forward's Z1, H, Z2 and P are right for N=6, D=9, H=5, K=4 (each from the one before)."""
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    X = rng.normal(size=(6, 9))
    params = {"W1": rng.normal(size=(9, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 4)), "b2": rng.normal(size=4)}
    cache = call_on_own_work(student, "forward", X, params, helpers=("compute_layer", "relu", "softmax"))
    assert_forward_cache(student, X, params, cache, hide_values=True)
