"""The known mistakes of two_layer_net's forward, backprop and sgd_momentum_step (part of
two_layer_net.MISTAKES): edits of the correct functions written out below."""

from course_under_test import TLN
from known_mistakes import Mistake, demo_source, edited

FORWARD = """
def forward(X, params):
    Z1 = compute_layer(X, params["W1"], params["b1"])
    H = relu(Z1)
    Z2 = compute_layer(H, params["W2"], params["b2"])
    return {"Z1": Z1, "H": H, "Z2": Z2, "P": softmax(Z2)}
"""
BACKPROP = """
def backprop(X, target, params, cache):
    dZ2 = gradCE(target, cache["P"])
    dH = dZ2 @ params["W2"].T
    dZ1 = dH * (cache["Z1"] > 0)
    dW1 = X.T @ dZ1
    db1 = np.sum(dZ1, axis=0)
    dW2 = cache["H"].T @ dZ2
    db2 = np.sum(dZ2, axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
"""
SGD = """
def sgd_momentum_step(params, grads, velocity, lr, momentum):
    new_velocity = {k: momentum * velocity[k] - lr * grads[k] for k in params}
    new_params = {k: params[k] + new_velocity[k] for k in params}
    return new_params, new_velocity
"""

NETWORK_MISTAKES = [
    Mistake("forward_returns_tuple", "forward",
            edited(FORWARD, 'return {"Z1": Z1, "H": H, "Z2": Z2, "P": softmax(Z2)}',
                   "return Z1, H, Z2, softmax(Z2)"),
            fails=("forward_returns_cache", "forward_layers", "forward_random_inputs"),
            hints=("forward_not_dict",)),
    Mistake("forward_lowercase_keys", "forward",
            edited(FORWARD, '{"Z1": Z1, "H": H, "Z2": Z2, "P"',
                   '{"z1": Z1, "h": H, "z2": Z2, "p"'),
            fails=("forward_returns_cache", "forward_layers", "forward_random_inputs"),
            hints=("forward_keys",)),
    Mistake("forward_transposed_Z1", "forward", edited(FORWARD, '{"Z1": Z1,', '{"Z1": Z1.T,'),
            fails=("forward_layers", "forward_random_inputs"), hints=("forward_shapes",)),
    Mistake("forward_stores_relu_as_Z1", "forward", edited(FORWARD, '{"Z1": Z1,', '{"Z1": H,'),
            fails=("forward_layers", "forward_random_inputs"), hints=("forward_Z1_after_relu",)),
    Mistake("forward_forgets_b1", "forward",
            edited(FORWARD, 'compute_layer(X, params["W1"], params["b1"])',
                   'X @ params["W1"]'),
            fails=("forward_layers", "forward_random_inputs"), hints=("forward_Z1",)),
    Mistake("forward_without_relu", "forward", edited(FORWARD, "H = relu(Z1)", "H = Z1"),
            fails=("forward_layers", "forward_random_inputs"), hints=("forward_relu_missing",)),
    Mistake("forward_abs_instead_of_relu", "forward",
            edited(FORWARD, "H = relu(Z1)", "H = np.abs(Z1)"),
            fails=("forward_layers", "forward_random_inputs"), hints=("forward_H",)),
    Mistake("forward_layer2_takes_Z1", "forward",
            edited(FORWARD, 'compute_layer(H, params["W2"]',
                   'compute_layer(Z1, params["W2"]'),
            fails=("forward_layers", "forward_random_inputs"), hints=("forward_layer2_input",)),
    Mistake("forward_forgets_b2", "forward",
            edited(FORWARD, 'Z2 = compute_layer(H, params["W2"], params["b2"])',
                   'Z2 = H @ params["W2"]'),
            fails=("forward_layers", "forward_random_inputs"), hints=("forward_Z2",)),
    Mistake("forward_without_softmax", "forward", edited(FORWARD, '"P": softmax(Z2)', '"P": Z2'),
            fails=("forward_layers", "forward_random_inputs"), hints=("forward_softmax_missing",)),
    Mistake("forward_wrong_P", "forward",
            edited(FORWARD, '"P": softmax(Z2)', '"P": softmax(2 * Z2)'),
            fails=("forward_layers", "forward_random_inputs"), hints=("forward_P",)),
    Mistake("forward_scales_X_in_place", "forward",
            edited(FORWARD, "    Z1 = ", "    X /= 255.0\n    Z1 = "),
            fails=("forward_returns_cache",), hints=("forward_inplace",)),
    Mistake("forward_misspelt_key", "forward", edited(FORWARD, 'params["W1"]', 'params["w1"]'),
            fails=("forward_returns_cache", "forward_layers", "forward_random_inputs"),
            hints=("key_error",)),
    Mistake("forward_without_H", "forward", edited(FORWARD, '"H": H, ', ''),
            fails=("forward_returns_cache", "forward_layers", "forward_random_inputs"),
            hints=("forward_keys",)),
    Mistake("backprop_mask_overwrites_cache_H_seed_000", "backprop",
            """
        def backprop(X, target, params, cache):
            dz2 = gradCE(target, cache["P"])
            dW2 = cache["H"].T @ dz2
            db2 = dz2.sum(axis=0)
            mask = cache["H"]
            mask[mask > 0] = 1
            dz1 = (dz2 @ params["W2"].T) * mask
            return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": dW2, "b2": db2}
        """,
            fails=("backprop_shapes", "backprop_random_inputs"),
            hints=("backprop_mutates_cache",), student="dan_inplace_mask"),
    Mistake("backprop_mask_overwrites_cache_Z1", "backprop",
            edited(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)', """mask = cache["Z1"]
    mask[mask > 0] = 1
    mask[mask < 0] = 0
    dZ1 = dH * mask"""),
            fails=("backprop_shapes", "backprop_random_inputs"),
            hints=("backprop_mutates_cache",)),
    Mistake("backprop_no_relu_mask", "backprop",
            edited(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)', "dZ1 = dH"),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_relu", "backprop_relu_mask_missing")),
    Mistake("backprop_multiplies_by_H", "backprop",
            edited(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)',
                   'dZ1 = dH * cache["H"]'),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_relu", "backprop_relu_not_mask")),
    Mistake("backprop_multiplies_by_Z1", "backprop",
            edited(BACKPROP, 'dZ1 = dH * (cache["Z1"] > 0)',
                   'dZ1 = dH * cache["Z1"]'),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_relu", "backprop_relu_not_mask")),
    Mistake("backprop_divides_by_N_again", "backprop",
            edited(BACKPROP, 'dZ2 = gradCE(target, cache["P"])',
                   'dZ2 = gradCE(target, cache["P"]) / X.shape[0]'),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_double_N",)),
    Mistake("backprop_never_divides_by_N", "backprop",
            edited(BACKPROP, 'dZ2 = gradCE(target, cache["P"])',
                   'dZ2 = cache["P"] - target'),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_N_times",)),
    Mistake("backprop_sign_flipped", "backprop",
            edited(BACKPROP, 'dZ2 = gradCE(target, cache["P"])',
                   'dZ2 = (target - cache["P"]) / len(X)'),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_sign",)),
    Mistake("backprop_W1_transposed", "backprop",
            edited(BACKPROP, "dW1 = X.T @ dZ1", "dW1 = dZ1.T @ X"),
            fails=("backprop_shapes", "backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_transposed",)),
    Mistake("backprop_W2_transposed_square", "backprop",
            edited(BACKPROP, 'dW2 = cache["H"].T @ dZ2', 'dW2 = dZ2.T @ cache["H"]'),
            fails=("backprop_shapes", "backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_transposed",)),
    Mistake("backprop_bias_keepdims", "backprop",
            edited(BACKPROP, "db1 = np.sum(dZ1, axis=0)",
                   "db1 = np.sum(dZ1, axis=0, keepdims=True)"),
            fails=("backprop_shapes", "backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_bias_shape",)),
    Mistake("backprop_bias_mean", "backprop",
            edited(edited(BACKPROP, "db1 = np.sum(dZ1", "db1 = np.mean(dZ1"),
                   "db2 = np.sum(dZ2", "db2 = np.mean(dZ2"),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_bias_mean",)),
    Mistake("backprop_dW2_from_Z1", "backprop",
            edited(BACKPROP, 'dW2 = cache["H"].T', 'dW2 = cache["Z1"].T'),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_layer2",)),
    Mistake("backprop_returns_tuple", "backprop",
            edited(BACKPROP, "    return {", "    return (dW1, db1, dW2, db2)\n    {"),
            fails=("backprop_shapes", "backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_not_dict",)),
    Mistake("backprop_renamed_keys", "backprop",
            edited(BACKPROP, '{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}',
                   '{"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}'),
            fails=("backprop_shapes", "backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_keys",)),
    Mistake("backprop_updates_params", "backprop",
            edited(BACKPROP, "    return {", '    params["W1"] -= 0.1 * dW1\n    return {'),
            fails=("backprop_shapes", "backprop_gradient_check", "backprop_finite_differences"),
            hints=("backprop_mutates_input",)),
    Mistake("backprop_wrong_gradients", "backprop",
            edited(edited(BACKPROP, "dW1 = X.T @ dZ1", "dW1 = 2 * X.T @ dZ1"),
                   'dW2 = cache["H"].T @ dZ2', 'dW2 = 3 * cache["H"].T @ dZ2'),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_fd",)),
    Mistake("backprop_shape_error", "backprop",
            edited(BACKPROP, "dW1 = X.T @ dZ1", "dW1 = X @ dZ1"),
            fails=("backprop_shapes", "backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("shape_error",)),
    Mistake("backprop_mask_on_Z2", "backprop",
            edited(BACKPROP, 'dZ2 = gradCE(target, cache["P"])',
                   'dZ2 = gradCE(target, cache["P"]) * (cache["Z2"] > 0)'),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_layer2",)),
    Mistake("backprop_b1_averaged", "backprop",
            edited(BACKPROP, "db1 = np.sum(dZ1", "db1 = np.mean(dZ1"),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_bias_mean",)),
    Mistake("backprop_dW1_doubled", "backprop",
            edited(BACKPROP, "dW1 = X.T @ dZ1", "dW1 = 2 * X.T @ dZ1"),
            fails=("backprop_gradient_check", "backprop_finite_differences",
                   "backprop_random_inputs"),
            hints=("backprop_fd",)),
    Mistake("sgd_params_ignore_velocity", "sgd_momentum_step",
            edited(SGD, "params[k] + new_velocity[k]",
                   "params[k] - lr * grads[k]"),
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_momentum_ignored",), student="eli_momentum_ignored"),
    Mistake("sgd_params_step_with_old_velocity", "sgd_momentum_step",
            edited(SGD, "params[k] + new_velocity[k]",
                   "params[k] + velocity[k]"),
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_params_before_velocity",)),
    Mistake("sgd_velocity_without_momentum", "sgd_momentum_step",
            edited(SGD, "momentum * velocity[k] - lr", "-lr"),
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_velocity_no_momentum",)),
    Mistake("sgd_velocity_sign_convention", "sgd_momentum_step",
            edited(edited(
        SGD, "momentum * velocity[k] - lr", "momentum * velocity[k] + lr"),
        "params[k] + new_velocity[k]", "params[k] - new_velocity[k]"),
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_velocity_sign",)),
    Mistake("sgd_moves_uphill", "sgd_momentum_step",
            edited(SGD, "momentum * velocity[k] - lr",
                   "momentum * velocity[k] + lr"),
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_uphill",)),
    Mistake("sgd_pytorch_convention", "sgd_momentum_step",
            edited(edited(
        SGD, "momentum * velocity[k] - lr * grads[k]", "momentum * velocity[k] + grads[k]"),
        "params[k] + new_velocity[k]", "params[k] - lr * new_velocity[k]"),
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_other_convention",)),
    Mistake("sgd_returns_old_velocity", "sgd_momentum_step",
            edited(SGD, "return new_params, new_velocity",
                   "return new_params, velocity"),
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_velocity_not_updated",)),
    Mistake("sgd_scales_grads_in_place", "sgd_momentum_step",
            """
        def sgd_momentum_step(params, grads, velocity, lr, momentum):
            for k in params:
                grads[k] *= lr
                velocity[k] = momentum * velocity[k] - grads[k]
                params[k] = params[k] + velocity[k]
            return params, velocity
        """,
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_grads_modified",)),
    Mistake("sgd_returns_only_params", "sgd_momentum_step",
            edited(SGD, "return new_params, new_velocity",
                   "return new_params"),
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_return",)),
    Mistake("sgd_wrong_step", "sgd_momentum_step",
            edited(SGD, "- lr * grads[k]", "- lr * lr * grads[k]"),
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_values",)),
    Mistake("sgd_plain_step_keeps_the_velocity", "sgd_momentum_step",
            """
        def sgd_momentum_step(params, grads, velocity, lr, momentum):
            return {k: params[k] - lr * grads[k] for k in params}, velocity
        """,
            fails=("sgd_momentum_step_two_steps", "sgd_momentum_step_random_inputs"),
            hints=("sgd_velocity_not_updated",)),
]
