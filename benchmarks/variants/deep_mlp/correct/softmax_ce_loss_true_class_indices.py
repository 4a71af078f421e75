# Correct softmax_ce_loss: log-probabilities of the true classes by index, gradient by subtracting 1 there.
def softmax_ce_loss(scores, Y):
    N = len(scores)
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exps = np.exp(shifted)
    sums = exps.sum(axis=1)
    labels = np.argmax(Y, axis=1)
    loss = float(np.mean(np.log(sums) - shifted[np.arange(N), labels]))
    dscores = exps / sums[:, None]
    dscores[np.arange(N), labels] -= 1.0
    return loss, dscores / N
