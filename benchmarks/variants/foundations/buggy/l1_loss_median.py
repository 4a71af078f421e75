# Bug in l1_loss: median absolute error instead of the mean.
def l1_loss(X, y, w):
    return float(np.median(np.abs(X @ w - y)))
