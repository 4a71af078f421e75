# Bug in fit_l1: the step size lr / sqrt(steps) uses the number of steps instead of t + 1 (constant step).
def fit_l1(X, y, lr=0.5, steps=2000):
    w = np.zeros(X.shape[1])
    history = [l1_loss(X, y, w)]
    best, best_loss = w, history[0]
    for t in range(steps):
        w = w - lr / np.sqrt(steps) * l1_subgradient(X, y, w)
        history.append(l1_loss(X, y, w))
        if history[-1] < best_loss:
            best, best_loss = w, history[-1]
    return best, np.array(history)
