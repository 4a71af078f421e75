# Bug in l1_loss: w made a column, so X @ w is (N, 1) and "- y" broadcasts to an (N, N) matrix.
def l1_loss(X, y, w):
    predictions = X @ w.reshape(-1, 1)
    return float(np.mean(np.abs(predictions - y)))
