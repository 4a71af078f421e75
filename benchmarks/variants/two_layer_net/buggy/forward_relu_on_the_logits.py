# Bug in forward: applies ReLU to the logits too, P = softmax(relu(Z2)).
def forward(X, params):
    Z1 = compute_layer(X, params["W1"], params["b1"])
    H = relu(Z1)
    Z2 = compute_layer(H, params["W2"], params["b2"])
    return {"Z1": Z1, "H": H, "Z2": Z2, "P": softmax(relu(Z2))}
