# Bug in forward: converts the weights to float32 by assigning into the caller's params dict. [reaches callers: modifies an input]
def forward(X, params):
    for key in params:
        params[key] = params[key].astype(np.float32)
    Z1 = compute_layer(X, params["W1"], params["b1"])
    H = relu(Z1)
    Z2 = compute_layer(H, params["W2"], params["b2"])
    return {"Z1": Z1, "H": H, "Z2": Z2, "P": softmax(Z2)}
