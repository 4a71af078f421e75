# Bug in l1_subgradient: sign times X, averaged over the wrong axis (features instead of examples): shape (N,). [reaches callers: wrong shape]
def l1_subgradient(X, y, w):
    return np.mean(X * np.sign(X @ w - y)[:, None], axis=1)
