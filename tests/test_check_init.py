"""check("init_mlp") holds init_mlp to the draws the notebook states (issue 18): one
Generator made before the first layer, layers in order, (n_in, n_out) draws or (n_out, n_in)
draws transposed. A generator made again per layer, or a seed used only for some values,
gets the hint "init_draws"; every correct way to write the stated draws passes."""

import numpy as np
import pytest

import solutions.deep_mlp as reference
from nnlab.deep_mlp import checks
from wrapped import squeezed

VARIANCE = ("{'seed': 1 / max(n_in, n_out), 'he': 2 / n_in, "
            "'xavier': 2 / (n_in + n_out)}[scheme]")

WRONG = {
    "a generator per layer": f"""
def init_mlp(sizes, scheme, seed):
    params = {{}}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        rng = np.random.default_rng(seed)
        params[f"W{{l}}"] = rng.normal(0, np.sqrt({VARIANCE}), size=(n_in, n_out))
        params[f"b{{l}}"] = np.zeros(n_out)
    return params
""",
    "the seed used only modulo 2": """
def init_mlp(sizes, scheme, seed):
    return reference_init(sizes, scheme, seed % 2)
""",
    "the layers drawn last first": f"""
def init_mlp(sizes, scheme, seed):
    rng, params = np.random.default_rng(seed), {{}}
    for l in reversed(range(1, len(sizes))):
        n_in, n_out = sizes[l - 1], sizes[l]
        params[f"W{{l}}"] = rng.normal(0, np.sqrt({VARIANCE}), size=(n_in, n_out))
        params[f"b{{l}}"] = np.zeros(n_out)
    return params
""",
    "the seed offset by the layer": f"""
def init_mlp(sizes, scheme, seed):
    params = {{}}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        rng = np.random.default_rng(seed + l)
        params[f"W{{l}}"] = rng.normal(0, np.sqrt({VARIANCE}), size=(n_in, n_out))
        params[f"b{{l}}"] = np.zeros(n_out)
    return params
""",
}

RIGHT = {
    "standard_normal times sigma": f"""
def init_mlp(sizes, scheme, seed):
    rng, params = np.random.default_rng(seed), {{}}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        params[f"W{{l}}"] = np.sqrt({VARIANCE}) * rng.standard_normal((n_in, n_out))
        params[f"b{{l}}"] = np.zeros(n_out)
    return params
""",
    "(n_out, n_in) drawn and transposed": f"""
def init_mlp(sizes, scheme, seed):
    rng, params = np.random.default_rng(seed), {{}}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{{l}}"] = rng.normal(0.0, np.sqrt({VARIANCE}), (n_out, n_in)).T
        params[f"b{{l}}"] = np.zeros(n_out)
    return params
""",
}


def namespace_with(source):
    namespace = {"np": np, "reference_init": reference.init_mlp}
    exec(source, namespace)
    return namespace


@pytest.mark.parametrize("name", sorted(WRONG))
def test_check_names_a_wrong_draw(name, capsys):
    assert checks.check("init_mlp", namespace_with(WRONG[name])) is False, f"{name} passes"
    out = capsys.readouterr().out
    assert squeezed(checks.HINTS["init_draws"]) in squeezed(out), f"{name}: no hint in\n{out}"


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_check_passes_every_stated_way_to_draw(name, capsys):
    assert checks.check("init_mlp", namespace_with(RIGHT[name])) is True, (
        f"{name} fails:\n{capsys.readouterr().out}")
    assert "Hint" not in capsys.readouterr().out


def test_a_stub_called_outside_run_call_is_not_a_failure(capsys):
    """A check that calls a student's helper directly (not through run.call) and meets its
    untouched stub says "not implemented yet" (issue 18), never FAILED; check() is False."""
    from nnlab.checking import ENGINE_HINTS, Table, run_check

    def check_helper(run, helper):
        with run.check("helper(1)"):
            run.call(helper, 1)

    def check_caller(run, caller):
        with run.check("caller(1) is what helper gives"):
            if run.call(caller, 1) != run.context.lookup("helper")(1):
                raise AssertionError("differs")

    table = Table("toy", ("helper", "caller"), {"helper": check_helper, "caller": check_caller},
                  dict(ENGINE_HINTS, shape_error="shapes", key_error="keys"))
    namespace = {}
    exec("def helper(x):\n    raise NotImplementedError()\n", namespace)
    exec("def caller(x):\n    return 2 * x\n", namespace)
    assert run_check(table, None, namespace) is False
    out = capsys.readouterr().out
    assert "FAILED" not in out and "helper: not implemented yet" in out \
        and "caller: cannot be checked yet: it calls helper, which is not implemented yet" \
        in out, out
