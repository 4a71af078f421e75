# Correct staircase_network: interleaved units by column_stack and ravel.
def staircase_network(B, heights):
    heights = np.asarray(heights, dtype=float)
    edges = np.linspace(-B, B, len(heights) + 1)
    b1 = -np.column_stack([edges[:-1], edges[1:]]).ravel()
    W2 = np.column_stack([heights, -heights]).reshape(-1, 1)
    return {"W1": np.ones((1, 2 * len(heights))), "b1": b1, "W2": W2, "b2": np.zeros(1)}
