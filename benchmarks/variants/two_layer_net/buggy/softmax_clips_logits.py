# Bug in softmax: "stabilised" by clipping the logits to [-50, 50] instead of shifting by the max.
def softmax(x):
    e = np.exp(np.clip(x, -50.0, 50.0))
    return e / e.sum(axis=-1, keepdims=True)
