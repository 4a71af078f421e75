# Bug in forward: b2 used in the first layer and b1 in the second. [reaches callers: raises]
def forward(X, params):
    Z1 = compute_layer(X, params["W1"], params["b2"])
    H = relu(Z1)
    Z2 = compute_layer(H, params["W2"], params["b1"])
    return {"Z1": Z1, "H": H, "Z2": Z2, "P": softmax(Z2)}
