# Bug in l1_subgradient: residual = y then residual -= X @ w modifies the caller's y in place. [reaches callers: modifies an input]
def l1_subgradient(X, y, w):
    residual = y
    residual -= X @ w
    return -X.T @ np.sign(residual) / X.shape[0]
