# Correct averageCE: with one-hot targets, sum_k t_k p_k is the true class's probability; mean of -log of it.
def averageCE(target, prediction):
    p_true = np.sum(target * prediction, axis=1)
    return float(-np.mean(np.log(p_true)))
