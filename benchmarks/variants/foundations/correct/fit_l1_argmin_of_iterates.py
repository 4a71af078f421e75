# Correct fit_l1: keeps every iterate and returns the one at np.argmin(history) (first on ties).
def fit_l1(X, y, lr=0.5, steps=2000):
    iterates = [np.zeros(X.shape[1])]
    for t in range(1, steps + 1):
        w = iterates[-1]
        iterates.append(w - lr / t ** 0.5 * l1_subgradient(X, y, w))
    history = np.array([l1_loss(X, y, w) for w in iterates])
    return iterates[int(np.argmin(history))], history
