# Correct l1_subgradient: a loop over the examples, sign(0) = 0 by comparisons.
def l1_subgradient(X, y, w):
    g = np.zeros(X.shape[1])
    for x_n, y_n in zip(X, y):
        r = float(x_n @ w) - y_n
        if r > 0:
            g += x_n
        elif r < 0:
            g -= x_n
    return g / X.shape[0]
