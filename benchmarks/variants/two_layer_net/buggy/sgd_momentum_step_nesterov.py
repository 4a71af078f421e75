# Bug in sgd_momentum_step: a Nesterov-style step (theta + momentum v_new - lr g) instead of theta + v_new.
def sgd_momentum_step(params, grads, velocity, lr, momentum):
    new_velocity = {k: momentum * velocity[k] - lr * grads[k] for k in params}
    new_params = {k: params[k] + momentum * new_velocity[k] - lr * grads[k] for k in params}
    return new_params, new_velocity
