# Bug in compute_layer: parenthesis slip X @ (W + b): b broadcasts onto every row of W.
def compute_layer(X, W, b):
    return X @ (W + b)
