"""The reference solution against the handout's worked values and finite differences."""

import warnings

import numpy as np
import pytest

import solutions.two_layer_net as solutions
from nnlab.two_layer_net import handout
from nnlab.testing import numerical_gradient, relative_error


def test_relu_handout_table():
    out = solutions.relu(handout.RELU_INPUT)
    negatives = handout.RELU_INPUT < 0
    assert negatives.sum() == 4, f"the handout table has 4 negatives, found {negatives.sum()}"
    assert np.all(out[negatives] == 0), f"negatives not zeroed: {out[negatives]}"
    assert np.array_equal(out[~negatives], handout.RELU_INPUT[~negatives]), "positives changed"


def test_softmax_handout_vector_and_batch():
    p = solutions.softmax(handout.SOFTMAX_LOGITS)
    np.testing.assert_allclose(p, handout.SOFTMAX_PROBABILITIES, rtol=1e-6)
    batch = solutions.softmax(np.log(handout.BATCH_PROBABILITIES))
    np.testing.assert_allclose(batch, handout.BATCH_PROBABILITIES, rtol=1e-6)
    assert abs(p.sum() - 1) < 1e-12, f"probabilities sum to {p.sum()}"


def test_softmax_stable_at_extremes_without_warnings():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            p = solutions.softmax(x)
    assert np.isfinite(p).all(), f"non-finite softmax at +-1000: {p}"
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-12)


def test_average_ce_handout_batch_is_9_4518():
    loss = solutions.averageCE(handout.BATCH_TARGETS, handout.BATCH_PROBABILITIES)
    assert isinstance(loss, float), f"averageCE returned {type(loss).__name__}, not float"
    assert abs(loss - 9.4518) < 5e-5, f"averageCE of the handout batch is {loss}, expected 9.4518"
    np.testing.assert_allclose(loss, handout.BATCH_LOSS, rtol=1e-12)


def test_grad_ce_is_the_handout_matrix():
    g = solutions.gradCE(handout.BATCH_TARGETS, handout.BATCH_PROBABILITIES)
    np.testing.assert_allclose(g, handout.BATCH_GRADIENT, rtol=1e-6)
    # the -1 entries sit at 0-based indices 6, 4, 7
    assert [int(np.argmin(row)) for row in g] == [6, 4, 7], f"negative entries at {np.argmin(g, 1)}"


def test_grad_ce_matches_finite_differences_of_average_ce():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(5, 4))
    t = np.eye(4)[[0, 3, 1, 1, 2]]
    numeric = numerical_gradient(lambda v: solutions.averageCE(t, solutions.softmax(v)), z)
    error = relative_error(solutions.gradCE(t, solutions.softmax(z)), numeric)
    assert error < 1e-8, f"relative error {error:.2e}"


@pytest.mark.parametrize("key", ["W1", "b1", "W2", "b2"])
def test_backprop_matches_finite_differences(key):
    rng = np.random.default_rng(17)
    N, D, H, K = 7, 5, 6, 3
    X = rng.normal(size=(N, D))
    T = np.eye(K)[rng.integers(0, K, size=N)]
    params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
              "W2": rng.normal(size=(H, K)), "b2": rng.normal(size=K)}
    grads = solutions.backprop(X, T, params, solutions.forward(X, params))

    def loss(value):
        return solutions.averageCE(T, solutions.forward(X, dict(params, **{key: value}))["P"])

    numeric = numerical_gradient(loss, params[key].copy())
    error = relative_error(grads[key], numeric)
    assert error < 1e-7, f"d loss / d {key}: relative error {error:.2e}"


def test_no_function_modifies_its_arguments():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 3))
    T = np.eye(2)[[0, 1, 1, 0]]
    params = {"W1": rng.normal(size=(3, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 2)), "b2": rng.normal(size=2)}
    snapshot = {k: v.copy() for k, v in params.items()}
    cache = solutions.forward(X, params)
    cache_copy = {k: v.copy() for k, v in cache.items()}
    solutions.backprop(X, T, params, cache)
    for k in params:
        assert np.array_equal(params[k], snapshot[k]), f"params[{k}] modified"
    for k in cache:
        assert np.array_equal(cache[k], cache_copy[k]), f"cache[{k}] modified"


def test_sgd_momentum_two_steps_by_hand():
    p, v = {"w": np.array([1.0])}, {"w": np.array([0.0])}
    p, v = solutions.sgd_momentum_step(p, {"w": np.array([2.0])}, v, 0.1, 0.5)
    assert np.allclose([p["w"][0], v["w"][0]], [0.8, -0.2]), f"step 1: {p}, {v}"
    p, v = solutions.sgd_momentum_step(p, {"w": np.array([1.0])}, v, 0.1, 0.5)
    assert np.allclose([p["w"][0], v["w"][0]], [0.6, -0.2]), f"step 2: {p}, {v}"


def test_train_learns_the_embedded_digits(embedded_digits):
    params, history = solutions.train(*embedded_digits, hidden=30, epochs=5, seed=0)
    assert all(len(v) == 5 for v in history.values()), f"history lengths {history}"
    assert history["test_acc"][-1] > 0.88, f"test accuracy {history['test_acc'][-1]:.3f}"
    assert history["train_loss"][-1] < history["train_loss"][0], f"loss rose: {history['train_loss']}"


def test_train_is_reproducible_with_a_seed(embedded_digits):
    small = [a[:300] for a in embedded_digits]
    _, first = solutions.train(*small, epochs=2, seed=4)
    _, second = solutions.train(*small, epochs=2, seed=4)
    assert first == second, f"same seed, different histories: {first} vs {second}"
