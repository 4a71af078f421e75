# Correct affine_backward: tensordot for dW and dX, np.add.reduce for db.
def affine_backward(dZ, cache):
    X, W = cache["X"], cache["W"]
    dX = np.tensordot(dZ, W, axes=([1], [1]))
    dW = np.tensordot(X, dZ, axes=([0], [0]))
    db = np.add.reduce(dZ, axis=0)
    return dX, dW, db
