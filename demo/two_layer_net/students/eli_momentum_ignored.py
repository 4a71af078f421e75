"""Demo student: sgd_momentum_step updates the velocity but then steps along the plain
gradient, so momentum has no effect. Loses the sgd_momentum_step tests."""

import numpy as np


def sgd_momentum_step(params, grads, velocity, lr, momentum):
    new_velocity = {k: momentum * velocity[k] - lr * grads[k] for k in params}
    new_params = {k: params[k] - lr * grads[k] for k in params}
    return new_params, new_velocity
