# Correct sgd_momentum_step: copies of params and velocity, updated in place with multiply/subtract.
def sgd_momentum_step(params, grads, velocity, lr, momentum):
    new_params = {k: np.array(v, dtype=float) for k, v in params.items()}
    new_velocity = {k: np.array(v, dtype=float) for k, v in velocity.items()}
    for k in new_params:
        np.multiply(new_velocity[k], momentum, out=new_velocity[k])
        np.subtract(new_velocity[k], lr * grads[k], out=new_velocity[k])
        np.add(new_params[k], new_velocity[k], out=new_params[k])
    return new_params, new_velocity
