# Bug in softmax_ce_loss: the loss is averaged but the gradient is not divided by N.
def softmax_ce_loss(scores, Y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = scores.shape[0]
    return -float((Y * log_p).sum()) / N, np.exp(log_p) - Y
