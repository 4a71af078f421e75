# Bug in affine_backward: dX = dZ @ W without the transpose. [reaches callers: raises]
def affine_backward(dZ, cache):
    dX = dZ @ cache["W"]
    dW = cache["X"].T @ dZ
    db = dZ.sum(axis=0)
    return dX, dW, db
