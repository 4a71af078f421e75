# Bug in sgd_momentum_step: the velocity kept in one loop variable, so every key gets the last key's velocity. [reaches callers: wrong shape]
def sgd_momentum_step(params, grads, velocity, lr, momentum):
    new_params = {}
    for k in params:
        v = momentum * velocity[k] - lr * grads[k]
        new_params[k] = params[k] + v
    return new_params, {k: v for k in params}
