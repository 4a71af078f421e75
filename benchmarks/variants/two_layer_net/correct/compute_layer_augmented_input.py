# Correct compute_layer: a column of ones appended to X and b stacked under W.
def compute_layer(X, W, b):
    ones = np.ones((X.shape[0], 1))
    return np.hstack([X, ones]) @ np.vstack([W, np.reshape(b, (1, -1))])
