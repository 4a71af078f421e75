# Correct forward: everything inline (no compute_layer, relu or softmax calls), softmax by log-sum-exp.
def forward(X, params):
    Z1 = X @ params["W1"] + params["b1"]
    H = np.maximum(Z1, 0.0)
    Z2 = H @ params["W2"] + params["b2"]
    top = Z2.max(axis=1, keepdims=True)
    P = np.exp(Z2 - top - np.log(np.exp(Z2 - top).sum(axis=1, keepdims=True)))
    return {"Z1": Z1, "H": H, "Z2": Z2, "P": P}
