# Bug in train_mlp: shuffles with an unseeded np.random.default_rng() (init uses the seed, the batch order does not).
def train_mlp(X_train, Y_train, X_test, Y_test, sizes, activations, scheme="he", epochs=3,
              batch_size=64, lr=0.05, momentum=0.9, seed=0):
    rng = np.random.default_rng()
    params = init_mlp(sizes, scheme, seed)
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [],
               "grad_norms": []}
    L, N = len(sizes) - 1, X_train.shape[0]
    for _ in range(epochs):
        order = rng.permutation(N)
        norms, steps = np.zeros(L), 0
        for start in range(0, N, batch_size):
            batch = order[start:start + batch_size]
            scores, caches = mlp_forward(X_train[batch], params, activations)
            _, dscores = softmax_ce_loss(scores, Y_train[batch])
            grads = mlp_backward(dscores, caches, params, activations)
            for name in params:
                velocity[name] = momentum * velocity[name] - lr * grads[name]
                params[name] = params[name] + velocity[name]
            norms += [np.linalg.norm(grads[f"W{l}"]) for l in range(1, L + 1)]
            steps += 1
        history["grad_norms"].append([float(v) for v in norms / steps])
        for split, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
            scores, _ = mlp_forward(X, params, activations)
            loss, _ = softmax_ce_loss(scores, Y)
            history[f"{split}_loss"].append(float(loss))
            history[f"{split}_acc"].append(float((scores.argmax(1) == Y.argmax(1)).mean()))
    return params, history
