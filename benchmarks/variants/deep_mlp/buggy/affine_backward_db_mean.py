# Bug in affine_backward: db averaged over the batch (dZ already carries the 1/N).
def affine_backward(dZ, cache):
    dX = dZ @ cache["W"].T
    dW = cache["X"].T @ dZ
    db = dZ.mean(axis=0)
    return dX, dW, db
