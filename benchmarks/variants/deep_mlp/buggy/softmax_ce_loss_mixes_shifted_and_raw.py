# Bug in softmax_ce_loss: log-probabilities from the raw scores minus the log-sum of the shifted ones.
def softmax_ce_loss(scores, Y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = scores - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = scores.shape[0]
    return -float((Y * log_p).sum()) / N, (np.exp(log_p) - Y) / N
