# Bug in averageCE: keepdims leaves a (1, 1) array instead of a Python float. [reaches callers: wrong shape]
def averageCE(target, prediction):
    return -np.sum(target * np.log(prediction), keepdims=True) / target.shape[0]
