"""Tests of graph_forward(x0, params)."""

from autograder.graded import graded
from nnlab.testing import Student, assert_close, assert_params, assert_unchanged


@graded(points=2)
def graph_forward_worked_example(student: Student) -> None:
    """graph_forward at x0 = 1.0, w0 = 0.3, b0 = 0.1, w1 = -0.2, b1 = -0.3 gives z = 0.62."""
    params = {"w0": 0.3, "b0": 0.1, "w1": -0.2, "b1": -0.3}
    cache, (_, after) = student.track("graph_forward", 1.0, params)
    expected = {"p0": 0.3, "s0": 0.4, "x1": 0.4, "p1": -0.08, "s1": -0.38, "y": 0.62,
                "z": 0.62}
    values = assert_params(cache, {key: () for key in expected},
                           "the cache returned by graph_forward")
    for key, value in expected.items():
        assert_close(values[key], value, f'cache["{key}"]', atol=1e-12)
    assert_unchanged(params, after, "params")


@graded(points=1, hidden=True)
def graph_forward_inactive_units(student: Student) -> None:
    """graph_forward matches the reference when either ReLU, or both, output 0, and on
    inputs drawn per run, leaving params unchanged (x0 is never 1, so that a value written
    into params shows)."""
    from solutions.foundations import graph_forward as reference
    from autograder.hidden import hidden_rng
    rng = hidden_rng()
    drawn = dict(zip(("w0", "b0", "w1", "b1"), (float(v) for v in rng.uniform(-2, 2, 4))))
    cases = {
        "the first ReLU inactive": (0.8, {"w0": -1.5, "b0": 0.4, "w1": 2.0, "b1": 0.3}),
        "the last ReLU inactive": (-0.7, {"w0": -2.0, "b0": 0.5, "w1": -0.6, "b1": 0.2}),
        "both ReLUs inactive": (-1.2, {"w0": 0.5, "b0": 0.1, "w1": 0.9, "b1": -0.4}),
        "both ReLUs active, x0 < 0": (-0.4, {"w0": -3.0, "b0": 0.6, "w1": 0.7, "b1": 0.1}),
        "inputs drawn at random": (float(rng.choice([-1, 1]) * rng.uniform(0.5, 2)), drawn),
    }
    for case, (x0, params) in cases.items():
        expected = reference(x0, dict(params))
        cache, (_, after) = student.track("graph_forward", x0, params)
        values = assert_params(cache, {key: () for key in expected},
                               f"the cache returned by graph_forward with {case}")
        for key, value in expected.items():
            assert_close(values[key], value, f'cache["{key}"] with {case}', atol=1e-12)
        assert_unchanged(params, after, f"params with {case}")
