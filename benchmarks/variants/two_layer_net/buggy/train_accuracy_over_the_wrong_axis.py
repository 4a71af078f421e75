# Bug in train: its own accuracy compares argmax over axis 0 (per class) instead of axis 1 (per example).
def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64, lr=0.05,
          momentum=0.9, seed=0):
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
            history[split + "_acc"].append(float(np.mean(P.argmax(axis=0) == Y.argmax(axis=0))))
    return params, history
