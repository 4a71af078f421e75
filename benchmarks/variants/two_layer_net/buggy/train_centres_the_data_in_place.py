# Bug in train: centres the inputs in place (X_train -= mean, X_test -= mean), modifying the caller's arrays. [reaches callers: modifies an input]
def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64, lr=0.05,
          momentum=0.9, seed=0):
    mean = X_train.mean(axis=0)
    X_train -= mean
    X_test -= mean
    rng = np.random.default_rng(seed)
    params = init_params(X_train.shape[1], hidden, Y_train.shape[1], rng)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    for _ in range(epochs):
        order = rng.permutation(len(X_train))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            cache = forward(X_train[batch], params)
            grads = backprop(X_train[batch], Y_train[batch], params, cache)
            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)
        for split, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
            P = forward(X, params)["P"]
            history[split + "_loss"].append(averageCE(Y, P))
            history[split + "_acc"].append(accuracy(Y, P))
    return params, history
