# Bug in fit_l1: range(1, steps) makes steps - 1 updates (history one entry short).
def fit_l1(X, y, lr=0.5, steps=2000):
    w = np.zeros(X.shape[1])
    history = [l1_loss(X, y, w)]
    best, best_loss = w, history[0]
    for t in range(1, steps):
        w = w - lr / np.sqrt(t) * l1_subgradient(X, y, w)
        history.append(l1_loss(X, y, w))
        if history[-1] < best_loss:
            best, best_loss = w, history[-1]
    return best, np.array(history)
