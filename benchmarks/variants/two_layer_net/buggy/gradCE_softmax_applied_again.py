# Bug in gradCE: treats the probabilities as logits and applies softmax to them again.
def gradCE(target, prediction):
    e = np.exp(prediction - prediction.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True) - target) / target.shape[0]
