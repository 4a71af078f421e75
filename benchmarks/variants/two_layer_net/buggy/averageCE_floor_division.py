# Bug in averageCE: floor division // by N.
def averageCE(target, prediction):
    return float(-np.sum(target * np.log(prediction)) // target.shape[0])
