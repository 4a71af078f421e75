"""Self-checks of section 2: parameter counts and convolution output sizes.

Same engine as ``checks.graph``: ``with run.check("what"):`` blocks, ``run.call`` for
student code, ``Failure(got, hints)`` naming keys of HINTS.
"""

import numpy as np

from nnlab.checking import Failure, is_close
from nnlab.foundations import handout
from nnlab.testing import describe

HINTS = {
    # count_parameters
    "count_parameters_values": "each layer maps n_in inputs to n_out outputs with n_in * "
                               "n_out weights and n_out biases; add this up over the layers "
                               "(consecutive pairs of layer_sizes).",
    "count_no_biases": "only the weights are counted: every layer also has one bias per "
                       "output unit (n_out of them).",
    "count_bias_per_input": "the biases are counted per input unit: a layer has one bias per "
                            "output unit, n_out, not n_in.",
    "count_one_bias_per_layer": "a layer has one bias per output unit (n_out), not one bias "
                                "per layer.",
    "count_units": "that is the number of units, not of parameters: a layer from n_in to "
                   "n_out units has n_in * n_out + n_out parameters.",
    "count_layers": "a layer is missed: L + 1 sizes give L layers, one per consecutive pair "
                    "(layer_sizes[i], layer_sizes[i + 1]), the last pair included.",
    "count_not_int": "return an int: a count has no fractional part (use int arithmetic, no "
                     "np.prod of floats or division).",
    "count_inplace": "count_parameters changed the list it was given.",
    # conv_output_size
    "conv_output_size_values": "the output size is floor((n + 2 * padding - kernel) / "
                               "stride) + 1.",
    "conv_no_padding": "the padding is left out: padding adds zeros at both ends of the "
                       "axis, so the padded input has n + 2 * padding entries.",
    "conv_padding_once": "padding adds zeros at both ends: n + 2 * padding, not n + padding.",
    "conv_no_floor": "the division is not rounded down: a window that would stick out past "
                     "the end is not used, so take floor((n + 2p - k) / s) + 1 (integer "
                     "division //).",
    "conv_ceil": "round down, not up: a window that would stick out past the padded input is "
                 "not used (floor((n + 2p - k) / s) + 1).",
    "conv_plus_one": "the + 1 is missing: (n + 2p - k) / s counts the steps between window "
                     "positions; there is one more position than steps.",
    "conv_stride": "the stride is ignored: the window moves by `stride` entries each time, so "
                   "divide (n + 2p - k) by the stride.",
    "conv_not_int": "return an int: use // (floor division) and int values, not / and a "
                    "float.",
}


def _check_count_parameters(run, count_parameters):
    sizes = list(handout.MLP_LAYER_SIZES)
    with run.check("count_parameters((30, 1024, 512, 1)), which is 557,057"):
        given = list(sizes)
        count = run.call(count_parameters, given)
        if given != sizes:
            raise Failure("layer_sizes was changed", ("count_inplace",))
        _count_verdict(count, sizes, handout.MLP_PARAMETERS)
    for sizes, expected in (([784, 30, 10], 23860), ([5, 3], 18), ([2, 2, 2, 2, 2], 24)):
        with run.check(f"count_parameters({sizes})"):
            _count_verdict(run.call(count_parameters, list(sizes)), sizes, expected)


def _count_verdict(count, sizes, expected):
    if count is None:
        raise Failure("returned None", ("no_return",))
    if not isinstance(count, (int, float, np.integer, np.floating)) or isinstance(count, bool):
        raise Failure(f"returned {describe(count)}", ("not_numbers",))
    if count == expected and not isinstance(count, (int, np.integer)):
        raise Failure(f"returned {count!r}, a {type(count).__name__}", ("count_not_int",))
    if count == expected:
        return
    pairs = list(zip(sizes[:-1], sizes[1:]))
    weights = sum(a * b for a, b in pairs)
    variants = {
        weights: "count_no_biases",
        weights + sum(a for a, _ in pairs): "count_bias_per_input",
        weights + len(pairs): "count_one_bias_per_layer",
        sum(sizes): "count_units",
        expected - pairs[-1][0] * pairs[-1][1] - pairs[-1][1]: "count_layers",
        expected - pairs[0][0] * pairs[0][1] - pairs[0][1]: "count_layers",
    }
    hint = variants.get(count, "count_parameters_values")
    raise Failure(f"returned {count}, expected {expected}", (hint,))


def _check_conv_output_size(run, conv_output_size):
    examples = handout.CONV_EXAMPLES
    with run.check("conv_output_size on the notebook's five examples"):
        sizes = [run.call(conv_output_size, n, k, s, p) for n, k, s, p, _ in examples]
        for size in sizes:
            if size is None:
                raise Failure("returned None", ("no_return",))
            if not isinstance(size, (int, float, np.integer, np.floating)) \
                    or isinstance(size, bool):
                raise Failure(f"returned {describe(size)}", ("not_numbers",))
        expected = [out for *_, out in examples]
        if sizes != expected:
            got = "; ".join(f"n={n}, kernel={k}, stride={s}, padding={p}: {size} (expected "
                            f"{out})" for (n, k, s, p, out), size in zip(examples, sizes)
                            if size != out)
            raise Failure(got, (_conv_mistake(sizes, examples),))
        floats = [size for size in sizes if not isinstance(size, (int, np.integer))]
        if floats:
            raise Failure(f"returned {floats[0]!r}, a {type(floats[0]).__name__}",
                           ("conv_not_int",))
    with run.check("conv_output_size(32, 5) uses stride 1 and padding 0 by default"):
        size = run.call(conv_output_size, 32, 5)
        if size != 28:
            raise Failure(f"returned {size!r}, expected 28", ("conv_output_size_values",))


def _conv_mistake(sizes, examples):
    """The hint of the wrong formula that gives all of ``sizes``."""
    variants = {
        "conv_no_padding": lambda n, k, s, p: (n - k) // s + 1,
        "conv_padding_once": lambda n, k, s, p: (n + p - k) // s + 1,
        "conv_no_floor": lambda n, k, s, p: (n + 2 * p - k) / s + 1,
        "conv_ceil": lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1,
        "conv_plus_one": lambda n, k, s, p: (n + 2 * p - k) // s,
        "conv_stride": lambda n, k, s, p: n + 2 * p - k + 1,
    }
    for hint, formula in variants.items():
        if is_close(sizes, [formula(*example[:4]) for example in examples]):
            return hint
    return "conv_output_size_values"


CHECKERS = {
    "count_parameters": _check_count_parameters,
    "conv_output_size": _check_conv_output_size,
}
