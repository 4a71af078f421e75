# Correct train: the mini-batches yielded by a helper generator of its own (same draws as the notebook's loop), the history by another helper.
def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64, lr=0.05,
          momentum=0.9, seed=0):
    def mini_batches(rng, n):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]

    def record(history, params):
        for split, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
            P = forward(X, params)["P"]
            history[split + "_loss"].append(float(averageCE(Y, P)))
            history[split + "_acc"].append(float(accuracy(Y, P)))

    rng = np.random.default_rng(seed)
    params = init_params(X_train.shape[1], hidden, Y_train.shape[1], rng)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    for _ in range(epochs):
        for rows in mini_batches(rng, len(X_train)):
            grads = backprop(X_train[rows], Y_train[rows], params, forward(X_train[rows], params))
            params, velocity = sgd_momentum_step(params, grads, velocity, lr, momentum)
        record(history, params)
    return params, history
