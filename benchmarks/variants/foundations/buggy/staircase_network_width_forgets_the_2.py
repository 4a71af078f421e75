# Bug in staircase_network: piece width B / n instead of 2B / n (the pieces cover [-B, 0) only).
def staircase_network(B, heights):
    n = len(heights)
    width = B / n
    b1, W2 = [], []
    for i, height in enumerate(heights):
        b1 += [B - i * width, B - (i + 1) * width]
        W2 += [height, -height]
    return {"W1": np.ones((1, 2 * n)), "b1": np.array(b1, dtype=float),
            "W2": np.array(W2, dtype=float)[:, None], "b2": np.zeros(1)}
