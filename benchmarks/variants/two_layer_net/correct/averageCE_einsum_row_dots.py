# Correct averageCE: each row's dot product of the target with log(P) by einsum, P floored at the smallest float, then the mean.
def averageCE(target, prediction):
    log_p = np.log(np.clip(prediction, np.finfo(float).tiny, None))
    return float(-np.mean(np.einsum("nk,nk->n", target, log_p)))
